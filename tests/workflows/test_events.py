"""Domain events: what a case's steps publish, in the step's transaction, and the department
notifications that go out through the outbox.

Runs on SQLite and PostgreSQL (when configured), straight and restored at every step.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.events import EventKind
from engine.models import InstanceEvent, OutboxMessage
from tests.conftest import ROOT
from workflows.cases import flows
from workflows.departments.service import by_code
from workflows.errors import DomainError
from workflows.events import (
    CaseClosed,
    CaseEventKind,
    CaseMerged,
    CaseOpened,
    Deadline,
    DeadlinePassed,
    DeadlineWarned,
    StatusChanged,
    SupervisionOpened,
    TaskCompleted,
    TaskReady,
)
from workflows.notifications.models import Message as MessageRow
from workflows.notifications.models import Notification
from workflows.notifications.pipeline import NOTIFY_TOPIC
from workflows.users.models import User

from .test_scenarios import accept_reply, call_back, dispatch, reply, sign

EVERY_EVENT = (
    CaseOpened,
    StatusChanged,
    TaskReady,
    TaskCompleted,
    DeadlineWarned,
    DeadlinePassed,
    SupervisionOpened,
    CaseClosed,
    CaseMerged,
)


@pytest.fixture
def published(city):
    """Every event the hotline publishes, as a second subscriber after the built-in ones."""
    seen = []
    for event_type in EVERY_EVENT:
        city.hotline.events.subscribe(event_type, lambda session, event: seen.append(event))
    return seen


def outbox_rows(city) -> list[OutboxMessage]:
    city.session.rollback()
    return list(city.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def notified(city, username: str = "h_mr") -> list[str]:
    """The kinds of the in-app notices one person received, in order."""
    city.session.rollback()
    return list(
        city.session.scalars(
            select(Notification.kind)
            .join(User, User.id == Notification.user_id)
            .where(User.username == username)
            .order_by(Notification.id)
        )
    )


def notices(city) -> list[str]:
    """The notices steps wrote into the outbox, in order."""
    return [r.payload["notice"] for r in outbox_rows(city) if r.topic == NOTIFY_TOPIC]


def test_a_closed_loop_publishes_each_status_change_with_the_status_before(city, published):
    case = city.intake()
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")
    reply(city, case, "h_mr")
    accept_reply(city, case)
    call_back(city, case)
    changes = [(e.from_status, e.to_status) for e in published if type(e) is StatusChanged]
    assert changes == [  # intake opens the case awaiting dispatch (CaseOpened says so)
        ("awaiting_dispatch", "dispatched"),
        ("dispatched", "in_progress"),
        ("in_progress", "replied"),
        ("replied", "awaiting_callback"),
        ("awaiting_callback", "closed"),
    ]
    opened = published[0]
    assert type(opened) is CaseOpened
    assert (opened.case_number, opened.case_type, opened.channel) == (
        case.number,
        "complaint",
        "phone",
    )
    dispatched = next(e for e in published if getattr(e, "to_status", None) == "dispatched")
    assert dispatched.element_id == "sign_for" and dispatched.actor == "disp1"
    assert dispatched.instance_version == 2  # the step saved the instance's second version
    completed = [e.element_id for e in published if type(e) is TaskCompleted]
    assert completed == ["dispatch", "sign_for", "handle", "review_reply", "callback"]
    ready = [e.element_id for e in published if type(e) is TaskReady]
    assert ready == ["dispatch", "sign_for", "handle", "review_reply", "callback"]
    closed = [e for e in published if type(e) is CaseClosed]
    assert [(e.case_number, e.outcome) for e in closed] == [(case.number, "handled")]


def test_a_dispatch_writes_a_notice_in_its_own_transaction(city, deliver):
    case = city.intake()
    assert notices(city) == ["case_accepted", "task_assigned"]  # the receipt; the dispatchers
    dispatch(city, case, "B-MR")
    rows = [r for r in outbox_rows(city) if r.topic == NOTIFY_TOPIC]
    assert [(r.payload["notice"], r.status) for r in rows][2:] == [("dispatched", "pending")]
    department = by_code(city.session, "B-MR")
    assert rows[2].payload["department_id"] == department.id
    assert rows[2].key == f"{NOTIFY_TOPIC}:dispatched:{case.number}:2"
    assert notified(city) == []  # not before a worker delivers it
    deliver()
    assert notified(city) == ["dispatched"]
    assert {r.status for r in outbox_rows(city)} == {"done"}


def test_a_step_that_fails_after_publishing_leaves_no_message(city):
    case = city.intake()
    written = notices(city)

    def refuse(session, event):
        if event.to_status == "dispatched":
            raise DomainError("refused by a subscriber")

    city.hotline.events.subscribe(StatusChanged, refuse)
    with pytest.raises(DomainError, match="refused by a subscriber"):
        dispatch(city, case, "B-MR")
    assert notices(city) == written  # the intake's, nothing of the dispatch
    assert city.case(case).status == "awaiting_dispatch"


def test_deadlines_warned_and_passed_reach_the_department(city, published, deliver):
    case = city.intake()
    dispatch(city, case, "B-MR")
    city.advance(hours=39)  # past the sign-for limit
    sign(city, case, "h_mr")
    c = city.case(case)
    city.clock.set(c.warn_at)
    city.advance(seconds=1)
    city.clock.set(c.reply_due)
    city.advance(seconds=1)
    deadlines = [
        (type(e).__name__, getattr(e, "deadline", None), e.clock)
        for e in published
        if type(e) in (DeadlineWarned, DeadlinePassed)
    ]
    # sign-for's yellow and red cards fire in the one step that jumped past both
    assert sorted(deadlines[:2], key=str) == [
        ("DeadlinePassed", Deadline.SIGN, None),
        ("DeadlineWarned", None, "sign"),
    ]
    assert deadlines[2:] == [  # the reply's yellow, then its red
        ("DeadlineWarned", None, None),
        ("DeadlinePassed", Deadline.REPLY, None),
    ]
    # the reply overdue also opens supervision (the bundled diagrams' supervise step)
    deliver()
    kinds = notified(city)
    assert kinds[0] == "dispatched"
    assert sorted(kinds[1:3]) == ["overdue", "yellow_warning"]  # sign-for's, in one step
    assert kinds[3:] == ["yellow_warning", "overdue", "supervision_order"]


def test_supervision_opened_when_the_diagram_names_the_supervise_step(city, published, deliver):
    xml = (ROOT / "bpmn" / "complaint.bpmn").read_text()
    if 'name="step" value="supervise"' not in xml:
        xml = xml.replace(
            '<spiffworkflow:property name="formKey" value="common/supervise" />',
            '<spiffworkflow:property name="formKey" value="common/supervise" />'
            '<spiffworkflow:property name="step" value="supervise" />',
        )
    city.hotline.runtime.deploy(
        city.session,
        xml.encode(),
        "complaint.bpmn",
        deployed_by="tests",
        form_exists=city.hotline.forms.exists,
    )
    case = city.intake()
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")
    city.clock.set(city.case(case).reply_due)
    city.advance(seconds=1)
    supervised = [e for e in published if type(e) is SupervisionOpened]
    assert [e.element_id for e in supervised] == ["supervise"]
    assert supervised[0].task_id == city.task(case, "supervise").task_id
    ready = [e for e in published if type(e) is TaskReady and e.element_id == "supervise"]
    assert ready[0].step == "supervise"
    deliver()
    assert notified(city) == ["dispatched", "yellow_warning", "overdue", "supervision_order"]


def test_a_merge_publishes_the_duplicates_status_change_and_its_closing(city, published):
    master = city.intake()
    duplicate = city.intake(caller_phone="13900139000")
    dispatch(city, master, "B-MR")
    flows.merge_case(
        city.session,
        city.hotline,
        duplicate_number=duplicate.number,
        master_number=master.number,
        user=city.user("disp1"),
    )
    merged = [e for e in published if type(e) is CaseMerged]
    assert [(e.case_number, e.master_number, e.from_status) for e in merged] == [
        (duplicate.number, master.number, "awaiting_dispatch")
    ]
    sign(city, master, "h_mr")
    reply(city, master, "h_mr")
    accept_reply(city, master)
    call_back(city, master)
    closed = {e.case_number: e.outcome for e in published if type(e) is CaseClosed}
    assert closed == {master.number: "handled", duplicate.number: "merged"}
    duplicate_changes = [
        (e.from_status, e.to_status)
        for e in published
        if type(e) is StatusChanged and e.case_number == duplicate.number
    ]
    assert duplicate_changes[-2:] == [("awaiting_dispatch", "merged"), ("merged", "closed")]


def test_a_failing_fan_out_retries_with_backoff_becomes_an_incident_and_is_retried(city, deliver):
    case = city.intake()
    deliver()
    dispatch(city, case, "B-MR")
    outbox = city.hotline.runtime.outbox
    real = outbox.handlers[NOTIFY_TOPIC]
    outbox.handlers[NOTIFY_TOPIC] = lambda session, message: 1 / 0
    assert deliver().retried == 1
    city.clock.advance(timedelta(seconds=29))
    assert deliver().claimed == 0
    city.clock.advance(timedelta(seconds=1))
    assert deliver().retried == 1
    city.clock.advance(timedelta(seconds=59))  # the backoff doubles
    assert deliver().claimed == 0
    city.clock.advance(timedelta(seconds=1))
    assert deliver().incidents == 1  # (and the alert it wrote failed too: same handler)
    message = next(r for r in outbox_rows(city) if r.status == "incident")
    assert (message.payload["notice"], message.attempts) == ("dispatched", 3)
    assert message.last_error == "ZeroDivisionError: division by zero"
    assert notified(city) == []
    # the administrators were told (the incident notice itself is a message like others)
    assert notices(city)[-1] == "incident"
    outbox.handlers[NOTIFY_TOPIC] = real
    outbox.retry(city.session, message.id)
    deliver()
    assert notified(city) == ["dispatched"]
    city.clock.advance(timedelta(seconds=30))  # the alert's own retry
    deliver()
    assert notified(city, "admin") == ["incident"]


def test_a_notice_fanned_out_twice_makes_one_notification_and_one_message_each(city, deliver):
    case = city.intake()
    dispatch(city, case, "B-MR")
    deliver()
    message = next(r for r in outbox_rows(city) if r.payload.get("notice") == "case_accepted")
    city.session.rollback()
    before = city.session.scalar(select(func.count()).select_from(MessageRow))
    # as if a worker had lost its lease after delivering: the message is handled again
    handler = city.hotline.runtime.outbox.handlers[NOTIFY_TOPIC]
    from engine.db import unit_of_work
    from engine.outbox import Message

    for m in (message, next(r for r in outbox_rows(city) if r.key.startswith("notify:disp"))):
        with unit_of_work(city.session):
            handler(city.session, Message(m.id, m.topic, m.key, m.payload, 0))
    assert city.session.scalar(select(func.count()).select_from(MessageRow)) == before
    assert notified(city) == ["dispatched"]


def test_every_stored_event_kind_is_a_member_of_the_enums(city):
    case = city.intake()
    dispatch(city, case, "B-MR")
    city.advance(hours=39)
    sign(city, case, "h_mr")
    flows.add_note(city.session, city.hotline, number=case.number, user=city.user("sup1"), body="x")
    reply(city, case, "h_mr")
    accept_reply(city, case)
    call_back(city, case)
    city.session.rollback()
    kinds = set(city.session.scalars(select(InstanceEvent.kind).distinct()))
    known = {str(k) for k in EventKind} | {str(k) for k in CaseEventKind}
    assert kinds <= known, kinds - known
    assert all(re.fullmatch(r"[a-z]+\.[a-z_]+", k) for k in known)
    assert city.session.scalar(select(func.count()).select_from(InstanceEvent)) > 10
