"""Citizens' SMS replies in the domain: a survey answer recorded as the case's callback (closed,
or reopened per the policy), TD/KT, text kept for a person, unmatched numbers, a repeated post,
and one transaction for all of it. Straight and restored at every step (``mode``)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.db import unit_of_work
from workflows.cases.models import CallbackAttempt, Case, CaseNote
from workflows.notifications import inbound, sms_replies
from workflows.notifications.inbound import parse_reply, receive_sms
from workflows.notifications.models import Message, SmsInbound, SmsOptOut
from workflows.policy.models import DeadlinePolicy

from .test_callback import awaiting_callback
from .test_notify_pipeline import Keeper

PHONE = "13800138000"  # the caller of tests.workflows.conftest.INTAKE


@pytest.mark.parametrize(
    ("text", "kind", "digit"),
    [
        ("1", "survey", "1"),
        (" 2 ", "survey", "2"),
        ("３", "survey", "3"),
        ("１满意", "survey", "1"),
        ("2 基本满意", "survey", "2"),
        ("3不满意。", "survey", "3"),
        ("1 Satisfied", "survey", "1"),
        ("2, basically  satisfied!", "survey", "2"),
        ("3 unsatisfied", "survey", "3"),
        ("1不满意", "text", ""),
        ("3 satisfied", "text", ""),
        ("1 路灯修好了", "text", ""),  # the words contradict the digit: a person reads it
        ("12", "text", ""),
        ("TD", "optout", ""),
        ("td", "optout", ""),
        ("退订", "optout", ""),
        ("ＴＤ", "optout", ""),
        ("KT", "optin", ""),
        ("kt ", "optin", ""),
        ("路灯还是没修好", "text", ""),
    ],
)
def test_what_a_reply_says(text, kind, digit):
    reply = parse_reply(text)
    assert (reply.kind, reply.digit) == (kind, digit)


def survey_sent(city, case, *, phone=PHONE, status="sent", notice="survey") -> None:
    """The survey SMS as the notification pipeline logs it."""
    c = city.case(case)
    now = city.clock.now()
    with unit_of_work(city.session):
        city.session.add(
            Message(
                key=str(uuid.uuid4()),
                channel="sms",
                notice=notice,
                audience="citizen",
                recipient=phone,
                case_id=c.id,
                status=status,
                event_at=now,
                created_at=now,
            )
        )


def sms(city, text, *, phone=PHONE, at=None):
    return receive_sms(city.session, city.hotline, phone=phone, body=text, received_at=at)


def attempts(city, case):
    c = city.case(case)
    return city.session.scalars(
        select(CallbackAttempt).where(CallbackAttempt.case_id == c.id).order_by(CallbackAttempt.id)
    ).all()


def notes(city, case):
    c = city.case(case)
    return city.session.scalars(select(CaseNote).where(CaseNote.case_id == c.id)).all()


def set_reopens(city, case, value: bool) -> None:
    c = city.case(case)
    with unit_of_work(city.session):
        for row in city.session.scalars(
            select(DeadlinePolicy).where(
                DeadlinePolicy.case_type == c.case_type, DeadlinePolicy.urgency == c.urgency
            )
        ):
            row.sms_unsatisfied_reopens = value


def test_a_1_closes_the_case_satisfied_as_a_callback(city):
    case = awaiting_callback(city)
    survey_sent(city, case)
    received = sms(city, "1", phone="+86 138-0013-8000")  # however the gateway writes it
    assert (received.row.kind, received.row.status) == ("survey", "done")
    assert received.case_number == case.number
    c = city.case(case)
    assert (c.status, c.outcome, c.satisfaction, c.resolved) == (
        "closed",
        "handled",
        "satisfied",
        True,
    )
    [attempt] = attempts(city, case)
    assert (attempt.user, attempt.result, attempt.note) == ("sms", "reached", "短信回访：回复1")
    assert "callback recorded: satisfied" in received.row.result


def test_a_2_is_basically_satisfied_and_resolved(city):
    case = awaiting_callback(city)
    survey_sent(city, case, status="recorded")
    sms(city, "２ 基本满意")
    c = city.case(case)
    assert (c.status, c.satisfaction, c.resolved) == ("closed", "basically_satisfied", True)


def test_a_3_closes_unsatisfied_unless_the_policy_reopens(city):
    case = awaiting_callback(city)
    survey_sent(city, case)
    received = sms(city, "3")
    c = city.case(case)
    assert (c.status, c.satisfaction, c.resolved, c.reopen_count) == (
        "closed",
        "unsatisfied",
        False,
        0,
    )
    assert received.row.extra["reopen"] is False


def test_a_3_reopens_the_case_when_the_policy_says_so(city):
    case = awaiting_callback(city)
    set_reopens(city, case, True)
    survey_sent(city, case)
    received = sms(city, "3不满意")
    c = city.case(case)
    assert c.status == "in_progress" and c.reopen_count == 1
    assert received.row.result == "callback recorded: unsatisfied, case reopened"
    # handled again, the case comes back to a callback: a phone call closes it then
    assert (attempts(city, case)[0].user, attempts(city, case)[0].note) == (
        "sms",
        "短信回访：回复3",
    )


def test_the_newest_surveyed_case_of_the_number_gets_the_answer(city):
    older = awaiting_callback(city)
    survey_sent(city, older)
    city.advance(hours=1)
    newer = awaiting_callback(city)
    survey_sent(city, newer)
    assert sms(city, "1").case_number == newer.number
    assert city.case(newer).status == "closed"
    assert city.case(older).status == "awaiting_callback"


def test_a_survey_not_sent_to_this_number_does_not_match(city):
    case = awaiting_callback(city)
    survey_sent(city, case, phone="13900000000")  # another number (an earlier caller's)
    received = sms(city, "1")
    # the case has message rows, so it is not an older case: the answer is for a person
    assert city.case(case).status == "awaiting_callback"
    assert (received.row.kind, received.row.status) == ("text", "open")


def test_older_cases_without_messages_match_within_30_days(city):
    case = awaiting_callback(city)  # no message rows at all: from before SMS surveys
    assert sms(city, "1").case_number == case.number
    assert city.case(case).status == "closed"

    late = awaiting_callback(city)
    city.clock.advance(timedelta(days=31))
    received = sms(city, "1")
    assert city.case(late).status == "awaiting_callback"
    assert (received.row.kind, received.row.status) == ("unmatched", "open")


def test_a_digit_after_the_callback_is_kept_as_text_for_a_person(city):
    case = awaiting_callback(city)
    survey_sent(city, case)
    sms(city, "1")
    city.advance(minutes=5)
    again = sms(city, "2")
    assert (again.row.kind, again.row.status, again.case_number) == ("text", "open", case.number)
    assert "no callback waiting" in again.row.result
    assert city.case(case).satisfaction == "satisfied"  # unchanged
    assert [n.body for n in notes(city, case)] == ["2"]


def test_a_callback_claimed_by_a_person_is_left_to_them(city):
    case = awaiting_callback(city)
    survey_sent(city, case)
    task = city.task(case, "callback")
    with unit_of_work(city.session):
        city.session.get(type(task), task.id).assignee = "cb1"
    received = sms(city, "1")
    assert (received.row.kind, received.row.status) == ("text", "open")
    assert "cb1 has claimed the callback" in received.row.result
    assert city.case(case).status == "awaiting_callback"


def test_a_refused_callback_leaves_nothing_of_it_and_keeps_the_text(city, monkeypatch):
    case = awaiting_callback(city)
    survey_sent(city, case)
    from workflows.errors import DomainError

    def refuse(*args, **kwargs):
        raise DomainError("the engine said no")

    monkeypatch.setattr(inbound.flows, "complete_task", refuse)
    received = sms(city, "1")
    assert (received.row.kind, received.row.status) == ("text", "open")
    assert "could not be recorded: the engine said no" in received.row.result
    assert city.case(case).status == "awaiting_callback" and attempts(city, case) == []


def test_a_failure_leaves_nothing_half_done(city, monkeypatch):
    case = awaiting_callback(city)
    survey_sent(city, case)

    def broken(*args, **kwargs):
        raise RuntimeError("the audit log is full")

    monkeypatch.setattr(inbound, "append", broken)
    with pytest.raises(RuntimeError):
        sms(city, "1")
    city.session.expire_all()
    assert city.case(case).status == "awaiting_callback" and attempts(city, case) == []
    assert city.session.scalar(select(func.count()).select_from(SmsInbound)) == 0


def test_td_opts_out_and_kt_opts_back_in(city):
    received = sms(city, "TD", phone="+86 139 0223 1234")
    assert (received.row.kind, received.row.status, received.row.from_phone) == (
        "optout",
        "done",
        "13902231234",
    )
    assert city.session.get(SmsOptOut, "13902231234") is not None
    sms(city, "退订", phone="13902231234")  # twice: still one row
    assert city.session.scalar(select(func.count()).select_from(SmsOptOut)) == 1
    back = sms(city, "KT", phone="13902231234")
    assert (back.row.kind, back.row.status) == ("optin", "done")
    city.session.expire_all()
    assert city.session.get(SmsOptOut, "13902231234") is None


def test_text_becomes_a_note_on_the_case_and_an_open_item(city):
    case = awaiting_callback(city)
    survey_sent(city, case)
    received = sms(city, "餐馆又开门了，还是很脏")
    assert (received.row.kind, received.row.status, received.case_number) == (
        "text",
        "open",
        case.number,
    )
    [note] = notes(city, case)
    assert (note.author, note.kind, note.body) == ("sms", "sms_reply", "餐馆又开门了，还是很脏")
    assert "case.note" in city.events(case)
    assert city.case(case).status == "awaiting_callback"
    assert sms_replies.count_open(city.session) == 1


def test_a_number_without_cases_is_unmatched_and_open(city):
    received = sms(city, "你好，请问怎么投诉", phone="13700001111")
    assert (received.row.kind, received.row.status, received.row.case_id) == (
        "unmatched",
        "open",
        None,
    )


def test_the_same_sms_posted_twice_is_one_record(city):
    case = awaiting_callback(city)
    survey_sent(city, case)
    at = city.clock.now() - timedelta(minutes=1)
    first = sms(city, "1", at=at)
    second = sms(city, "1", at=at)
    assert second.duplicate and second.row.id == first.row.id
    assert second.case_number == case.number
    assert city.session.scalar(select(func.count()).select_from(SmsInbound)) == 1
    assert len(attempts(city, case)) == 1


def test_the_system_user_is_a_callback_agent_without_a_password(city):
    case = awaiting_callback(city)
    survey_sent(city, case)
    sms(city, "1")
    from workflows.users.models import User

    user = city.session.scalars(select(User).where(User.username == "sms")).one()
    assert (user.role, user.password_hash, user.department_id) == ("callback", "", None)
    sms(city, "KT", phone="13700001111")
    assert (
        city.session.scalar(select(func.count()).select_from(User).where(User.username == "sms"))
        == 1
    )
    assert city.session.scalar(select(func.count()).select_from(Case)) == 1


def test_the_same_sms_posted_at_once_twice_is_one_record(city, database):
    """Two gateway retries in flight together: one waits for the other (SQLite's one writer,
    PostgreSQL's lock on the number), then finds its record."""
    import threading

    case = awaiting_callback(city)
    survey_sent(city, case)
    at = city.clock.now()
    start = threading.Barrier(2)
    results, errors = [], []

    def post() -> None:
        with database.session() as session:
            start.wait()
            try:
                received = receive_sms(session, city.hotline, phone=PHONE, body="1", received_at=at)
                results.append((received.row.id, received.duplicate))
            except Exception as exc:  # reported below
                errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(d for _, d in results) == [False, True] and len({i for i, _ in results}) == 1
    city.session.expire_all()
    assert city.session.scalar(select(func.count()).select_from(SmsInbound)) == 1
    assert len(attempts(city, case)) == 1 and city.case(case).status == "closed"


# -- with the real notification pipeline ------------------------------------------------------


@pytest.fixture
def channels(city):
    """Senders that keep what they are given (as in test_notify_pipeline.py)."""
    keepers = {name: Keeper(name) for name in ("sms", "email", "webhook")}
    for keeper in keepers.values():
        city.hotline.notify.senders.set(keeper)
    return keepers


@pytest.fixture
def deliver(city, database):
    """Drain the outbox as the worker does."""
    from engine.outbox import OutboxService

    service = OutboxService(
        city.hotline.runtime.outbox, database.session, clock=city.clock, owner="test"
    )

    def run():
        city.session.rollback()
        return service.drain()

    return run


def test_the_pipelines_survey_is_answered_and_the_citizen_hears_the_case_closed(
    city, channels, deliver
):
    case = awaiting_callback(city)
    deliver()
    [survey] = [o for o in channels["sms"].sent if o.id.startswith("survey:")]
    assert survey.to == PHONE
    received = sms(city, "1")
    assert (received.row.kind, received.case_number) == ("survey", case.number)
    assert city.case(case).status == "closed"
    deliver()
    assert channels["sms"].sent[-1].id.startswith("closed:")


def test_after_td_the_pipeline_sends_the_number_nothing(city, channels, deliver):
    case = awaiting_callback(city)
    deliver()
    sent = len(channels["sms"].sent)
    sms(city, "TD")
    city.act(case, "callback", "cb1", {"satisfaction": "satisfied", "resolved": "yes"})
    deliver()
    assert len([o for o in channels["sms"].sent[sent:] if o.to == PHONE]) == 0
    city.session.rollback()
    closed = city.session.scalars(
        select(Message).where(Message.notice == "case_closed", Message.recipient == PHONE)
    ).one()
    assert (closed.status, closed.reason) == ("suppressed", "the citizen replied TD (opted out)")
