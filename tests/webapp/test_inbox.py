"""Inboxes, the dispatcher's queues and the task page, driven through the pages."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import HumanTask, InstanceEvent
from tests.webapp.pages import post
from tests.webapp.test_intake import INTAKE, case_row, field_html, open_case
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases import flows
from workflows.cases import service as cases
from workflows.cases.inbox import inbox_count, inbox_counts
from workflows.cases.models import Case
from workflows.users.service import by_username

ROLES = ("operator", "dispatcher", "handler", "supervisor", "admin")
EN = {"Accept-Language": "en"}


def ready_task(app, number: str, element: str) -> str:
    with app.app_context():
        instance = db.session.scalar(select(Case.instance_id).where(Case.number == number))
        task_id = db.session.scalar(
            select(HumanTask.task_id).where(
                HumanTask.instance_id == instance,
                HumanTask.element_id == element,
                HumanTask.state == "ready",
            )
        )
    assert task_id, f"{element} of {number} is not ready"
    return task_id


def act(app, number: str, element: str, username: str, data: dict) -> None:
    """One step through the domain (to set a case up; the pages are tested elsewhere)."""
    task_id = ready_task(app, number, element)
    with app.app_context():
        flows.complete_task(
            db.session,
            get_hotline(),
            task_id=task_id,
            data=data,
            user=by_username(db.session, username),
        )


def dispatched(app, lead: str = "B-MR", **intake) -> str:
    number = open_case(app, **intake)
    act(app, number, "dispatch", "disp1", {"lead_department": lead})
    return number


def task_link(html: str, number: str) -> str:
    """The task page linked from the inbox row of case ``number``."""
    match = re.search(rf'href="/cases/{number}">.*?href="(/tasks/[0-9a-f-]+)[^"]*"', html, re.S)
    assert match, f"no task for {number}"
    return match.group(1).replace("&amp;", "&")


def submit(client, path: str, data: dict, **kwargs):
    """Submit a task page's form with its hidden fields (version, seen events, way back)."""
    html = client.get(path).get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    hidden.pop("lang", None)
    hidden.pop("next", None)
    return client.post(path, data={**hidden, **data}, **kwargs)


def fire_timers(app) -> None:
    with app.app_context():
        get_hotline().runtime.fire_due_timers(db.session)


# -- who may see what -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, allowed",
    [("/inbox", {"dispatcher", "handler", "supervisor"}), ("/queues", {"dispatcher"})],
)
def test_lists_answer_their_roles_only(hotline_app, as_role, path, allowed):
    response = hotline_app.test_client().get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    for role in ROLES:
        assert as_role(role).get(path).status_code == (200 if role in allowed else 403), role
        assert as_role(role).get(path + "?format=csv").status_code == (
            200 if role in allowed else 403
        ), role


def test_a_task_page_answers_only_who_can_act_on_it(hotline_app, as_role):
    number = open_case(hotline_app)
    path = f"/tasks/{ready_task(hotline_app, number, 'dispatch')}"
    assert hotline_app.test_client().get(path).status_code == 302
    for role in ROLES:
        # a handler: the case is no department's yet, so (as for the API) no such task: 404
        expected = {"dispatcher": 200, "handler": 404}.get(role, 403)
        assert as_role(role).get(path).status_code == expected, role
        if role != "dispatcher":
            response = post(as_role(role), path, {"lead_department": "B-MR"}, token_from=path)
            assert response.status_code == expected, role
    # a district dispatcher is a dispatcher, but not of this platform
    assert as_role("dispatcher", username="disp_pj").get(path).status_code == 403
    assert (
        as_role("dispatcher").get("/tasks/00000000-0000-0000-0000-000000000000").status_code == 404
    )
    assert as_role("dispatcher").get("/tasks/not-a-task").status_code == 404


def test_a_handler_sees_only_its_departments_tasks(hotline_app, as_role):
    mine = dispatched(hotline_app, "B-MR")
    theirs = dispatched(
        hotline_app, "B-UM", category="噪音扰民", description="夜里施工很吵，睡不着"
    )
    h_mr = as_role("handler")
    html = h_mr.get("/inbox").get_data(as_text=True)
    assert mine in html and theirs not in html
    assert theirs not in h_mr.get("/inbox?format=csv").get_data(as_text=True)
    other = f"/tasks/{ready_task(hotline_app, theirs, 'sign_for')}"
    assert h_mr.get(other).status_code == 404
    assert post(h_mr, other, {"action": "sign"}, token_from="/inbox").status_code == 404
    assert case_row(hotline_app, theirs).status == "dispatched"
    h_um = as_role("handler", username="h_um")
    assert theirs in h_um.get("/inbox").get_data(as_text=True)
    assert h_um.get(other).status_code == 200


def test_a_task_post_without_the_csrf_token_is_refused(hotline_app, as_role):
    number = open_case(hotline_app)
    path = f"/tasks/{ready_task(hotline_app, number, 'dispatch')}"
    assert as_role("dispatcher").post(path, data={"lead_department": "B-MR"}).status_code == 400
    assert case_row(hotline_app, number).status == "awaiting_dispatch"


# -- the closed loop through the pages ------------------------------------------------------


def test_the_closed_loop_through_the_pages(hotline_app, as_role, clock):
    operator = as_role("operator")
    assert post(operator, "/intake", INTAKE, token_from="/intake").status_code == 303
    number = "2026030200001"

    disp1 = as_role("dispatcher")
    queue = disp1.get("/queues").get_data(as_text=True)
    assert number in queue
    page = task_link(queue, number)
    html = disp1.get(page).get_data(as_text=True)
    assert "13800138000" in html and "小区门口餐馆卫生很差" in html  # the case summary
    assert re.search(r'value="B-MR" selected', field_html(html, "lead_department"))  # suggested
    response = submit(disp1, page, {"lead_department": "B-MR", "co_departments": ["B-UM"]})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/queues")
    assert case_row(hotline_app, number).status == "dispatched"

    clock.advance(timedelta(hours=2))
    h_mr = as_role("handler")
    page = task_link(h_mr.get("/inbox").get_data(as_text=True), number)
    html = h_mr.get(page).get_data(as_text=True)
    assert "市场监督管理局" in html and "城市管理和综合执法局" in html  # lead and co
    response = submit(h_mr, page, {"action": "sign"})
    assert response.status_code == 303 and response.headers["Location"] == "/inbox"
    assert case_row(hotline_app, number).status == "in_progress"

    clock.advance(timedelta(days=1))
    h_um = as_role("handler", "h_um")  # the co-handling unit sends its part first
    co_page = task_link(h_um.get("/inbox").get_data(as_text=True), number)
    assert submit(h_um, co_page, {"cohandle_text": "已劝离门前占道摊贩"}).status_code == 303
    page = task_link(h_mr.get("/inbox").get_data(as_text=True), number)
    response = submit(
        h_mr,
        page,
        {"action": "reply", "reply_text": "已现场检查，责令停业整改", "result": "resolved"},
    )
    assert response.status_code == 303
    assert case_row(hotline_app, number).status == "replied"

    page = task_link(disp1.get("/queues?queue=review_reply").get_data(as_text=True), number)
    html = disp1.get(page).get_data(as_text=True)
    assert "已现场检查，责令停业整改" in html  # the reply under review
    assert submit(disp1, page, {"decision": "accept"}).status_code == 303
    assert case_row(hotline_app, number).status == "awaiting_callback"

    assert number not in as_role("supervisor").get("/inbox").get_data(as_text=True)
    cb1 = as_role("callback")
    page = task_link(cb1.get("/inbox").get_data(as_text=True), number)
    html = cb1.get(page).get_data(as_text=True)
    assert "已现场检查，责令停业整改" in html  # the previous reply
    response = submit(
        cb1,
        page,
        {
            "contact_result": "reached",
            "satisfaction": "satisfied",
            "resolved": "yes",
            "callback_note": "市民表示满意",
        },
    )
    assert response.status_code == 303
    flash = cb1.get("/inbox").get_data(as_text=True)
    assert f"工单 {number}：已完成“回访”，当前状态：已办结。" in flash
    case = case_row(hotline_app, number)
    assert (case.status, case.satisfaction, case.resolved) == ("closed", "satisfied", True)
    assert number not in cb1.get("/inbox").get_data(as_text=True)


def test_a_return_without_a_reason_keeps_the_action(hotline_app, as_role):
    number = dispatched(hotline_app)
    h_mr = as_role("handler")
    page = f"/tasks/{ready_task(hotline_app, number, 'sign_for')}"
    response = submit(h_mr, page, {"action": "return", "return_reason": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="field-error"' in field_html(html, "return_reason")
    assert re.search(r'value="return" checked', field_html(html, "action"))
    assert not re.search(r'value="sign" checked', field_html(html, "action"))
    assert case_row(hotline_app, number).status == "dispatched"
    # with a reason it goes back to the dispatcher, who sees the reason
    response = submit(h_mr, page, {"action": "return", "return_reason": "不属于本单位职责范围"})
    assert response.status_code == 303
    disp1 = as_role("dispatcher")
    queue = disp1.get("/queues?queue=review_return").get_data(as_text=True)
    assert "不属于本单位职责范围" in disp1.get(task_link(queue, number)).get_data(as_text=True)


def test_multi_selects_are_kept_on_an_error(hotline_app, as_role):
    number = open_case(hotline_app)
    page = f"/tasks/{ready_task(hotline_app, number, 'dispatch')}"
    response = submit(
        as_role("dispatcher"),
        page,
        {
            "lead_department": "B-MR",
            "co_departments": ["B-MR", "B-UM"],
            "dispatch_note": "请尽快处理",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = field_html(html, "co_departments")
    assert 'class="field-error"' in field
    assert re.search(r'value="B-MR" selected', field) and re.search(r'value="B-UM" selected', field)
    assert ">请尽快处理</textarea>" in html


# -- when time or someone else came first ---------------------------------------------------


def test_the_case_changed_while_the_page_was_open(hotline_app, as_role, clock):
    """The sign-for deadline passed and the worker escalated the case while the handler had
    the page open: nothing is saved, the page says why and keeps what was typed."""
    number = dispatched(hotline_app)
    h_mr = as_role("handler")
    page = f"/tasks/{ready_task(hotline_app, number, 'sign_for')}"
    html = h_mr.get(page).get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    clock.advance(timedelta(days=2))  # past Tuesday 23:59:59
    fire_timers(hotline_app)
    response = h_mr.post(
        page, data={**hidden, "action": "return", "return_reason": "不属于本单位职责范围"}
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "签收超时" in html  # what happened meanwhile
    assert re.search(r'value="return" checked', field_html(html, "action"))
    assert "不属于本单位职责范围" in field_html(html, "return_reason")
    case = case_row(hotline_app, number)
    assert case.status == "dispatched" and case.sign_escalated
    # the page now carries the new version: submitting again goes through
    assert submit(h_mr, page, {"action": "sign"}).status_code == 303
    assert case_row(hotline_app, number).status == "in_progress"


def interrupting_sign_for(app) -> None:
    """Deploy a complaint diagram whose sign-for deadline takes the case away from the unit
    (back to the dispatcher as a return), as a process designer might."""
    xml = (Path(app.config["BPMN_DIR"]) / "complaint.bpmn").read_text()
    xml = xml.replace('attachedToRef="sign_for" cancelActivity="false"', 'attachedToRef="sign_for"')
    xml = xml.replace(
        'sourceRef="sign_late" targetRef="end_sign_escalated"',
        'sourceRef="sign_late" targetRef="record_return"',
    )
    xml = xml.replace(
        "<bpmn:incoming>flow_signed_or_returned_to_record_return</bpmn:incoming>",
        "<bpmn:incoming>flow_signed_or_returned_to_record_return</bpmn:incoming>"
        "<bpmn:incoming>flow_sign_late_to_end_sign_escalated</bpmn:incoming>",
    )
    # the end event the deadline used to lead to is no longer reached: delete it (a
    # disconnected element does not validate)
    xml = re.sub(
        r"<bpmn:endEvent id=\"end_sign_escalated\".*?</bpmn:endEvent>", "", xml, flags=re.S
    )
    xml = xml.replace("<bpmn:flowNodeRef>end_sign_escalated</bpmn:flowNodeRef>", "")
    xml = re.sub(
        r"<bpmndi:BPMNShape id=\"end_sign_escalated_di\".*?</bpmndi:BPMNShape>", "", xml, flags=re.S
    )
    with app.app_context():
        hotline = get_hotline()
        hotline.runtime.deploy(
            db.session,
            xml.encode(),
            "complaint.bpmn",
            deployed_by="tests",
            form_exists=hotline.forms.exists,
        )


def test_the_deadline_timer_fired_first(hotline_app, as_role, clock):
    """The clock passed the sign-for deadline before the submission and, in this diagram,
    the deadline takes the task away: 409, saying what happened."""
    interrupting_sign_for(hotline_app)
    number = dispatched(hotline_app)
    h_mr = as_role("handler")
    page = f"/tasks/{ready_task(hotline_app, number, 'sign_for')}"
    html = h_mr.get(page).get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    clock.advance(timedelta(days=2))  # no worker ran: the timer fires inside the submission
    response = h_mr.post(page, data={**hidden, "action": "sign"}, headers=EN)
    assert response.status_code == 409
    assert "fired first" in response.get_data(as_text=True)


def test_the_input_of_a_submission_a_timer_beat_is_kept(hotline_app, as_role, clock):
    interrupting_sign_for(hotline_app)
    number = dispatched(hotline_app)
    h_mr = as_role("handler")
    page = f"/tasks/{ready_task(hotline_app, number, 'sign_for')}"
    clock.advance(timedelta(days=2))
    response = submit(h_mr, page, {"action": "sign"}, headers=EN)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "kept in the case history" in html
    with hotline_app.app_context():
        kinds = db.session.scalars(select(InstanceEvent.kind)).all()
    assert "task.rejected" in kinds
    assert case_row(hotline_app, number).status == "return_requested"


def test_a_task_done_already_says_so(hotline_app, as_role):
    number = open_case(hotline_app)
    page = f"/tasks/{ready_task(hotline_app, number, 'dispatch')}"
    disp1 = as_role("dispatcher")
    html = disp1.get(page).get_data(as_text=True)
    act(hotline_app, number, "dispatch", "disp1", {"lead_department": "B-MR"})
    response = disp1.get(page, headers=EN)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "no longer waiting" in text and "already done by disp1" in text
    assert "Dispatched" in text
    # submitting the stale page says the same, and changes nothing
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    response = disp1.post(page, data={**hidden, "lead_department": "B-UM"}, headers=EN)
    assert response.status_code == 409 and "already done" in response.get_data(as_text=True)
    with hotline_app.app_context():
        assert db.session.scalar(select(Case.lead_department_id)) is not None
    assert case_row(hotline_app, number).status == "dispatched"


# -- the lists ------------------------------------------------------------------------------


def test_the_queues_of_the_city_and_of_a_district_platform(hotline_app, as_role):
    new = open_case(hotline_app)
    returned = dispatched(hotline_app, "B-UM", category="噪音扰民", description="夜间施工噪音扰民")
    act(
        hotline_app,
        returned,
        "sign_for",
        "h_um",
        {"action": "return", "return_reason": "不属于本单位职责范围"},
    )
    street = dispatched(
        hotline_app, "D-PJ", category="占道经营", description="商贩占道经营，堵塞人行道"
    )
    disp1 = as_role("dispatcher")
    html = disp1.get("/queues", headers=EN).get_data(as_text=True)
    assert "Re-dispatch" not in html  # the city platform does not re-dispatch
    assert new in html and returned not in html  # the first non-empty queue: new cases
    tabs = dict(re.findall(r'queue=(\w+)"[^>]*>\s*[^<]*<span class="count">(\d+)', html))
    assert tabs == {
        "dispatch": "1",
        "review_return": "1",
        "review_extension": "0",
        "review_suspension": "0",
        "review_reply": "0",
    }
    html = disp1.get("/queues?queue=review_return").get_data(as_text=True)
    assert returned in html and new not in html
    bad = disp1.get("/queues?queue=sign_for", headers=EN)
    assert bad.status_code == 400 and "Queue: unknown value sign_for" in bad.get_data(as_text=True)
    assert street not in html

    disp_pj = as_role("dispatcher", username="disp_pj")
    html = disp_pj.get("/queues", headers=EN).get_data(as_text=True)
    assert "Re-dispatch" in html and street in html and new not in html
    page = task_link(html, street)
    assert "白沙街道办事处" in disp_pj.get(page).get_data(as_text=True)  # the street offices
    response = submit(disp_pj, page, {"street_department": "S-BS"})
    assert response.status_code == 303 and "queue=redispatch" in response.headers["Location"]
    assert street in as_role("handler", username="h_bs").get("/inbox").get_data(as_text=True)


def test_the_inbox_orders_marks_filters_and_pages(hotline_app, as_role, clock):
    early = dispatched(hotline_app)
    clock.advance(timedelta(days=1))
    late = dispatched(hotline_app)
    for number in (early, late):
        act(hotline_app, number, "sign_for", "h_mr", {"action": "sign"})
    clock.advance(timedelta(days=14))  # Tue 17 March: the first is overdue, the second near
    fire_timers(hotline_app)
    assert case_row(hotline_app, early).due_state == "red"
    assert case_row(hotline_app, late).due_state == "yellow"

    h_mr = as_role("handler")
    html = h_mr.get("/inbox", headers=EN).get_data(as_text=True)
    assert html.index(early) < html.index(late)  # soonest deadline first
    assert re.search(rf'<tr class="red">\s*<td><a href="/cases/{early}"', html)
    assert re.search(rf'<tr class="yellow">\s*<td><a href="/cases/{late}"', html)
    assert "overdue" in html and "left" in html

    html = h_mr.get("/inbox?due_state=yellow").get_data(as_text=True)
    assert late in html and early not in html
    html = h_mr.get("/inbox?element=sign_for").get_data(as_text=True)
    assert late not in html and early not in html
    bad = h_mr.get("/inbox?element=nonsense", headers=EN)
    assert bad.status_code == 200 and "Task type" in bad.get_data(as_text=True)

    first = h_mr.get("/inbox?per_page=1", headers=EN).get_data(as_text=True)
    assert early in first and late not in first and "Page 1 of 2" in first
    assert 'href="/inbox?per_page=1&amp;page=2"' in first
    second = h_mr.get("/inbox?per_page=1&page=2").get_data(as_text=True)
    assert late in second and early not in second


def test_the_inbox_as_csv(hotline_app, as_role):
    numbers = [dispatched(hotline_app) for _ in range(3)]
    response = as_role("handler").get("/inbox?format=csv&per_page=1", headers=EN)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["Case", "Task", "Case type"]
    assert sorted(r[0] for r in rows[1:]) == numbers  # every page, not just one
    assert {r[1] for r in rows[1:]} == {"Sign for"}
    link = as_role("handler").get("/inbox?due_state=red").get_data(as_text=True)
    assert "format=csv" in link and "due_state=red" in link
    queue = as_role("dispatcher").get("/queues?queue=dispatch&format=csv")
    assert queue.status_code == 200 and queue.mimetype == "text/csv"


def test_inbox_counts_match_the_inbox(hotline_app):
    for lead in ("B-MR", "B-MR", "B-UM"):
        dispatched(hotline_app, lead)
    open_case(hotline_app)
    with hotline_app.app_context():
        for username in ("disp1", "disp_pj", "h_mr", "h_um", "h_bs", "sup1", "cb1", "op1"):
            user = by_username(db.session, username)
            listed = cases.inbox(db.session, user=user, limit=1000)
            assert inbox_count(db.session, user=user) == len(listed), username
            per_element: dict[str, int] = {}
            for task, _case in listed:
                per_element[task.element_id] = per_element.get(task.element_id, 0) + 1
            assert inbox_counts(db.session, user=user) == per_element, username
            for element in ("sign_for", "dispatch"):
                assert inbox_count(db.session, user=user, element=element) == len(
                    cases.inbox(db.session, user=user, element=element, limit=1000)
                )
            now = get_hotline().clock.now()
            for state in ("normal", "yellow", "red"):
                assert inbox_count(db.session, user=user, due_state=state, now=now) == len(
                    cases.inbox(db.session, user=user, due_state=state, now=now, limit=1000)
                )
            assert inbox_count(db.session, user=user, due_state="red", now=now) == 0


def test_the_message_after_a_return_says_the_case_was_returned(hotline_app, as_role):
    number = dispatched(hotline_app)
    h_mr = as_role("handler")
    page = f"/tasks/{ready_task(hotline_app, number, 'sign_for')}"
    response = submit(h_mr, page, {"action": "return", "return_reason": "不属于本单位职责范围"})
    assert response.status_code == 303
    flash = h_mr.get("/inbox").get_data(as_text=True)
    assert f"工单 {number} 已退回派单中心，当前状态：" in flash
    assert "已完成“签收”" not in flash
    # a sign-for that signs still says so
    other = dispatched(hotline_app)
    page = f"/tasks/{ready_task(hotline_app, other, 'sign_for')}"
    assert submit(h_mr, page, {"action": "sign"}).status_code == 303
    assert f"工单 {other}：已完成“签收”" in h_mr.get("/inbox").get_data(as_text=True)
    # asking for an extension is not a reply: the message says what was asked
    page = f"/tasks/{ready_task(hotline_app, other, 'handle')}"
    response = submit(
        h_mr,
        page,
        {
            "action": "request_extension",
            "extension_days": "5",
            "extension_reason": "需要协调多个部门现场核查",
        },
    )
    assert response.status_code == 303
    assert f"工单 {other}：已申请延期，当前状态：" in h_mr.get("/inbox").get_data(as_text=True)


def test_after_an_approved_return_dispatch_shows_the_reason_and_does_not_preselect_it(
    hotline_app, as_role
):
    number = dispatched(hotline_app)  # to B-MR, which the catalogue suggests for 食品安全
    act(
        hotline_app,
        number,
        "sign_for",
        "h_mr",
        {"action": "return", "return_reason": "不属于本单位职责范围"},
    )
    act(hotline_app, number, "review_return", "disp1", {"decision": "approve"})
    disp1 = as_role("dispatcher")
    html = disp1.get(f"/tasks/{ready_task(hotline_app, number, 'dispatch')}").get_data(as_text=True)
    notice = html[
        html.index('class="flash warning returned"') : html.index(
            "</div>", html.index('class="flash warning returned"')
        )
    ]
    assert "市场监督管理局 退单，理由：" in notice and "不属于本单位职责范围" in notice
    assert html.index("returned") < html.index('data-key="lead_department"')  # at the top
    assert not re.search(r'value="B-MR" selected', field_html(html, "lead_department"))
    assert re.search(r'value="" selected|<option value="">', field_html(html, "lead_department"))

    # a first dispatch still starts with the catalogue's suggestion and no return notice
    first = open_case(hotline_app)
    html = disp1.get(f"/tasks/{ready_task(hotline_app, first, 'dispatch')}").get_data(as_text=True)
    assert re.search(r'value="B-MR" selected', field_html(html, "lead_department"))
    assert "returned" not in html.split("<h1>")[1].split('<div class="grid">')[0]


def test_the_extension_review_starts_with_the_days_asked_for(hotline_app, as_role):
    number = dispatched(hotline_app)
    act(hotline_app, number, "sign_for", "h_mr", {"action": "sign"})
    act(
        hotline_app,
        number,
        "handle",
        "h_mr",
        {
            "action": "request_extension",
            "extension_days": 4,
            "extension_reason": "需要协调多个部门现场核查",
        },
    )
    disp1 = as_role("dispatcher")
    page = f"/tasks/{ready_task(hotline_app, number, 'review_extension')}"
    html = disp1.get(page).get_data(as_text=True)
    assert 'value="4"' in field_html(html, "approved_days")
    # the reviewer may approve fewer
    response = submit(disp1, page, {"decision": "approve", "approved_days": "2"})
    assert response.status_code == 303
    assert case_row(hotline_app, number).status == "in_progress"
