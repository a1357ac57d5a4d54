"""Administration pages: definitions (upload, validate, deploy, diff, migrate) and reference data.

Every test runs on SQLite and, when configured, PostgreSQL (the ``database`` fixture under
``hotline_app``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from engine.db import unit_of_work
from engine.models import Definition, Incident, InstanceEvent, ProcessInstance, Timer
from tests.webapp.pages import login, post
from tests.workflows.conftest import INTAKE
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.calendar.models import CalendarDay
from workflows.cases import flows
from workflows.cases.models import Case
from workflows.departments.models import Department
from workflows.dispatch.models import DispatchRule
from workflows.knowledge.models import Article
from workflows.policy.models import DeadlinePolicy
from workflows.users.models import User

ROOT = Path(__file__).resolve().parents[2]
COMPLAINT = (ROOT / "bpmn" / "complaint.bpmn").read_text(encoding="utf-8")


#: GET pages of the admin area (ids 1 exist in the seeded data)
PAGES = [
    "/admin",
    "/admin/definitions",
    "/admin/definitions?format=csv",
    "/admin/definitions/complaint",
    "/admin/definitions/complaint/1",
    "/admin/definitions/complaint/1/xml",
    "/admin/definitions/complaint/1/edit",
    "/admin/definitions/upload",
    "/admin/definitions/complaint/diff",
    "/admin/definitions/complaint/migrate",
    "/admin/departments",
    "/admin/departments?format=csv",
    "/admin/departments/new",
    "/admin/departments/1",
    "/admin/users",
    "/admin/users?format=csv",
    "/admin/users/new",
    "/admin/users/1",
    "/admin/dispatch",
    "/admin/dispatch/new",
    "/admin/dispatch/1",
    "/admin/calendar",
    "/admin/calendar?year=2027&format=csv",
    "/admin/policies",
    "/admin/policies/1",
    "/admin/knowledge",
    "/admin/knowledge/new",
    "/admin/knowledge/1",
    "/admin/incidents",
    "/admin/templates",
    "/admin/templates/dispatched/sms/zh",
]
#: POST actions (each answers 403 to a non-administrator before looking at its input)
ACTIONS = [
    "/admin/definitions/upload",
    "/admin/definitions/validate",
    "/admin/definitions/deploy",
    "/admin/definitions/complaint/migrate",
    "/admin/departments/new",
    "/admin/departments/1",
    "/admin/users/new",
    "/admin/users/1",
    "/admin/dispatch/new",
    "/admin/dispatch/1",
    "/admin/dispatch/1/delete",
    "/admin/calendar/day",
    "/admin/calendar/seed",
    "/admin/policies/1",
    "/admin/knowledge/new",
    "/admin/knowledge/1",
    "/admin/incidents/1/retry",
    "/admin/templates/dispatched/sms/zh",
    "/admin/templates/dispatched/sms/zh/reset",
]
OTHER_ROLES = ["operator", "dispatcher", "handler", "supervisor"]


def text(response) -> str:
    return response.get_data(as_text=True)


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def complaint_v2(name: str = "派单 Dispatch (v2)") -> str:
    """complaint.bpmn with the dispatch task renamed and a script task added after deadlines."""
    xml = COMPLAINT.replace('name="派单 Dispatch"', f'name="{name}"', 1)
    xml = xml.replace(
        '<bpmn:sequenceFlow id="flow_cohandle_fork_to_lead_is_platform" '
        'sourceRef="cohandle_fork" targetRef="lead_is_platform" />',
        '<bpmn:sequenceFlow id="flow_cohandle_fork_to_lead_is_platform" '
        'sourceRef="cohandle_fork" targetRef="note_dispatch" />'
        '<bpmn:scriptTask id="note_dispatch" name="记录派单 Note dispatch">'
        "<bpmn:incoming>flow_cohandle_fork_to_lead_is_platform</bpmn:incoming>"
        "<bpmn:outgoing>flow_note_dispatch</bpmn:outgoing>"
        "<bpmn:script>dispatch_noted = True</bpmn:script></bpmn:scriptTask>"
        '<bpmn:sequenceFlow id="flow_note_dispatch" sourceRef="note_dispatch" '
        'targetRef="lead_is_platform" />',
    )
    assert "note_dispatch" in xml and name in xml
    return xml


def upload(client, xml: str, name: str = "complaint.bpmn", comment: str = "a test change"):
    from io import BytesIO

    return post(
        client,
        "/admin/definitions/upload",
        {"file": (BytesIO(xml.encode("utf-8")), name), "comment": comment},
        token_from="/admin/definitions",
        content_type="multipart/form-data",
    )


def json_post(client, path: str, body: dict):
    token = re.search(
        r'<meta name="csrf-token" content="([^"]+)"', text(client.get("/admin/definitions"))
    ).group(1)
    return client.post(
        path, json=body, headers={"X-CSRFToken": token, "Accept": "application/json"}
    )


# -- who may see what ---------------------------------------------------------------------------


def test_every_admin_page_opens_for_an_administrator(as_role):
    client = as_role("admin")
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, text(response)[:500])


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_every_admin_page_and_action_is_403_for_other_roles(as_role, role):
    client = as_role(role)
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    for path in ACTIONS:
        response = post(client, path, {}, token_from="/admin")
        assert response.status_code == 403, path


def test_every_admin_view_checks_the_role(hotline_app):
    endpoints = [
        r.endpoint for r in hotline_app.url_map.iter_rules() if r.endpoint.startswith("admin.")
    ]
    assert len(endpoints) >= 30
    for endpoint in endpoints:
        view = hotline_app.view_functions[endpoint]
        assert getattr(view, "allowed_roles", None) == {"admin"}, endpoint


def test_signed_out_visitors_are_sent_to_sign_in(hotline_app):
    client = hotline_app.test_client()
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- definitions ---------------------------------------------------------------------------------


def test_upload_deploys_a_new_version_and_an_identical_file_is_unchanged(as_role, hotline_app):
    client = as_role("admin")
    response = upload(client, complaint_v2())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/definitions/complaint")
    page = text(client.get("/admin/definitions/complaint"))
    assert "complaint version 2" in page or "complaint 第 2 版" in page
    with hotline_app.app_context():
        v2 = db.session.scalars(
            select(Definition).where(Definition.key == "complaint", Definition.version == 2)
        ).one()
        assert v2.deployed_by == "admin" and v2.file_name == "complaint.bpmn"

    again = upload(client, complaint_v2())
    assert again.status_code == 302
    page = text(client.get("/admin/definitions/complaint"))
    assert "unchanged" in page or "未变化" in page
    assert count(hotline_app, Definition, Definition.key == "complaint") == 2


def test_an_invalid_upload_shows_the_located_issue_and_stores_nothing(as_role, hotline_app):
    client = as_role("admin")
    before = count(hotline_app, Definition)
    evil = complaint_v2().replace(
        "<bpmn:conditionExpression>lead_is_platform</bpmn:conditionExpression>",
        "<bpmn:conditionExpression>__import__('os').system('id') == 0</bpmn:conditionExpression>",
    )
    response = upload(client, evil)
    assert response.status_code == 400
    page = text(response)
    assert "flow_lead_is_platform_to_redispatch" in page and "__import__" in page
    assert re.search(r"complaint\.bpmn:\d+", page)  # file:line located

    xxe = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;'
        "</bpmn:definitions>"
    )
    response = upload(client, xxe, "evil.bpmn")
    assert response.status_code == 400
    assert "DOCTYPE" in text(response) and "root:" not in text(response)
    assert count(hotline_app, Definition) == before


def test_upload_refuses_a_missing_or_oversized_file(as_role, hotline_app):
    client = as_role("admin")
    response = post(
        client,
        "/admin/definitions/upload",
        {},
        token_from="/admin/definitions",
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    hotline_app.config["MAX_BPMN_BYTES"] = 1000
    response = upload(client, complaint_v2())
    assert response.status_code == 413
    assert "MB" in text(response)
    assert count(hotline_app, Definition, Definition.key == "complaint") == 1


def test_validate_endpoint_returns_issues_with_element_ids(as_role, hotline_app):
    client = as_role("admin")
    good = json_post(
        client, "/admin/definitions/validate", {"xml": complaint_v2(), "file_name": "c.bpmn"}
    )
    assert good.status_code == 200
    assert good.get_json()["ok"] is True and good.get_json()["issues"] == []

    bad_condition = complaint_v2().replace(
        "<bpmn:script>dispatch_noted = True</bpmn:script>",
        "<bpmn:script>dispatch_noted = __import__('os')</bpmn:script>",
    )
    no_form = bad_condition.replace('value="common/dispatch"', 'value="nowhere/form"')
    response = json_post(
        client, "/admin/definitions/validate", {"xml": no_form, "file_name": "c.bpmn"}
    )
    body = response.get_json()
    assert response.status_code == 200 and body["ok"] is False
    elements = {i["element"] for i in body["issues"]}
    assert "note_dispatch" in elements
    issue = next(i for i in body["issues"] if i["element"] == "note_dispatch")
    assert issue["line"] and "__import__" in issue["message"]
    assert issue["text"].startswith("c.bpmn:")

    nonsense = json_post(client, "/admin/definitions/validate", {"nope": 1})
    assert nonsense.status_code == 400 and nonsense.get_json()["ok"] is False


def test_deploy_endpoint_stores_only_valid_diagrams(as_role, hotline_app):
    client = as_role("admin")
    bad = complaint_v2().replace("dispatch_noted = True", "dispatch_noted = open('/etc/passwd')")
    response = json_post(client, "/admin/definitions/deploy", {"xml": bad})
    assert response.status_code == 400
    assert {i["element"] for i in response.get_json()["issues"]} == {"note_dispatch"}
    assert count(hotline_app, Definition, Definition.key == "complaint") == 1

    body = {"xml": complaint_v2(), "file_name": "complaint.bpmn", "comment": "note dispatch"}
    response = json_post(client, "/admin/definitions/deploy", body)
    body = response.get_json()
    assert response.status_code == 200 and body["ok"] is True
    [outcome] = body["outcomes"]
    assert (outcome["key"], outcome["version"], outcome["created"]) == ("complaint", 2, True)
    assert outcome["url"] == "/admin/definitions/complaint/2"
    assert client.get(outcome["url"]).status_code == 200
    again = json_post(client, "/admin/definitions/deploy", {"xml": complaint_v2(), "comment": "x"})
    assert again.get_json()["outcomes"][0]["created"] is False


def test_the_diff_shows_added_and_changed_elements(as_role):
    client = as_role("admin")
    upload(client, complaint_v2())
    page = text(client.get("/admin/definitions/complaint/diff?from=1&to=2"))
    added = re.search(r'<tr class="added">.*?</tr>', page, re.S).group(0)
    assert "note_dispatch" in added
    assert "flow_note_dispatch" in page
    changed = re.findall(r'<tr class="changed">.*?</tr>', page, re.S)
    dispatch = next(row for row in changed if "<code>dispatch</code>" in row)
    assert "派单 Dispatch (v2)" in dispatch
    flow = next(row for row in changed if "flow_cohandle_fork_to_lead_is_platform" in row)
    assert "lead_is_platform" in flow and "note_dispatch" in flow
    assert client.get("/admin/definitions/complaint/diff?from=1&to=9").status_code == 400


def test_version_xml_and_modeler_page(as_role):
    client = as_role("admin")
    xml = client.get("/admin/definitions/complaint/1/xml")
    assert xml.mimetype == "application/xml" and 'id="complaint"' in text(xml)
    download = client.get("/admin/definitions/complaint/1/xml?download=1")
    assert "attachment" in download.headers["Content-Disposition"]
    page = text(client.get("/admin/definitions/complaint/1/edit"))
    assert "hotline-modeler/modeler.js" in page and "admin/modeler.js" in page
    assert 'data-validate-url="/admin/definitions/validate"' in page
    assert 'enctype="multipart/form-data"' in page  # usable without the modeler
    assert client.get("/admin/definitions/complaint/7").status_code == 404
    assert client.get("/admin/definitions/nothing").status_code == 404


# -- migration -----------------------------------------------------------------------------------


def test_migration_preview_and_run_through_the_page(as_role, hotline_app, clock):
    with hotline_app.app_context():
        case = flows.open_case(db.session, get_hotline(), data=dict(INTAKE), actor="op1")
        number, instance_id = case.number, case.instance_id
    client = as_role("admin")
    upload(client, complaint_v2())

    preview = client.get("/admin/definitions/complaint/migrate?from=1&to=2")
    assert preview.status_code == 200
    page = text(preview)
    assert number in page
    assert f'name="instance" value="{instance_id}"' in page  # movable: it can be ticked
    # the engine's note in the page's language: the element by name, not by id
    assert "派单 改名为“派单”" in page and "is now named" not in page
    with hotline_app.app_context():
        row = db.session.get(ProcessInstance, instance_id)
        assert row.definition_id == 1  # the preview changed nothing
        version = row.version

    response = post(
        client,
        "/admin/definitions/complaint/migrate",
        {"from": "1", "to": "2", "scope": "selected", "instance": str(instance_id)},
        token_from="/admin/definitions/complaint/migrate?from=1&to=2",
    )
    assert response.status_code == 200
    assert number in text(response)
    with hotline_app.app_context():
        row = db.session.get(ProcessInstance, instance_id)
        v2 = db.session.scalars(
            select(Definition.id).where(Definition.key == "complaint", Definition.version == 2)
        ).one()
        assert (row.definition_id, row.version) == (v2, version + 1)
        event = db.session.scalars(
            select(InstanceEvent).where(
                InstanceEvent.instance_id == instance_id, InstanceEvent.kind == "instance.migrated"
            )
        ).one()
        assert event.actor == "admin" and event.payload["to_version"] == 2
        tasks = get_hotline().runtime.ready_tasks(db.session, instance_id)
        assert [(t.element_id, t.name) for t in tasks] == [("dispatch", "派单 Dispatch (v2)")]
    # Nothing left on version 1.
    page = text(client.get("/admin/definitions/complaint/migrate?from=1&to=2"))
    assert 'name="instance"' not in page
    # Asking for nothing in particular moves nothing and says so.
    response = post(
        client,
        "/admin/definitions/complaint/migrate",
        {"from": "1", "to": "2", "scope": "selected"},
        token_from="/admin/definitions/complaint/migrate?from=1&to=2",
    )
    assert response.status_code == 302


def act(app, instance_id: int, element: str, username: str, data: dict):
    """Complete the ready ``element`` task of an instance as ``username`` would."""
    with app.app_context():
        hotline = get_hotline()
        [task] = [
            t
            for t in hotline.runtime.ready_tasks(db.session, instance_id)
            if t.element_id == element
        ]
        user = db.session.scalars(select(User).where(User.username == username)).one()
        flows.complete_task(db.session, hotline, task_id=task.task_id, data=data, user=user)


def test_a_case_in_handling_keeps_its_deadlines_and_closes_on_the_new_version(
    as_role, hotline_app, clock
):
    with hotline_app.app_context():
        case = flows.open_case(db.session, get_hotline(), data=dict(INTAKE), actor="op1")
        instance_id, number = case.instance_id, case.number
    act(
        hotline_app,
        instance_id,
        "dispatch",
        "disp1",
        {"lead_department": "B-MR", "co_departments": []},
    )
    act(hotline_app, instance_id, "sign_for", "h_mr", {"action": "sign"})
    with hotline_app.app_context():
        timers = {
            t.element_id: t.due_at
            for t in get_hotline().runtime.pending_timers(db.session, instance_id)
        }
    assert {"warn", "overdue"} <= set(timers)
    client = as_role("admin")
    upload(client, complaint_v2())
    clock.advance(timedelta(hours=3))
    response = post(
        client,
        "/admin/definitions/complaint/migrate",
        {"from": "1", "to": "2", "scope": "all"},
        token_from="/admin/definitions/complaint/migrate?from=1&to=2",
    )
    assert response.status_code == 200 and number in text(response)
    with hotline_app.app_context():
        runtime = get_hotline().runtime
        after = {t.element_id: t.due_at for t in runtime.pending_timers(db.session, instance_id)}
        assert after == timers  # not restarted three hours later
        [task] = runtime.ready_tasks(db.session, instance_id)
        assert task.element_id == "handle"
    act(
        hotline_app,
        instance_id,
        "handle",
        "h_mr",
        {"action": "reply", "reply_text": "已责令整改", "result": "resolved"},
    )
    act(hotline_app, instance_id, "review_reply", "disp1", {"decision": "accept"})
    act(
        hotline_app,
        instance_id,
        "callback",
        "cb1",
        {"satisfaction": "satisfied", "resolved": "yes", "reopen": False},
    )
    with hotline_app.app_context():
        row = db.session.get(ProcessInstance, instance_id)
        assert row.status == "completed"
        assert db.session.scalars(select(Case.status).where(Case.number == number)).one() == (
            "closed"
        )


def test_migration_form_refuses_nonsense_versions(as_role):
    client = as_role("admin")
    upload(client, complaint_v2())
    assert client.get("/admin/definitions/complaint/migrate?from=2&to=2").status_code == 400
    assert client.get("/admin/definitions/complaint/migrate?from=x&to=2").status_code == 400
    assert client.get("/admin/definitions/nothing/migrate").status_code == 404


# -- departments and users -----------------------------------------------------------------------


def test_departments_create_edit_and_field_errors(as_role, hotline_app):
    client = as_role("admin")
    with hotline_app.app_context():
        pj = db.session.scalars(select(Department).where(Department.code == "D-PJ")).one().id
    response = post(
        client,
        "/admin/departments/new",
        {
            "code": "S-HX",
            "name": "荷塘镇",
            "name_en": "Hetang",
            "level": "street",
            "parent_id": str(pj),
            "active": "true",
        },
        token_from="/admin/departments/new",
    )
    assert response.status_code == 302
    with hotline_app.app_context():
        row = db.session.scalars(select(Department).where(Department.code == "S-HX")).one()
        assert (row.parent_id, row.active, row.is_platform) == (pj, True, False)
        new_id = row.id
    # a duplicate code and a blank name: each field says what is wrong; what was typed stays
    response = post(
        client,
        "/admin/departments/new",
        {"code": "S-HX", "name": "", "level": "street"},
        token_from="/admin/departments/new",
    )
    assert response.status_code == 400
    page = text(response)
    assert page.count('class="field-error"') == 2 and 'value="S-HX"' in page
    # a unit cannot be placed below its own child
    response = post(
        client,
        f"/admin/departments/{pj}",
        {
            "code": "D-PJ",
            "name": "蓬江区",
            "level": "district",
            "parent_id": str(new_id),
            "is_platform": "true",
            "active": "true",
        },
        token_from=f"/admin/departments/{pj}",
    )
    assert response.status_code == 400
    assert 'class="field-error"' in text(response)


def test_a_handler_without_a_department_is_refused(as_role, hotline_app):
    client = as_role("admin")
    response = post(
        client,
        "/admin/users/new",
        {
            "username": "h_new",
            "display_name": "新承办人",
            "role": "handler",
            "department_id": "",
            "password": "long-enough-1",
        },
        token_from="/admin/users/new",
    )
    assert response.status_code == 400
    page = text(response)
    field = re.search(
        r'<div class="field has-error">\s*<label for="f_department_id">.*?</div>', page, re.S
    )
    assert field and "field-error" in field.group(0)
    assert 'value="h_new"' in page and "long-enough-1" not in page
    assert count(hotline_app, User, User.username == "h_new") == 0


def test_users_are_created_and_get_new_passwords_without_showing_hashes(as_role, hotline_app):
    client = as_role("admin")
    with hotline_app.app_context():
        mr = db.session.scalars(select(Department).where(Department.code == "B-MR")).one().id
    response = post(
        client,
        "/admin/users/new",
        {
            "username": "h_new",
            "display_name": "新承办人",
            "role": "handler",
            "department_id": str(mr),
            "password": "first-password-1",
        },
        token_from="/admin/users/new",
    )
    assert response.status_code == 302
    fresh = hotline_app.test_client()
    assert login(fresh, "h_new", "first-password-1").status_code == 302
    with hotline_app.app_context():
        user = db.session.scalars(select(User).where(User.username == "h_new")).one()
        user_id, old_hash = user.id, user.password_hash
    for path in (f"/admin/users/{user_id}", "/admin/users", "/admin/users?format=csv"):
        page = text(client.get(path))
        assert old_hash not in page and "scrypt:" not in page
    # too short a new password is refused; a good one replaces the old
    response = post(
        client,
        f"/admin/users/{user_id}",
        {
            "display_name": "新承办人",
            "role": "handler",
            "department_id": str(mr),
            "active": "true",
            "password": "short",
        },
        token_from=f"/admin/users/{user_id}",
    )
    assert response.status_code == 400
    response = post(
        client,
        f"/admin/users/{user_id}",
        {
            "display_name": "新承办人",
            "role": "handler",
            "department_id": str(mr),
            "active": "true",
            "password": "second-password-2",
        },
        token_from=f"/admin/users/{user_id}",
    )
    assert response.status_code == 302
    assert login(hotline_app.test_client(), "h_new", "first-password-1").status_code == 401
    assert login(hotline_app.test_client(), "h_new", "second-password-2").status_code == 302
    # deactivated: no more sign-in
    post(
        client,
        f"/admin/users/{user_id}",
        {
            "display_name": "新承办人",
            "role": "handler",
            "department_id": str(mr),
            "active": "false",
        },
        token_from=f"/admin/users/{user_id}",
    )
    assert login(hotline_app.test_client(), "h_new", "second-password-2").status_code == 401


def test_an_administrator_cannot_lock_themself_out(as_role, hotline_app):
    client = as_role("admin")
    with hotline_app.app_context():
        me = db.session.scalars(select(User).where(User.username == "admin")).one()
        my_id, department = me.id, me.department_id
    response = post(
        client,
        f"/admin/users/{my_id}",
        {
            "display_name": "管理员",
            "role": "operator",
            "department_id": str(department),
            "active": "false",
        },
        token_from=f"/admin/users/{my_id}",
    )
    assert response.status_code == 400
    assert text(response).count('class="field-error"') == 2
    with hotline_app.app_context():
        me = db.session.get(User, my_id)
        assert (me.role, me.active) == ("admin", True)


# -- dispatch catalogue, knowledge base ---------------------------------------------------------


def test_dispatch_rules_create_edit_delete(as_role, hotline_app):
    client = as_role("admin")
    with hotline_app.app_context():
        um = db.session.scalars(select(Department).where(Department.code == "B-UM")).one().id
    response = post(
        client,
        "/admin/dispatch/new",
        {"category": "井盖缺失", "area": "nowhere", "department_id": str(um), "priority": "x"},
        token_from="/admin/dispatch/new",
    )
    assert response.status_code == 400 and text(response).count('class="field-error"') == 2
    response = post(
        client,
        "/admin/dispatch/new",
        {"category": "井盖缺失", "area": "D-PJ", "department_id": str(um), "priority": "2"},
        token_from="/admin/dispatch/new",
    )
    assert response.status_code == 302
    with hotline_app.app_context():
        rule = db.session.scalars(
            select(DispatchRule).where(DispatchRule.category == "井盖缺失")
        ).one()
        assert (rule.area, rule.department_id, rule.priority) == ("D-PJ", um, 2)
        rule_id = rule.id
    assert "井盖缺失" in text(client.get("/admin/dispatch?category=井盖缺失"))
    response = post(client, f"/admin/dispatch/{rule_id}/delete", {}, token_from="/admin/dispatch")
    assert response.status_code == 302
    assert count(hotline_app, DispatchRule, DispatchRule.category == "井盖缺失") == 0


def test_knowledge_articles_create_and_edit(as_role, hotline_app, clock):
    client = as_role("admin")
    response = post(
        client, "/admin/knowledge/new", {"title": "", "body": ""}, token_from="/admin/knowledge/new"
    )
    assert response.status_code == 400 and text(response).count('class="field-error"') == 2
    response = post(
        client,
        "/admin/knowledge/new",
        {
            "title": "井盖缺失怎么办",
            "keywords": "井盖 manhole",
            "category": "道路设施",
            "body": "请拨打12345报修。",
            "active": "true",
        },
        token_from="/admin/knowledge/new",
    )
    assert response.status_code == 302
    with hotline_app.app_context():
        article = db.session.scalars(select(Article).where(Article.title == "井盖缺失怎么办")).one()
        assert article.active and article.updated_at == clock.now()
        article_id = article.id
    clock.advance(timedelta(hours=1))
    response = post(
        client,
        f"/admin/knowledge/{article_id}",
        {
            "title": "井盖缺失怎么办",
            "keywords": "井盖",
            "category": "道路设施",
            "body": "请拨打12345报修。",
            "active": "false",
        },
        token_from=f"/admin/knowledge/{article_id}",
    )
    assert response.status_code == 302
    with hotline_app.app_context():
        article = db.session.get(Article, article_id)
        assert not article.active and article.updated_at == clock.now()
    assert "井盖缺失怎么办" in text(client.get("/admin/knowledge?q=井盖"))


# -- deadline policy -----------------------------------------------------------------------------


#: every limit of a policy row, as the form names them
POLICY_LIMITS = (
    "sign",
    "reply",
    "return",
    "extension_max",
    "reopen",
    "dispatch",
    "review",
    "callback",
    "callback_span",
    "supervision",
    "cohandle",
    "suspension_max",
)


def policy_form(**overrides) -> dict:
    form = {}
    for limit in POLICY_LIMITS:
        form[f"{limit}_value"] = "3"
        form[f"{limit}_unit"] = "workdays"
    form.update(
        warn_share="0.75",
        callback_required="true",
        review_required="false",
        max_returns="2",
        callback_attempts="3",
    )
    form.update(overrides)
    return form


def test_policy_edits_are_validated(as_role, hotline_app):
    client = as_role("admin")
    with hotline_app.app_context():
        row = db.session.scalars(
            select(DeadlinePolicy).where(
                DeadlinePolicy.case_type == "complaint",
                DeadlinePolicy.urgency == "normal",
                DeadlinePolicy.category == "",
            )
        ).one()
        policy_id, before = row.id, row.reply_value
    path = f"/admin/policies/{policy_id}"
    response = post(
        client,
        path,
        policy_form(reply_value="0", sign_unit="weeks", warn_share="1.5", max_returns="-1"),
        token_from=path,
    )
    assert response.status_code == 400
    assert text(response).count('class="field-error"') == 4
    with hotline_app.app_context():
        assert db.session.get(DeadlinePolicy, policy_id).reply_value == before
    response = post(client, path, policy_form(warn_share="abc"), token_from=path)
    assert response.status_code == 400
    response = post(
        client, path, policy_form(reply_value="12", reply_unit="workhours"), token_from=path
    )
    assert response.status_code == 302
    with hotline_app.app_context():
        row = db.session.get(DeadlinePolicy, policy_id)
        assert (row.reply_value, row.reply_unit, row.warn_share) == (12, "workhours", 0.75)
        assert (row.callback_required, row.review_required, row.max_returns) == (True, False, 2)


def test_every_tasks_clock_is_shown_and_edited_with_field_errors(as_role, hotline_app):
    client = as_role("admin")
    with hotline_app.app_context():
        row = db.session.scalars(
            select(DeadlinePolicy).where(
                DeadlinePolicy.case_type == "complaint",
                DeadlinePolicy.urgency == "urgent",
                DeadlinePolicy.category == "",
            )
        ).one()
        policy_id = row.id
        before = {
            n: getattr(row, n) for n in ("dispatch_value", "review_unit", "callback_attempts")
        }
    listing = text(client.get("/admin/policies?per_page=100", headers={"Accept-Language": "en"}))
    for label in (
        "Dispatch (and re-dispatch) within",
        "Each review (return, extension, suspension, reply) within",
        "Call back within, from the reply",
        "Unreached callback attempts spread over at least",
        "Answer a supervision order within",
        "Co-handling unit sends its part within",
        "Longest suspension before resuming",
        "Callback attempts",
    ):
        assert label in listing, label
    assert "派单（含二级派单）时限" in text(client.get("/admin/policies"))
    csv = text(client.get("/admin/policies?format=csv"))
    assert "dispatch_value,dispatch_unit,review_value" in csv and "callback_attempts" in csv
    path = f"/admin/policies/{policy_id}"
    form = text(client.get(path))
    for limit in POLICY_LIMITS:
        assert f'name="{limit}_value"' in form and f'name="{limit}_unit"' in form, limit
    assert 'name="callback_attempts"' in form and "协办单位反馈时限" in form

    bad = policy_form(
        dispatch_value="0",
        review_unit="weeks",
        cohandle_value="1.5",
        supervision_value="",
        callback_attempts="0",
    )
    response = post(client, path, bad, token_from=path)
    assert response.status_code == 400
    page = text(response)
    assert page.count('class="field-error"') == 5
    for name in ("dispatch", "review", "cohandle", "supervision"):
        start = page.index(f'id="f_{name}_value"')
        assert 'class="field-error"' in page[start : page.index("</fieldset>", start)], name
    assert "不能小于 1。" in page
    with hotline_app.app_context():
        row = db.session.get(DeadlinePolicy, policy_id)
        assert {n: getattr(row, n) for n in before} == before  # nothing half-saved

    good = policy_form(
        dispatch_value="30",
        dispatch_unit="hours",
        review_value="4",
        review_unit="workhours",
        suspension_max_value="60",
        suspension_max_unit="days",
        callback_attempts="5",
    )
    assert post(client, path, good, token_from=path).status_code == 302
    with hotline_app.app_context():
        row = db.session.get(DeadlinePolicy, policy_id)
        assert (row.dispatch_value, row.dispatch_unit) == (30, "hours")
        assert (row.review_value, row.review_unit) == (4, "workhours")
        assert (row.suspension_max_value, row.callback_attempts) == (60, 5)
        assert (row.cohandle_value, row.cohandle_unit) == (3, "workdays")


# -- calendar ------------------------------------------------------------------------------------


def test_a_day_set_as_holiday_moves_deadlines(as_role, hotline_app):
    client = as_role("admin")
    monday = datetime(2026, 6, 8, 10, 0, tzinfo=ZoneInfo(hotline_app.config["TIMEZONE"]))
    with hotline_app.app_context():
        before = get_hotline().calendar.get().add_workdays(monday, 1)
    assert before.date() == date(2026, 6, 9)
    response = post(
        client,
        "/admin/calendar/day",
        {"day": "2026-06-09", "kind": "holiday", "name": "测试假日"},
        token_from="/admin/calendar",
    )
    assert response.status_code == 302
    with hotline_app.app_context():
        assert get_hotline().calendar.get().add_workdays(monday, 1).date() == date(2026, 6, 10)
        row = db.session.get(CalendarDay, date(2026, 6, 9))
        assert (row.kind, row.source) == ("holiday", "admin")
    page = text(client.get("/admin/calendar?year=2026"))
    assert "2026-06-09" in page and "测试假日" in page
    calc = client.get("/admin/calendar?year=2026&start=2026-06-08T10:00&value=1&unit=workdays")
    assert calc.status_code == 200 and "2026-06-10 23:59" in text(calc)
    # back to normal
    post(
        client,
        "/admin/calendar/day",
        {"day": "2026-06-09", "kind": "normal"},
        token_from="/admin/calendar",
    )
    with hotline_app.app_context():
        assert get_hotline().calendar.get().add_workdays(monday, 1).date() == date(2026, 6, 9)


def test_calendar_input_errors_and_seeding(as_role, hotline_app):
    client = as_role("admin")
    response = post(
        client,
        "/admin/calendar/day",
        {"day": "2026-02-30", "kind": "holiday"},
        token_from="/admin/calendar",
    )
    assert response.status_code == 400 and 'value="2026-02-30"' in text(response)
    response = post(
        client,
        "/admin/calendar/day",
        {"day": "2026-06-09", "kind": "nap"},
        token_from="/admin/calendar",
    )
    assert response.status_code == 400
    bad_calc = client.get("/admin/calendar?start=tomorrow&value=1&unit=workdays")
    assert bad_calc.status_code == 400
    assert client.get("/admin/calendar?year=abc").status_code == 302
    assert count(hotline_app, CalendarDay, CalendarDay.day >= date(2028, 1, 1)) == 0
    response = post(client, "/admin/calendar/seed", {"year": "2028"}, token_from="/admin/calendar")
    assert response.status_code == 302
    assert count(hotline_app, CalendarDay, CalendarDay.day >= date(2028, 1, 1)) > 0
    response = post(client, "/admin/calendar/seed", {"year": "30000"}, token_from="/admin/calendar")
    assert response.status_code == 400


# -- timer incidents -----------------------------------------------------------------------------


def test_an_incident_is_listed_with_its_case_and_can_be_retried(as_role, hotline_app, clock):
    with hotline_app.app_context():
        case = flows.open_case(db.session, get_hotline(), data=dict(INTAKE), actor="op1")
        number = case.number
        with unit_of_work(db.session):
            timer = Timer(
                instance_id=case.instance_id,
                task_id="00000000-0000-4000-8000-000000000001",
                element_id="sign_late",
                kind="duration",
                due_at=clock.now(),
                status="incident",
                created_at=clock.now(),
                attempts=5,
                last_error="WorkflowRunError: boom",
            )
            db.session.add(timer)
            db.session.flush()
            db.session.add(
                Incident(
                    kind="timer",
                    instance_id=case.instance_id,
                    timer_id=timer.id,
                    error="the workflow failed at sign_late: boom",
                    attempts=5,
                    created_at=clock.now(),
                )
            )
        incident_id = db.session.scalars(select(Incident.id)).one()
        timer_id = timer.id
    client = as_role("admin")
    overview = text(client.get("/admin"))
    assert re.search(r'data-testid="open-incidents">(\d+)<', overview).group(1) == "1"
    page = text(client.get("/admin/incidents"))
    assert number in page and "boom" in page and "sign_late" in page
    response = post(
        client, f"/admin/incidents/{incident_id}/retry", {}, token_from="/admin/incidents"
    )
    assert response.status_code == 302
    with hotline_app.app_context():
        incident = db.session.get(Incident, incident_id)
        assert (incident.resolved_by, incident.resolved_at) == ("admin", clock.now())
        assert db.session.get(Timer, timer_id).status == "pending"
    assert "boom" not in text(client.get("/admin/incidents"))
    again = post(client, f"/admin/incidents/{incident_id}/retry", {}, token_from="/admin/incidents")
    assert again.status_code == 302
    follow = text(client.get("/admin/incidents"))
    assert "already resolved" in follow


def test_lists_are_paginated(as_role, hotline_app, clock):
    with hotline_app.app_context(), unit_of_work(db.session):
        for i in range(30):
            db.session.add(
                Article(
                    title=f"文章 {i:02d}",
                    body="…",
                    keywords="",
                    category="",
                    active=True,
                    updated_at=clock.now() - timedelta(minutes=i),
                )
            )
    client = as_role("admin")
    first = text(client.get("/admin/knowledge"))
    assert "文章 00" in first and "文章 29" not in first
    assert 'rel="next"' in first
    second = text(client.get("/admin/knowledge?page=2"))
    assert "文章 29" in second and 'rel="prev"' in second


def test_english_and_chinese_labels(as_role):
    client = as_role("admin")
    assert "系统管理" in text(client.get("/admin"))
    post(client, "/language", {"lang": "en", "next": "/admin"}, token_from="/admin")
    assert "Timer incidents" in text(client.get("/admin"))
