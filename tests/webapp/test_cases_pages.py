"""The case list (search, pages, CSV) and the case page (fields, deadlines, timeline, diagram
markers, notes, merging), with department isolation."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import HumanTask
from tests.webapp.pages import csrf_token, post
from tests.workflows.conftest import INTAKE
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases import flows
from workflows.cases.models import Case
from workflows.users.service import by_username

ROLES = ("operator", "dispatcher", "handler", "supervisor", "admin")
EN = {"Accept-Language": "en"}


# -- driving cases through the domain ---------------------------------------------------------


def open_case(app, **overrides) -> str:
    with app.app_context():
        return flows.open_case(
            db.session, get_hotline(), data={**INTAKE, **overrides}, actor="op1"
        ).number


def ready(app, number: str, element: str) -> HumanTask:
    with app.app_context():
        instance = db.session.scalar(select(Case.instance_id).where(Case.number == number))
        task = db.session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance,
                HumanTask.element_id == element,
                HumanTask.state == "ready",
            )
        ).first()
        assert task is not None, f"{element} of {number} is not ready"
        db.session.expunge(task)
        return task


def act(app, number: str, element: str, username: str, data: dict) -> None:
    task = ready(app, number, element)
    with app.app_context():
        flows.complete_task(
            db.session,
            get_hotline(),
            task_id=task.task_id,
            data=data,
            user=by_username(db.session, username),
        )


def dispatched(app, lead: str = "B-MR", co: tuple[str, ...] = (), **intake) -> str:
    number = open_case(app, **intake)
    act(app, number, "dispatch", "disp1", {"lead_department": lead, "co_departments": list(co)})
    return number


def close_on_time(app, number: str, handler: str = "h_mr", *, sign: bool = True) -> None:
    if sign:
        act(app, number, "sign_for", handler, {"action": "sign"})
    act(
        app,
        number,
        "handle",
        handler,
        {"action": "reply", "reply_text": "已责令餐馆停业整改", "result": "resolved"},
    )
    act(app, number, "review_reply", "disp1", {"decision": "accept"})
    act(
        app,
        number,
        "callback",
        "cb1",
        {"satisfaction": "satisfied", "resolved": "yes", "reopen": False},
    )


def advance(app, clock, **delta) -> None:
    clock.advance(timedelta(**delta))
    with app.app_context():
        get_hotline().runtime.fire_due_timers(db.session)


def case_row(app, number: str) -> Case:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        db.session.expunge(case)
        return case


def numbers_on(html: str) -> set[str]:
    return set(re.findall(r'href="/cases/(\d{13})"', html))


def parse_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def diagram_data(html: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="case-diagram-data">(.*?)</script>', html, re.S
    )
    assert match, "no diagram data on the page"
    return json.loads(match.group(1))


# -- who may see what -------------------------------------------------------------------------


def test_every_role_sees_the_list_and_a_case(hotline_app, as_role):
    number = dispatched(hotline_app)
    paths = ["/cases", f"/cases/{number}", f"/cases/{number}/diagram.xml"]
    for path in paths:
        response = hotline_app.test_client().get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    for role in ROLES:
        client = as_role(role)
        for path in paths:
            assert client.get(path).status_code == 200, (role, path)


def test_notes_are_for_everyone_merging_for_dispatchers_and_supervisors(hotline_app, as_role):
    number = dispatched(hotline_app)
    for role in ROLES:
        client = as_role(role)
        response = post(
            client,
            f"/cases/{number}/notes",
            {"body": f"{role} 的意见"},
            token_from=f"/cases/{number}",
        )
        assert response.status_code == 302, role
        # an empty master number: allowed roles get the form back with the error, others 403
        response = post(
            client, f"/cases/{number}/merge", {"master": ""}, token_from=f"/cases/{number}"
        )
        assert response.status_code == (400 if role in ("dispatcher", "supervisor") else 403), role
    signed_out = hotline_app.test_client()
    token = csrf_token(signed_out, "/login")
    for action in ("notes", "merge"):
        response = signed_out.post(f"/cases/{number}/{action}", data={"csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_handler_sees_only_its_departments_cases(hotline_app, as_role):
    ours = dispatched(hotline_app, lead="B-MR", co=("B-UM",))
    theirs = dispatched(hotline_app, lead="B-HU", category="物业管理")
    waiting = open_case(hotline_app)  # not dispatched: no department has it yet
    h_mr = as_role("handler")
    assert numbers_on(h_mr.get("/cases").get_data(as_text=True)) == {ours}
    assert h_mr.get(f"/cases/{theirs}").status_code == 404
    assert h_mr.get(f"/cases/{theirs}/diagram.xml").status_code == 404
    assert h_mr.get(f"/cases/{waiting}").status_code == 404
    response = post(h_mr, f"/cases/{theirs}/notes", {"body": "看看"}, token_from="/cases")
    assert response.status_code == 404
    rows = parse_csv(h_mr.get("/cases?format=csv"))
    assert [r[0] for r in rows[1:]] == [ours]
    # a co-handling unit sees the case too; a department with none of them sees nothing
    assert numbers_on(as_role("handler", username="h_um").get("/cases").get_data(as_text=True)) == {
        ours
    }
    assert (
        numbers_on(as_role("handler", username="h_wa").get("/cases").get_data(as_text=True))
        == set()
    )
    assert numbers_on(as_role("supervisor").get("/cases").get_data(as_text=True)) == {
        ours,
        theirs,
        waiting,
    }


# -- the list -------------------------------------------------------------------------------


def test_search_filters(hotline_app, as_role, clock):
    food = dispatched(hotline_app)
    noise = open_case(
        hotline_app,
        category="噪音扰民",
        caller_phone="13900139000",
        description="深夜广场舞噪音",
        address="江门市新会区会城大道",
        urgency="urgent",
    )
    clock.advance(timedelta(days=1))
    answered = open_case(
        hotline_app,
        case_type="consultation",
        intake_outcome="answered",
        answer="请到社保网点办理",
        description="社保卡补办",
    )
    client = as_role("supervisor")

    def found(query: str) -> set[str]:
        response = client.get(f"/cases?{query}")
        assert response.status_code == 200, query
        return numbers_on(response.get_data(as_text=True))

    assert found("") == {food, noise, answered}
    assert found(f"number={noise}") == {noise}
    assert found("number=20260302") == {food, noise}
    assert found("phone=139001") == {noise}
    assert found("text=广场舞") == {noise}
    assert found("text=会城大道") == {noise}
    assert found("text=100%25") == set()  # LIKE wildcards are taken literally
    assert found("case_type=consultation") == {answered}
    assert found("status=closed") == {answered}
    assert found("status=dispatched") == {food}
    assert found("urgency=urgent") == {noise}
    assert found("department=B-MR") == {food}
    assert found("due_state=normal") == {food, noise, answered}
    assert found("created_from=2026-03-03") == {answered}
    assert found("created_to=2026-03-02") == {food, noise}
    assert found("created_from=2026-03-02&created_to=2026-03-02&urgency=normal") == {food}
    # newest first
    html = client.get("/cases").get_data(as_text=True)
    assert html.index(answered) < html.index(noise) < html.index(food)


def test_bad_filters_name_the_field_and_keep_the_input(hotline_app, as_role):
    open_case(hotline_app)
    client = as_role("dispatcher")
    response = client.get("/cases?created_from=2026-13-01&phone=138&status=lost", headers=EN)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'name="created_from" value="2026-13-01"' in html
    assert 'name="phone" value="138"' in html
    assert "Not a date (YYYY-MM-DD)." in html and "Not one of the choices." in html
    response = client.get("/cases?created_from=2026-03-05&created_to=2026-03-01")
    assert response.status_code == 400
    assert client.get("/cases?department=NOPE").status_code == 400
    assert client.get("/cases?page=abc&per_page=-4").status_code == 200


def test_the_list_is_paginated(hotline_app, as_role):
    numbers = [open_case(hotline_app) for _ in range(3)]
    client = as_role("operator")
    first = client.get("/cases?per_page=2").get_data(as_text=True)
    second = client.get("/cases?per_page=2&page=2").get_data(as_text=True)
    assert numbers_on(first) == set(numbers[1:])
    assert numbers_on(second) == {numbers[0]}
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_csv_export_has_every_main_column(hotline_app, as_role):
    number = dispatched(hotline_app)
    open_case(hotline_app, case_type="consultation", intake_outcome="answered", answer="已解答")
    response = as_role("supervisor").get("/cases?format=csv&case_type=complaint", headers=EN)
    assert "attachment" in response.headers["Content-Disposition"]
    rows = parse_csv(response)
    header, data = rows[0], rows[1:]
    assert header[:6] == ["Number", "Created", "Case type", "Urgency", "Channel", "Status"]
    assert len(data) == 1
    row = dict(zip(header, data[0], strict=True))
    assert row["Number"] == number
    assert row["Created"] == "2026-03-02 09:00"
    assert row["Case type"] == "Complaint"
    assert row["Status"] == "Dispatched, not signed for"
    assert row["Lead department"] == "Market Regulation Bureau"
    assert row["Phone"] == "138****8000"  # a supervisor's export is masked (docs/privacy.md)
    assert row["Description"] == INTAKE["description"]
    assert row["Reply by"] == "2026-03-16 23:59"
    rows = parse_csv(as_role("supervisor").get("/cases?format=csv"))
    assert rows[0][0] == "工单编号" and len(rows) == 3


# -- the case page ------------------------------------------------------------------------------


def test_the_case_page_shows_fields_deadlines_and_departments(hotline_app, as_role, clock):
    number = dispatched(hotline_app, co=("B-UM",))
    advance(hotline_app, clock, hours=2)
    html = as_role("handler").get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    for text in (
        "Complaint",
        "Dispatched, not signed for",
        "张**",  # a department's case page masks the caller (its task page does not)
        "138****8000",
        INTAKE["description"],
        "Pengjiang District platform",
        "Market Regulation Bureau (Lead)",
        "Urban Management Bureau (Co-handling)",
    ):
        assert text in html, text
    deadlines = html[html.index('id="deadlines"') : html.index('id="timeline"')]
    assert "2026-03-03 23:59" in deadlines and "1 d 12 h left" in deadlines
    assert "2026-03-16 23:59" in deadlines
    zh = as_role("handler").get(f"/cases/{number}").get_data(as_text=True)
    assert "投诉" in zh and "已派单待签收" in zh and "剩余" in zh


def test_the_timeline_tells_who_did_what_when_and_why(hotline_app, as_role, clock):
    number = dispatched(hotline_app)
    advance(hotline_app, clock, hours=39)  # past the sign-for deadline (Tuesday 23:59:59)
    close_on_time(hotline_app, number)
    client = as_role("supervisor")
    post(
        client,
        f"/cases/{number}/notes",
        {"body": "已电话督促尽快签收"},
        token_from=f"/cases/{number}",
    )
    html = client.get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    timeline = html[html.index('id="timeline"') : html.index('id="departments"')]
    kinds = re.findall(r'data-kind="([\w.]+)"', timeline)
    assert kinds[0] == "instance.started"
    for kind in (
        "task.completed",
        "case.status",
        "timer.fired",
        "case.sign_overdue",
        "case.note",
        "instance.completed",
    ):
        assert kind in kinds, kind
    expected = [
        "Case recorded, workflow started",
        "Completed: Dispatch",
        "Market Regulation Bureau",  # the dispatch form's lead department, by name
        "Status: Awaiting dispatch → Dispatched, not signed for",
        "Deadline timer fired: Sign-for late",
        "Not signed for in time: escalated",
        "Completed: Sign for",
        "Completed: Handle and reply",
        "已责令餐馆停业整改",  # the reply text
        "Resolved",  # the reply form's result, by its label
        "Completed: Call back",
        "Satisfied",
        "Workflow completed",
        "Status: Awaiting callback → Closed",
        "已电话督促尽快签收",
    ]
    position = 0
    for text in expected:
        found = timeline.find(text, position if text != "已电话督促尽快签收" else 0)
        assert found >= 0, text
        if text != "已电话督促尽快签收":
            position = found
    assert "派单员 王芳 Wang Fang" in timeline and "督办 刘洋 Liu Yang" in timeline
    assert "2026-03-04 00:00" in timeline  # the timer fired when the clock moved past it
    # the page itself: closed, on time, satisfied
    assert "Handled" in html and "Satisfied" in html
    assert re.search(r"met at 2026-03-04 00:00", html)  # replied well before the reply deadline
    assert "Late" in html  # signed for after its deadline


def test_rejected_submissions_and_unknown_events_are_readable(hotline_app, as_role):
    number = dispatched(hotline_app)
    with hotline_app.app_context():
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        runtime = get_hotline().runtime
        with unit_of_work(db.session):
            runtime.record_event(
                db.session,
                case.instance_id,
                "task.rejected",
                actor="h_mr",
                element_id="sign_for",
                payload={"data": {"action": "sign"}, "reason": "the deadline timer fired first"},
            )
            runtime.record_event(
                db.session, case.instance_id, "something.new", actor=None, payload={"detail": "值"}
            )
    html = as_role("dispatcher").get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    assert "Not accepted: Sign for" in html
    assert "the deadline timer fired first" in html
    assert "something.new" in html and "值" in html


def test_diagram_markers_of_a_case_waiting_at_sign_for(hotline_app, as_role, clock):
    number = dispatched(hotline_app)
    client = as_role("handler")
    html = client.get(f"/cases/{number}").get_data(as_text=True)
    data = diagram_data(html)
    assert data == {
        "url": f"/cases/{number}/diagram.xml",
        "done": ["dispatch"],
        "current": ["sign_for"],
        "waiting": ["sign_late", "sign_warn"],
    }
    assert "bpmn-navigated-viewer.production.min.js" in html and "bpmn-js.css" in html
    xml = client.get(data["url"])
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert b'<bpmn:userTask id="sign_for"' in xml.data
    # the sign-for deadline passes: its timer is done, the task still waits
    advance(hotline_app, clock, days=2)
    data = diagram_data(client.get(f"/cases/{number}").get_data(as_text=True))
    assert data["done"] == ["dispatch", "sign_late", "sign_warn"]
    assert data["current"] == ["sign_for"]
    assert data["waiting"] == []
    act(hotline_app, number, "sign_for", "h_mr", {"action": "sign"})
    data = diagram_data(client.get(f"/cases/{number}").get_data(as_text=True))
    assert data["current"] == ["handle"]
    assert set(data["waiting"]) == {"warn", "overdue"}
    assert {"dispatch", "sign_for", "sign_late", "sign_warn"} <= set(data["done"])


def test_task_links_only_for_those_who_can_act(hotline_app, as_role):
    number = dispatched(hotline_app, co=("B-UM",))
    task_id = ready(hotline_app, number, "sign_for").task_id
    link = f'href="/tasks/{task_id}"'
    assert link in as_role("handler").get(f"/cases/{number}").get_data(as_text=True)
    for user in ("h_um", None):  # the co-handling unit and a supervisor only see the step
        client = as_role("handler", username=user) if user else as_role("supervisor")
        html = client.get(f"/cases/{number}").get_data(as_text=True)
        assert link not in html and "签收" in html


# -- notes and merging --------------------------------------------------------------------------


def test_notes(hotline_app, as_role):
    number = dispatched(hotline_app, co=("B-UM",))
    h_um = as_role("handler", username="h_um")
    response = post(
        h_um,
        f"/cases/{number}/notes",
        {"body": "  协办意见：已派员现场查看  "},
        token_from=f"/cases/{number}",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{number}#notes")
    html = as_role("handler").get(f"/cases/{number}").get_data(as_text=True)
    notes = html[html.index('id="notes"') :]
    assert "协办意见：已派员现场查看" in notes and "城管局 郑军 Zheng Jun" in notes
    response = post(
        h_um, f"/cases/{number}/notes", {"body": "   "}, token_from=f"/cases/{number}", headers=EN
    )
    assert response.status_code == 400
    assert "Write the note first." in response.get_data(as_text=True)
    long_note = "长" * 4001
    response = post(
        h_um, f"/cases/{number}/notes", {"body": long_note}, token_from=f"/cases/{number}"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and f">{long_note}</textarea>" in html  # kept whole
    assert "最多 4000 字，现在 4001 字" in html and "4001 / 4000" in html
    assert ' maxlength="4000"' not in html  # a browser would cut a paste to it silently


def test_merging_a_duplicate(hotline_app, as_role):
    master = dispatched(hotline_app)
    duplicate = open_case(hotline_app, caller_phone="13900139000")
    client = as_role("dispatcher")
    page = f"/cases/{duplicate}"
    response = post(
        client,
        f"{page}/merge",
        {"master": "20990101999", "reason": "同一餐馆"},
        token_from=page,
        headers=EN,
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is no case numbered 20990101999." in html
    assert 'value="20990101999"' in html and 'value="同一餐馆"' in html
    response = post(client, f"{page}/merge", {"master": duplicate}, token_from=page, headers=EN)
    assert response.status_code == 400
    assert "A case cannot be merged into itself." in response.get_data(as_text=True)

    response = post(
        client, f"{page}/merge", {"master": master, "reason": "同一餐馆"}, token_from=page
    )
    assert response.status_code == 302
    assert case_row(hotline_app, duplicate).status == "merged"
    html = client.get(page, headers=EN).get_data(as_text=True)
    assert f'href="/cases/{master}"' in html
    assert "Workflow stopped" in html and f"merged into {master}: 同一餐馆" in html
    assert "Status: Awaiting dispatch → Merged" in html
    assert 'id="merge"' not in html  # nothing left to merge
    assert diagram_data(html)["current"] == []
    master_html = client.get(f"/cases/{master}", headers=EN).get_data(as_text=True)
    assert f"Duplicate case {duplicate} merged into this case" in master_html
    assert f'href="/cases/{duplicate}"' in master_html
    # merging a case that is no longer open is refused with the rule's words
    other = dispatched(hotline_app)
    response = post(
        as_role("supervisor"),
        f"{page}/merge",
        {"master": other},
        token_from=f"/cases/{other}",
        headers=EN,
    )
    assert response.status_code == 400
    assert "The cases could not be merged" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/cases/20990101999", "/cases/20990101999/diagram.xml"])
def test_an_unknown_case_is_404(as_role, path):
    assert as_role("supervisor").get(path).status_code == 404


def test_each_status_has_one_name_in_every_list_page_export_and_open311(hotline_app, as_role):
    """已派单 here and 已派单待签收 there would be two statuses to a reader: one name each."""
    from pathlib import Path

    from workflows.cases.enums import STATUS_NAMES, CaseStatus
    from workflows.open311.service import STATUS_NOTES

    assert set(STATUS_NAMES) == set(CaseStatus)
    assert len({zh for zh, _ in STATUS_NAMES.values()}) == len(STATUS_NAMES)
    for status, (zh, en) in STATUS_NAMES.items():
        assert STATUS_NOTES[status][0].startswith(zh) and STATUS_NOTES[status][1].startswith(en)
    # no catalogue gives a status's English name another Chinese one
    for po in Path("webapp").rglob("translations/zh/LC_MESSAGES/*.po"):
        text = po.read_text(encoding="utf-8")
        for _zh, en in STATUS_NAMES.values():
            assert f'msgid "{en}"\n' not in text, (po, en)

    number = dispatched(hotline_app)
    supervisor = as_role("supervisor")
    name, name_en = STATUS_NAMES[CaseStatus.DISPATCHED]
    listing = supervisor.get("/cases").get_data(as_text=True)
    for status, (zh, _en) in STATUS_NAMES.items():  # the status filter offers each name
        assert f'<option value="{status}"' in listing and f">{zh}</option>" in listing, status
    row = dict(zip(*parse_csv(supervisor.get("/cases?format=csv"))[:2], strict=True))
    assert row["状态"] == name
    assert name in supervisor.get(f"/cases/{number}").get_data(as_text=True)
    assert name_en in supervisor.get(f"/cases/{number}", headers=EN).get_data(as_text=True)
