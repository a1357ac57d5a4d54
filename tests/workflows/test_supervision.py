"""Supervision that reaches the unit, straight and restored at every step (``mode``): a
supervision order gives the lead department a task with its own deadline and a required
written answer; ignored past it, the order reaches the centre's lead (lead1); chase notices
and orders on many cases at once report each case."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import NotFound
from engine.models import HumanTask, OutboxMessage
from workflows.errors import Forbidden, FormInvalid
from workflows.events import CaseChased, CaseEventKind, SupervisionOrdered
from workflows.supervision import flows as supervision
from workflows.supervision.flows import Refusal, SupervisionRefused

from .test_scenarios import accept_reply, call_back, dispatch, local, reply, sign


def order(city, case, note="请两个工作日内书面答复办理情况", user="sup1"):
    return supervision.supervise_case(
        city.session,
        city.hotline,
        number=case.number,
        action="supervision_order",
        note=note,
        user=city.user(user),
    )


def signed_case(city, lead="B-MR", handler="h_mr"):
    case = city.intake()
    dispatch(city, case, lead)
    sign(city, case, handler)
    return case


def kinds(city, case):
    return [t.kind for t in city.ready(case)]


def test_an_order_gives_the_department_a_task_with_a_deadline_and_the_answer_closes_it(city):
    case = signed_case(city)  # not overdue: an order needs no red card
    assert city.case(case).due_state == "normal"
    order(city, case)
    task = city.task(case, "answer_supervision")
    assert (task.lane, task.candidate_group) == ("handler", "B-MR")
    # the end of the second working day from Monday 09:00 (policy "supervision")
    assert local(task.due_at) == "2026-03-04T23:59:59+08:00"
    assert city.case(case).status == "in_progress"  # the case stays where it was
    assert "handle" in kinds(city, case)
    with pytest.raises(FormInvalid) as refused:
        city.act(case, "answer_supervision", "h_mr", {"answer": ""})
    assert "answer" in refused.value.errors
    city.act(case, "answer_supervision", "h_mr", {"answer": "已约谈商户，三日内整改完毕"})
    assert "answer_supervision" not in kinds(city, case)
    events = city.events(case)
    assert "signal.received" in events
    assert events.count(CaseEventKind.TASK_OVERDUE) == 0
    # the case goes on to its end as before; the order leaves nothing open
    reply(city, case, "h_mr")
    accept_reply(city, case)
    call_back(city, case)
    assert city.case(case).status == "closed"


def test_an_ignored_order_goes_to_the_centre_lead_and_the_answer_stays_due(city):
    case = signed_case(city)
    order(city, case)
    due = city.task(case, "answer_supervision").due_at
    city.clock.set(due)
    city.advance(seconds=1)
    assert CaseEventKind.TASK_OVERDUE in city.events(case)
    lead = city.task(case, "lead_supervise")
    assert lead.lane == "lead" and lead.due_at is not None
    assert local(lead.due_at) == "2026-03-06T23:59:59+08:00"  # one working day ("review")
    assert "answer_supervision" in kinds(city, case)
    with pytest.raises(FormInvalid):
        city.act(case, "lead_supervise", "lead1", {"instruction": ""})
    city.act(case, "lead_supervise", "lead1", {"instruction": "责成市场监管局今日答复"})
    assert "lead_supervise" not in kinds(city, case)
    assert "answer_supervision" in kinds(city, case)
    city.act(case, "answer_supervision", "h_mr", {"answer": "已整改"})
    assert set(kinds(city, case)) == {"handle"}


def test_two_orders_are_two_tasks(city):
    case = signed_case(city)
    order(city, case, "第一次督办")
    city.advance(hours=1)
    order(city, case, "第二次督办")
    assert kinds(city, case).count("answer_supervision") == 2
    assert city.case(case).supervision_order_count == 2  # what the evaluation counts


def test_the_red_card_supervise_task_has_a_clock_and_its_order_reaches_the_unit(city):
    case = signed_case(city)
    city.clock.set(city.case(case).reply_due)
    city.advance(seconds=1)
    supervise = city.task(case, "supervise")
    assert supervise.due_at is not None
    city.act(case, "supervise", "sup1", {"action": "supervision_order", "note": "请今日答复"})
    task = city.task(case, "answer_supervision")
    assert task.candidate_group == "B-MR" and task.due_at is not None
    city.act(case, "answer_supervision", "h_mr", {"answer": "今日已答复市民"})
    assert "answer_supervision" not in kinds(city, case)


def test_a_chase_notice_is_on_the_timeline_and_notifies_the_department(city):
    case = signed_case(city)
    seen = []
    city.hotline.events.subscribe(CaseChased, lambda s, e: seen.append(e.note))
    supervision.supervise_case(
        city.session,
        city.hotline,
        number=case.number,
        action="chase_notice",
        note="请加快办理",
        user=city.user("sup1"),
    )
    assert CaseEventKind.CHASED in city.events(case)
    assert seen == ["请加快办理"]
    notices = city.session.scalars(select(OutboxMessage.payload)).all()
    chased = [n for n in notices if n.get("notice") == "supervision_order"]
    assert [n["values"]["note"] for n in chased] == ["请加快办理"]
    assert kinds(city, case) == ["handle"]


def test_many_at_once_reports_each_case_and_does_the_rest(city):
    open_a, open_b = signed_case(city), signed_case(city, "B-HU", "h_hu")
    closed = city.intake(intake_outcome="answered", answer="已当场解答")
    waiting = city.intake()  # not dispatched yet
    ordered = []
    city.hotline.events.subscribe(SupervisionOrdered, lambda s, e: ordered.append(e.case_number))
    outcomes = supervision.supervise_cases(
        city.session,
        city.hotline,
        numbers=[open_a.number, closed.number, "20990101-0001", waiting.number, open_b.number],
        action="supervision_order",
        note="集中督办",
        user=city.user("sup1"),
    )
    assert [(o.number, o.done, o.reason) for o in outcomes] == [
        (open_a.number, True, None),
        (closed.number, False, Refusal.CLOSED),
        ("20990101-0001", False, Refusal.NOT_FOUND),
        (waiting.number, False, Refusal.NOT_DISPATCHED),
        (open_b.number, True, None),
    ]
    assert ordered == [open_a.number, open_b.number]
    assert "answer_supervision" in kinds(city, open_a)
    assert "answer_supervision" in kinds(city, open_b)
    assert city.task(open_b, "answer_supervision").candidate_group == "B-HU"
    assert "signal.received" not in city.events(closed)
    notices = city.session.scalars(select(OutboxMessage.key)).all()
    assert sum(k.startswith(f"notify:order:{open_a.number}:") for k in notices) == 1
    assert not any(closed.number in k for k in notices)


def test_bad_input_and_roles_are_refused_before_anything(city):
    case = signed_case(city)
    call = dict(session=city.session, hotline=city.hotline)
    with pytest.raises(FormInvalid) as bad:
        supervision.supervise_cases(
            **call, numbers=[], action="shout", note=" ", user=city.user("sup1")
        )
    assert set(bad.value.errors) == {"numbers", "action", "note"}
    with pytest.raises(Forbidden):
        supervision.supervise_case(
            **call, number=case.number, action="chase_notice", note="x", user=city.user("h_mr")
        )
    closed = city.intake(intake_outcome="answered", answer="已当场解答")
    with pytest.raises(SupervisionRefused) as refused:
        order(city, closed)
    assert refused.value.reason == Refusal.CLOSED
    with pytest.raises(NotFound):
        supervision.supervise_case(
            **call, number="20990101-0001", action="chase_notice", note="x", user=city.user("sup1")
        )
    ready = city.session.scalars(
        select(HumanTask).where(HumanTask.kind == "answer_supervision")
    ).all()
    assert ready == []


@pytest.mark.parametrize("named", [2000, 1], ids=["ids-named", "subquery"])
def test_the_overdue_list_holds_a_late_dispatch_and_an_unanswered_order(city, named, monkeypatch):
    """The same list whether PostgreSQL gets the late instances by name or, past
    ``NAMED_LATE`` of them, as a subquery (SQLite always takes the subquery)."""
    from workflows.kpi.service import count_overdue_now, overdue_now
    from workflows.supervision import service

    monkeypatch.setattr(service, "NAMED_LATE", named)

    waiting = city.intake()  # its dispatch task is due in two working hours
    ordered = signed_case(city)
    order(city, ordered)
    critical = city.intake(urgency="critical")
    now = city.clock.now()
    assert overdue_now(city.session, as_of=now) == []
    city.advance(days=3)  # past the dispatch tasks' and the order's own deadlines
    now = city.clock.now()
    listed = [c.number for c in overdue_now(city.session, as_of=now)]
    # critical first, then by the earliest deadline
    assert listed[0] == critical.number
    assert set(listed) == {waiting.number, ordered.number, critical.number}
    assert count_overdue_now(city.session, as_of=now) == 3
    city.act(ordered, "answer_supervision", "h_mr", {"answer": "已答复"})
    listed = [c.number for c in overdue_now(city.session, as_of=now)]
    assert ordered.number not in listed


def without_supervision_orders(xml: bytes) -> bytes:
    """The complaint diagram as drawn before supervision orders had a sub-process (a case
    still running on such a version cannot take an order)."""
    from lxml import etree

    root = etree.fromstring(xml)
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    (sub,) = root.findall(".//bpmn:subProcess", ns)
    gone = {el.get("id") for el in sub.iter() if isinstance(el.tag, str) and el.get("id")}
    sub.getparent().remove(sub)
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        if el.get("bpmnElement") in gone or (
            etree.QName(el).localname == "flowNodeRef" and el.text in gone
        ):
            el.getparent().remove(el)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_case_on_a_version_without_orders_is_reported_and_unchanged(city):
    from tests.conftest import ROOT

    xml = without_supervision_orders((ROOT / "bpmn" / "complaint.bpmn").read_bytes())
    (outcome,) = city.hotline.runtime.deploy(
        city.session, xml, "complaint.bpmn", deployed_by="tests",
        form_exists=city.hotline.forms.exists,
    )  # fmt: skip
    assert outcome.version == 2
    old = signed_case(city)
    before = city.events(old)
    outcomes = supervision.supervise_cases(
        city.session,
        city.hotline,
        numbers=[old.number],
        action="supervision_order",
        note="督办",
        user=city.user("sup1"),
    )
    assert [(o.done, o.reason) for o in outcomes] == [(False, Refusal.NOT_SUPPORTED)]
    assert city.events(old) == before
    assert kinds(city, old) == ["handle"]


def test_late_tasks_are_read_in_chunks(city, monkeypatch):
    from workflows.supervision import service

    monkeypatch.setattr(service, "CHUNK", 1)
    cases = [city.intake(), city.intake(), city.intake()]
    city.advance(hours=3)  # past the dispatch tasks' own deadlines
    ids = [city.case(c).instance_id for c in cases]
    late = service.late_tasks(city.session, instance_ids=ids, as_of=city.clock.now())
    assert late == {i: ["dispatch"] for i in ids}
    assert service.late_tasks(city.session, instance_ids=[], as_of=city.clock.now()) == {}


def test_an_order_on_one_case_leaves_the_next_cases_of_its_diagram_alone(city):
    """Starting an event sub-process must not change the parsed diagram that every instance
    of the version shares: a case answered at intake after an order on another case still
    closes at once (SpiffWorkflow connected the sub-process to the process's start in the
    shared spec, and the next cases waited for it forever)."""
    ordered = signed_case(city)
    order(city, ordered)
    order(city, ordered, note="再次督办")
    answered = city.intake(intake_outcome="answered", answer="已当场解答")
    assert city.case(answered).status == "closed"
    later = city.intake()
    dispatch(city, later, "B-MR")
    sign(city, later, "h_mr")
    reply(city, later, "h_mr")
    accept_reply(city, later)
    call_back(city, later)
    assert city.case(later).status == "closed"
    assert "answer_supervision" not in kinds(city, later)
    # the ordered case still has its two orders to answer, and ends as before
    assert kinds(city, ordered).count("answer_supervision") == 2
