"""Staged and centre replies: an interim reply (阶段性答复) while the handling task stays open,
and the centre taking a case itself (中心自办) through the same sign-for, handling, deadlines
and callback. Straight and restored at every step (``mode``)."""

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.errors import ConflictError
from workflows.cases import flows
from workflows.cases.claims import claim_task
from workflows.cases.models import CaseNote
from workflows.departments.service import by_code
from workflows.errors import DomainError, Forbidden, FormInvalid
from workflows.events import InterimReplied
from workflows.users.models import Role
from workflows.users.service import create_user

from .test_scenarios import accept_reply, call_back, dispatch, local, reply, sign


def interim(city, case, username, body, step="handle"):
    task = city.task(case, step)
    return flows.send_interim_reply(
        city.session, city.hotline, task_id=task.task_id, body=body, user=city.user(username)
    )


@pytest.fixture
def published(city):
    seen: list[InterimReplied] = []
    city.hotline.events.subscribe(InterimReplied, lambda session, event: seen.append(event))
    return seen


def test_an_interim_reply_keeps_the_handling_task_open(city, published):
    case = city.intake()
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")
    handle = city.task(case, "handle").task_id
    city.advance(days=3)
    note = interim(city, case, "h_mr", "  已到现场核查，正在约谈商家，预计下周给出处理结果  ")
    c = city.case(case)
    assert c.status == "in_progress" and c.replied_at is None
    assert city.task(case, "handle").task_id == handle  # the same task, still waiting
    assert note.kind == flows.INTERIM_REPLY and note.body.startswith("已到现场核查")
    assert note.department_id == by_code(city.session, "B-MR").id
    assert "case.interim_reply" in city.events(case)
    [event] = published
    assert (event.case_number, event.task_id, event.department_code, event.note_id) == (
        case.number,
        handle,
        "B-MR",
        note.id,
    )
    assert event.body == note.body and event.actor == "h_mr" and event.at == city.clock.now()
    city.advance(days=2)
    interim(city, case, "h_mr", "商家已整改，等待复查")
    assert [n.body for n in flows.interim_replies(city.session, case=city.case(case))] == [
        note.body,
        "商家已整改，等待复查",
    ]
    reply(city, case, "h_mr")
    accept_reply(city, case)
    call_back(city, case)
    c = city.case(case)
    assert c.status == "closed" and c.reply_text == "已处理完毕，已责令整改"
    assert city.events(case).count("case.interim_reply") == 2


def test_bad_interim_replies_are_refused_and_change_nothing(city, published):
    case = city.intake()
    dispatch(city, case, "B-MR")
    with pytest.raises(DomainError, match="interim|阶段性答复"):  # signing for is not handling
        interim(city, case, "h_mr", "先说一下进展", step="sign_for")
    sign(city, case, "h_mr")
    with pytest.raises(FormInvalid) as empty:
        interim(city, case, "h_mr", "   ")
    assert list(empty.value.errors) == ["body"]
    with pytest.raises(FormInvalid) as long:
        interim(city, case, "h_mr", "进" * (flows.INTERIM_REPLY_MAX + 1))
    assert "2001" in " ".join(long.value.errors["body"])
    with pytest.raises(Forbidden):  # another department's handler does not hold the task
        interim(city, case, "h_hu", "我来答复")
    # claimed by a colleague: only the claimant speaks for the unit
    with unit_of_work(city.session):
        create_user(
            city.session,
            username="h_mr2",
            display_name="市场监管局 二号",
            role=Role.HANDLER,
            clock=city.clock,
            department=by_code(city.session, "B-MR"),
        )
    claim_task(
        city.session,
        task_id=city.task(case, "handle").task_id,
        user=city.user("h_mr2"),
        clock=city.clock,
        runtime=city.hotline.runtime,
    )
    with pytest.raises(ConflictError, match="claimed by h_mr2"):
        interim(city, case, "h_mr", "进展说明")
    interim(city, case, "h_mr2", "进展说明")  # the claimant may
    handle = city.task(case, "handle")
    reply(city, case, "h_mr2")
    with pytest.raises(DomainError, match="not waiting"):  # the task is done
        flows.send_interim_reply(
            city.session,
            city.hotline,
            task_id=handle.task_id,
            body="再补充一句",
            user=city.user("h_mr2"),
        )
    notes = city.session.scalars(select(CaseNote).where(CaseNote.kind == flows.INTERIM_REPLY))
    assert [n.author for n in notes] == ["h_mr2"]
    assert len(published) == 1 and city.events(case).count("case.interim_reply") == 1


def test_the_dispatch_form_offers_the_centre_as_a_lead_unit(city):
    context = flows.form_context(city.session, city.hotline, form_key="common/dispatch")
    codes = [o["value"] for o in context["departments"]]
    assert "CENTRE" in codes and "CITY" not in codes
    centre = by_code(city.session, "CENTRE")
    assert centre.name == "市12345中心自办" and not centre.is_platform
    assert city.user("centre1").department_id == centre.id


def test_the_centre_takes_a_returned_case_itself_and_closes_it(city):
    """A unit returns the case; the centre researches it itself and replies a second time,
    with the deadlines a department has and the same callback."""
    case = city.intake(case_type="help", category="社保医保")
    dispatch(city, case, "B-HR")
    city.act(case, "sign_for", "h_hr", {"action": "return", "return_reason": "需中心协调多部门"})
    city.act(case, "review_return", "disp1", {"decision": "approve"})
    assert city.case(case).status == "awaiting_dispatch"
    dispatch(city, case, "CENTRE")
    c = city.case(case)
    assert c.status == "dispatched" and c.lead_department_id == by_code(city.session, "CENTRE").id
    other = city.intake(case_type="help", category="社保医保")
    dispatch(city, other, "B-HR")
    o = city.case(other)
    # the same deadlines as any lead unit dispatched at the same moment
    assert (local(c.sign_due), local(c.reply_due)) == (local(o.sign_due), local(o.reply_due))
    with pytest.raises(Forbidden):  # the bureau that returned it no longer holds it
        sign(city, case, "h_hr")
    sign(city, case, "centre1")
    interim(city, case, "centre1", "中心已牵头协调人社、医保部门，正在核实")
    city.advance(days=1)
    reply(city, case, "centre1", "经中心协调，已为您办理社保转移接续")
    c = city.case(case)
    if c.status == "replied":
        accept_reply(city, case)
    assert city.case(case).status == "awaiting_callback"
    call_back(city, case)
    c = city.case(case)
    assert (c.status, c.outcome, c.satisfaction) == ("closed", "handled", "satisfied")
    assert c.replied_at <= c.reply_due and c.signed_at <= c.sign_due


def test_the_centre_handles_a_complaint_with_review_and_reopen(city):
    case = city.intake()
    dispatch(city, case, "CENTRE")
    sign(city, case, "centre1")
    reply(city, case, "centre1")
    assert city.case(case).status == "replied"  # the platform reviews the centre's reply too
    accept_reply(city, case)
    call_back(city, case, "unsatisfied", reopen=True)
    c = city.case(case)
    assert c.status == "in_progress" and c.reopen_count == 1
    reply(city, case, "centre1", "中心再次调查后答复")
    accept_reply(city, case)
    call_back(city, case)
    assert city.case(case).status == "closed"
