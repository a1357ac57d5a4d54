"""Reporter confidentiality in the pages: a department sees a confidential caller masked on
every page and export, and cannot find the case by the phone; the centre sees it in full, and
each full view is recorded and listed on the case page for supervisors and administrators."""

from __future__ import annotations

from sqlalchemy import select

from tests.webapp.pages import post
from tests.webapp.test_inbox import act, dispatched, ready_task
from tests.webapp.test_intake import INTAKE, case_row, open_case
from webapp.extensions import db
from workflows.audit.models import AuditEntry
from workflows.cases.models import IdentityView

FULL_NAME, FULL_PHONE = "张三", "13800138000"
MASKED_NAME, MASKED_PHONE = "张**", "138****8000"


def views(app, number: str | None = None) -> list[tuple[str, str]]:
    """(username, channel) of every recorded full view (of one case)."""
    with app.app_context():
        stmt = select(IdentityView).order_by(IdentityView.id)
        rows = db.session.scalars(stmt).all()
        if number is not None:
            case_id = case_row(app, number).id
            rows = [r for r in rows if r.case_id == case_id]
        return [(r.username, r.channel) for r in rows]


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def assert_masked(html: str) -> None:
    assert MASKED_PHONE in html
    assert FULL_PHONE not in html and FULL_NAME not in html


def test_a_department_sees_a_report_masked_everywhere(hotline_app, as_role):
    number = dispatched(hotline_app, case_type="report")
    handler = as_role("handler")
    page = text(handler.get(f"/cases/{number}"))
    assert_masked(page)
    assert MASKED_NAME in page
    assert_masked(text(handler.get("/cases")))
    assert_masked(text(handler.get("/cases?format=csv")))
    task = text(handler.get(f"/tasks/{ready_task(hotline_app, number, 'sign_for')}"))
    assert_masked(task)
    assert MASKED_NAME in task
    inbox = text(handler.get("/inbox"))
    assert number in inbox and FULL_PHONE not in inbox
    assert FULL_PHONE not in text(handler.get("/inbox?format=csv"))
    assert views(hotline_app) == []  # masked views are not recorded
    # nor does the department find it by the caller's phone
    found = text(handler.get(f"/cases?phone={FULL_PHONE}"))
    assert number not in found
    assert number not in text(handler.get("/cases?phone=13800138000&format=csv"))


def test_a_case_the_caller_did_not_ask_to_hide_is_revealable(hotline_app, as_role):
    number = dispatched(hotline_app)
    handler = as_role("handler")
    page = text(handler.get(f"/cases/{number}"))
    # masked on the case page (docs/privacy.md), with a reveal that shows it in full
    assert FULL_PHONE not in page and "138****8000" in page and f"/cases/{number}/reveal" in page
    revealed = post(handler, f"/cases/{number}/reveal", token_from=f"/cases/{number}")
    assert revealed.status_code == 200
    assert FULL_PHONE in text(revealed) and FULL_NAME in text(revealed)
    assert number in text(handler.get(f"/cases?phone={FULL_PHONE}"))
    text(as_role("supervisor").get(f"/cases/{number}"))
    assert views(hotline_app) == []  # only confidential cases' views are recorded


def test_the_centre_sees_it_in_full_and_each_view_is_recorded(hotline_app, as_role):
    number = open_case(hotline_app, confidential=True)
    dispatcher = as_role("dispatcher")
    task = text(dispatcher.get(f"/tasks/{ready_task(hotline_app, number, 'dispatch')}"))
    assert FULL_PHONE in task and FULL_NAME in task
    assert views(hotline_app, number) == [("disp1", "task")]
    supervisor = as_role("supervisor")
    page = text(supervisor.get(f"/cases/{number}"))
    assert FULL_PHONE in page and FULL_NAME in page
    # a supervisor's list is masked; the operator's (a caller's history) is not
    listed = text(supervisor.get("/cases"))
    assert number in listed and FULL_PHONE not in listed and "138****8000" in listed
    operator = as_role("operator")
    assert FULL_PHONE in text(operator.get(f"/cases?phone={FULL_PHONE}"))
    csv = text(operator.get("/cases?format=csv"))
    assert FULL_PHONE in csv and FULL_NAME in csv
    assert views(hotline_app, number) == [
        ("disp1", "task"),
        ("sup1", "page"),
        ("op1", "list"),
        ("op1", "csv"),
    ]
    # the case page lists who saw the identity, where and when, to supervisors and admins
    again = text(supervisor.get(f"/cases/{number}"))
    section = again[again.index('id="identity-views"') :]
    assert "派单员 王芳" in section and "任务页" in section and "CSV 导出" in section
    assert 'id="identity-views"' in text(as_role("admin").get(f"/cases/{number}"))
    operator = text(as_role("operator").get(f"/cases/{number}"))
    assert FULL_PHONE in operator and 'id="identity-views"' not in operator
    assert ("op1", "page") in views(hotline_app, number)


def test_the_supervision_export_records_the_view(hotline_app, as_role, clock):
    from datetime import timedelta

    number = dispatched(hotline_app, case_type="report")
    clock.advance(timedelta(days=30))
    csv = text(as_role("supervisor").get("/supervision/overdue?format=csv"))
    # an export is masked for a supervisor: nothing seen in full, the export itself recorded
    assert number in csv and FULL_PHONE not in csv and "138****8000" in csv
    assert views(hotline_app, number) == []
    with hotline_app.app_context():
        export = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "personal.export")
        ).one()
        assert (export.actor_name, export.detail["rows"], export.detail["in_full"]) == (
            "sup1",
            1,
            0,
        )


def test_a_district_dispatcher_is_a_department(hotline_app, as_role):
    number = dispatched(hotline_app, "D-PJ", case_type="report", category="道路设施")
    client = as_role("dispatcher", username="disp_pj")
    task = text(client.get(f"/tasks/{ready_task(hotline_app, number, 'redispatch')}"))
    assert_masked(task)
    assert views(hotline_app) == []


def test_the_intake_checkbox_marks_the_case_confidential(hotline_app, as_role):
    client = as_role("operator")
    form = text(client.get("/intake"))
    assert 'name="confidential"' in form and "来电人要求保密" in form
    # asked with who is calling, before what happened
    assert form.index('data-key="caller_name"') < form.index('data-key="confidential"')
    assert form.index('data-key="confidential"') < form.index('data-key="case_type"')
    response = post(client, "/intake", {**INTAKE, "confidential": "true"}, token_from="/intake")
    assert response.status_code == 303
    post(client, "/intake", INTAKE, token_from="/intake")
    first, second = case_row(hotline_app, "2026030200001"), case_row(hotline_app, "2026030200002")
    assert (first.confidential, second.confidential) == (True, False)


# -- interim replies ------------------------------------------------------------------------


def handling(app) -> tuple[str, str]:
    number = dispatched(app)
    act(app, number, "sign_for", "h_mr", {"action": "sign"})
    return number, ready_task(app, number, "handle")


def test_an_interim_reply_from_the_task_page(hotline_app, as_role):
    number, task_id = handling(hotline_app)
    client = as_role("handler")
    page = text(client.get(f"/tasks/{task_id}"))
    assert 'id="interim"' in page and f"/tasks/{task_id}/interim" in page
    response = post(
        client, f"/tasks/{task_id}/interim", {"body": "已约谈商家，下周复查"}, token_from="/inbox"
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/tasks/{task_id}#interim"
    again = text(client.get(f"/tasks/{task_id}"))
    assert "阶段性答复已发送" in again
    # the task page's history shows it among the earlier steps
    assert "已约谈商家，下周复查" in again[again.index("办理经过") :]
    assert ready_task(hotline_app, number, "handle") == task_id  # still waiting
    case = text(client.get(f"/cases/{number}"))
    section = case[case.index('id="interim-replies"') :]
    assert "已约谈商家，下周复查" in section
    timeline = case[case.index('id="timeline"') :]
    assert 'data-kind="case.interim_reply"' in timeline


def test_bad_interim_replies_say_why_and_keep_the_text(hotline_app, as_role):
    number, task_id = handling(hotline_app)
    client = as_role("handler")
    empty = post(client, f"/tasks/{task_id}/interim", {"body": "  "}, token_from="/inbox")
    assert empty.status_code == 422
    assert "请填写阶段性答复内容" in empty.get_data(as_text=True)
    long = "进" * 2001
    too_long = post(client, f"/tasks/{task_id}/interim", {"body": long}, token_from="/inbox")
    html = too_long.get_data(as_text=True)
    assert too_long.status_code == 422 and "2001" in html and long in html
    other = as_role("other_handler", username="h_hu")
    refused = post(other, f"/tasks/{task_id}/interim", {"body": "越权"}, token_from="/inbox")
    assert refused.status_code == 404  # another department: as if no such task
    sign_task = ready_task(hotline_app, dispatched(hotline_app), "sign_for")
    early = post(client, f"/tasks/{sign_task}/interim", {"body": "先说进展"}, token_from="/inbox")
    assert early.status_code == 409 and "阶段性答复" in early.get_data(as_text=True)
    assert 'id="interim-replies"' not in text(client.get(f"/cases/{number}"))


def test_the_case_page_shown_again_with_an_error_is_a_view_too(hotline_app, as_role):
    number = open_case(hotline_app, case_type="report")
    supervisor = as_role("supervisor")
    refused = post(supervisor, f"/cases/{number}/notes", {"body": " "}, token_from="/inbox")
    assert refused.status_code == 400 and FULL_PHONE in refused.get_data(as_text=True)
    assert views(hotline_app, number) == [("sup1", "page")]
    merge_refused = post(
        as_role("dispatcher"), f"/cases/{number}/merge", {"master": ""}, token_from="/inbox"
    )
    assert merge_refused.status_code == 400
    assert views(hotline_app, number) == [("sup1", "page"), ("disp1", "page")]
