"""Supervision from the pages: a supervisor chases or orders a case from its page (late or
not), and many cases at once from the overdue and escalated lists; the department answers
from its inbox, and the answer shows on the case's timeline; the centre lead gets an ignored
order."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import HumanTask
from tests.webapp.pages import csrf_token
from tests.webapp.test_cases_pages import (
    EN,
    act,
    advance,
    case_row,
    dispatched,
    numbers_on,
    open_case,
)
from webapp.extensions import db


def signed(app, lead="B-MR", handler="h_mr", **intake) -> str:
    number = dispatched(app, lead=lead, **intake)
    act(app, number, "sign_for", handler, {"action": "sign"})
    return number


def ready_steps(app, number: str) -> list[str]:
    with app.app_context():
        instance = case_row(app, number).instance_id
        return sorted(
            db.session.scalars(
                select(HumanTask.kind).where(
                    HumanTask.instance_id == instance, HumanTask.state == "ready"
                )
            )
        )


def test_an_order_from_the_case_page_reaches_the_department_and_its_answer_shows(
    hotline_app, as_role
):
    number = signed(hotline_app)  # in progress, not late
    supervisor = as_role("supervisor")
    page = supervisor.get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    assert 'id="supervise"' in page and "Supervision order" in page
    token = csrf_token(supervisor, f"/cases/{number}")
    response = supervisor.post(
        f"/supervision/cases/{number}",
        data={"action": "supervision_order", "note": "请两日内书面答复", "csrf_token": token},
        headers=EN,
    )
    assert response.status_code == 302
    page = supervisor.get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    assert "Supervision order sent" in page
    assert "Supervision order: the department must answer in writing" in page
    assert "请两日内书面答复" in page
    assert "answer_supervision" in ready_steps(hotline_app, number)

    handler = as_role("handler")
    inbox = handler.get("/inbox", headers=EN).get_data(as_text=True)
    assert "Answer supervision" in inbox
    with hotline_app.app_context():
        task_id = db.session.scalar(
            select(HumanTask.task_id).where(
                HumanTask.kind == "answer_supervision", HumanTask.state == "ready"
            )
        )
    assert f"/tasks/{task_id}" in inbox
    task_page = handler.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "督办单" in task_page and "请两日内书面答复" in task_page  # what to answer
    token = csrf_token(handler, f"/tasks/{task_id}")
    refused = handler.post(f"/tasks/{task_id}", data={"answer": "", "csrf_token": token})
    assert refused.status_code in (400, 422)
    done = handler.post(
        f"/tasks/{task_id}", data={"answer": "已约谈商户，限期三日整改", "csrf_token": token}
    )
    assert done.status_code in (302, 303)
    assert "answer_supervision" not in ready_steps(hotline_app, number)
    page = supervisor.get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    assert "已约谈商户，限期三日整改" in page


def test_a_bad_note_or_a_closed_case_is_refused_on_the_case_page(hotline_app, as_role):
    number = signed(hotline_app)
    supervisor = as_role("supervisor")
    token = csrf_token(supervisor, f"/cases/{number}")
    response = supervisor.post(
        f"/supervision/cases/{number}",
        data={"action": "supervision_order", "note": "  ", "csrf_token": token},
        headers=EN,
    )
    assert response.status_code == 302
    page = supervisor.get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    assert "Instructions: This field is required." in page
    assert ready_steps(hotline_app, number) == ["handle"]
    answered = open_case(hotline_app, intake_outcome="answered", answer="已当场解答")
    assert 'id="supervise"' not in supervisor.get(f"/cases/{answered}").get_data(as_text=True)
    supervisor.post(
        f"/supervision/cases/{answered}",
        data={"action": "chase_notice", "note": "催办", "csrf_token": token},
    )
    page = supervisor.get(f"/cases/{answered}").get_data(as_text=True)
    assert "案件已办结" in page
    # a handler has no such panel, and may not post it
    handler = as_role("handler")
    assert 'id="supervise"' not in handler.get(f"/cases/{number}").get_data(as_text=True)
    token = csrf_token(handler, f"/cases/{number}")
    assert (
        handler.post(
            f"/supervision/cases/{number}",
            data={"action": "chase_notice", "note": "x", "csrf_token": token},
        ).status_code
        == 403
    )


def test_many_at_once_from_the_overdue_list_reports_each_case(hotline_app, as_role, clock):
    late_a = signed(hotline_app)
    late_b = signed(hotline_app, lead="B-HU", handler="h_hu", category="物业管理")
    closed = open_case(hotline_app, intake_outcome="answered", answer="已当场解答")
    clock.set(case_row(hotline_app, late_a).reply_due)
    advance(hotline_app, clock, hours=1)
    supervisor = as_role("supervisor")
    html = supervisor.get("/supervision/overdue", headers=EN).get_data(as_text=True)
    assert {late_a, late_b} <= numbers_on(html)
    assert f'name="numbers" value="{late_a}" form="bulk"' in html
    token = csrf_token(supervisor, "/supervision/overdue")
    response = supervisor.post(
        "/supervision/actions",
        data={
            "numbers": [late_a, closed, late_b],
            "action": "supervision_order",
            "note": "集中督办：请今日书面答复",
            "back": "overdue",
            "csrf_token": token,
        },
        headers=EN,
    )
    assert response.status_code == 200
    result = response.get_data(as_text=True)
    assert "2 of 3 cases done." in result
    assert f'data-number="{closed}" data-done="no"' in result
    assert "the case is closed" in result
    assert f'data-number="{late_a}" data-done="yes"' in result
    assert "answer_supervision" in ready_steps(hotline_app, late_a)
    assert "answer_supervision" in ready_steps(hotline_app, late_b)

    # chase from the escalated list: a timeline entry, no task
    token = csrf_token(supervisor, "/supervision/escalated")
    response = supervisor.post(
        "/supervision/actions",
        data={"numbers": [late_a], "action": "chase_notice", "note": "请加快", "back": "escalated",
              "csrf_token": token},
        headers=EN,
    )  # fmt: skip
    assert "1 of 1 cases done." in response.get_data(as_text=True)
    assert 'href="/supervision/escalated"' in response.get_data(as_text=True)
    page = supervisor.get(f"/cases/{late_a}", headers=EN).get_data(as_text=True)
    assert "Chase notice to the department" in page and "请加快" in page


def test_bad_input_on_the_list_sends_nothing_and_names_the_fields(hotline_app, as_role):
    number = signed(hotline_app)
    supervisor = as_role("supervisor")
    token = csrf_token(supervisor, "/supervision/overdue")
    response = supervisor.post(
        "/supervision/actions",
        data={"action": "shout", "note": "", "csrf_token": token},
        headers=EN,
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-field="numbers"' in html and 'data-field="action"' in html
    assert 'data-field="note"' in html and "Nothing was sent" in html
    assert ready_steps(hotline_app, number) == ["handle"]


def test_an_ignored_order_reaches_the_centre_lead_in_its_inbox(hotline_app, as_role, clock):
    number = signed(hotline_app)
    supervisor = as_role("supervisor")
    token = csrf_token(supervisor, f"/cases/{number}")
    supervisor.post(
        f"/supervision/cases/{number}",
        data={"action": "supervision_order", "note": "请答复", "csrf_token": token},
    )
    with hotline_app.app_context():
        due = db.session.scalar(
            select(HumanTask.due_at).where(HumanTask.kind == "answer_supervision")
        )
    clock.set(due)
    advance(hotline_app, clock, minutes=1)
    assert "lead_supervise" in ready_steps(hotline_app, number)
    lead = as_role("supervisor", username="lead1")
    inbox = lead.get("/inbox", headers=EN)
    assert inbox.status_code == 200
    assert "Lead supervision" in inbox.get_data(as_text=True)
    html = supervisor.get("/supervision/escalated?mark=task_overdue", headers=EN)
    page = html.get_data(as_text=True)
    assert number in numbers_on(page)
    assert "Task overdue: Answer supervision" in page


def test_a_late_dispatch_is_on_the_overdue_list(hotline_app, as_role, clock):
    waiting = open_case(hotline_app)
    supervisor = as_role("supervisor")
    assert waiting not in numbers_on(supervisor.get("/supervision/overdue").get_data(as_text=True))
    advance(hotline_app, clock, hours=3)  # past the dispatch task's two working hours
    html = supervisor.get("/supervision/overdue", headers=EN).get_data(as_text=True)
    assert waiting in numbers_on(html)
    assert "Task overdue: Dispatch" in html
    # not dispatched: it has no department to chase
    token = csrf_token(supervisor, "/supervision/overdue")
    response = supervisor.post(
        "/supervision/actions",
        data={"numbers": [waiting], "action": "chase_notice", "note": "x", "csrf_token": token},
        headers=EN,
    )
    assert "0 of 1 cases done." in response.get_data(as_text=True)
    assert "not been dispatched yet" in response.get_data(as_text=True)
