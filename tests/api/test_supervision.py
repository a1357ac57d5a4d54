"""The supervision endpoints: one case, or many at once; the API's error format for bad
input; idempotent retries; nothing half-done."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.models import HumanTask, InstanceEvent
from tests.webapp.test_cases_pages import act, case_row, dispatched, open_case
from webapp.extensions import db

EN = {"Accept-Language": "en"}


def signed(app, lead="B-MR", handler="h_mr", **intake) -> str:
    number = dispatched(app, lead=lead, **intake)
    act(app, number, "sign_for", handler, {"action": "sign"})
    return number


def answer_tasks(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(HumanTask.candidate_group).where(
                    HumanTask.kind == "answer_supervision", HumanTask.state == "ready"
                )
            )
        )


def events(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(InstanceEvent)) or 0


def test_an_order_on_one_case_gives_the_department_a_task(api, hotline_app):
    number = signed(hotline_app)
    response = api("supervisor").post(
        f"/api/v1/cases/{number}/supervision",
        json={"action": "supervision_order", "note": "请两日内书面答复"},
    )
    assert response.status_code == 201, response.json
    assert response.json == {
        "action": "supervision_order",
        "done": 1,
        "results": [{"number": number, "done": True, "reason": None, "message": ""}],
    }
    assert answer_tasks(hotline_app) == ["B-MR"]
    history = api("supervisor").get(f"/api/v1/cases/{number}/history").json["events"]
    order = [e for e in history if e["kind"] == "signal.received"]
    assert order and order[0]["data"]["note"] == "请两日内书面答复"
    # the department sees its task, with its own deadline, in the tasks API
    tasks = api("handler").get("/api/v1/tasks?step=answer_supervision").json["items"]
    assert [(t["case"]["number"], t["lane"], t["actionable"]) for t in tasks] == [
        (number, "handler", True)
    ]
    assert tasks[0]["due_at"] and tasks[0]["form_key"] == "common/answer_supervision"


def test_a_chase_on_one_case_is_an_event_and_no_task(api, hotline_app):
    number = signed(hotline_app)
    response = api("admin").post(
        f"/api/v1/cases/{number}/supervision", json={"action": "chase_notice", "note": "请加快"}
    )
    assert response.status_code == 201
    history = api("supervisor").get(f"/api/v1/cases/{number}/history").json["events"]
    assert [e["data"]["note"] for e in history if e["kind"] == "case.chased"] == ["请加快"]
    assert answer_tasks(hotline_app) == []


def test_bad_input_names_the_field_and_changes_nothing(api, hotline_app):
    number = signed(hotline_app)
    before = events(hotline_app)
    supervisor = api("supervisor")
    response = supervisor.post(
        f"/api/v1/cases/{number}/supervision",
        json={"action": "shout", "note": "", "extra": 1},
        headers=EN,
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"action", "note", "extra"}
    assert response.json["code"] == 422 and response.json["message"]
    blank = supervisor.post(
        f"/api/v1/cases/{number}/supervision", json={"action": "chase_notice", "note": "   "}
    )
    assert blank.status_code == 422 and "note" in blank.json["errors"]
    response = supervisor.post("/api/v1/supervision", json={"numbers": [], "action": "x"})
    assert response.status_code == 422
    assert set(response.json["errors"]) >= {"numbers", "action", "note"}
    not_json = supervisor.client.post(
        "/api/v1/supervision",
        data="{oops",
        headers={**supervisor._headers(None), "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and not_json.json["code"] == 400
    assert events(hotline_app) == before


def test_one_case_that_cannot_take_it(api, hotline_app):
    answered = open_case(hotline_app, intake_outcome="answered", answer="已当场解答")
    waiting = open_case(hotline_app)
    supervisor = api("supervisor")
    body = {"action": "supervision_order", "note": "督办"}
    closed = supervisor.post(f"/api/v1/cases/{answered}/supervision", json=body, headers=EN)
    assert closed.status_code == 409
    assert closed.json["errors"] == {"reason": ["closed"]}
    assert "closed" in closed.json["message"]
    early = supervisor.post(f"/api/v1/cases/{waiting}/supervision", json=body)
    assert early.status_code == 409 and early.json["errors"] == {"reason": ["not_dispatched"]}
    missing = supervisor.post("/api/v1/cases/20990101-0001/supervision", json=body)
    assert missing.status_code == 404
    assert api("handler").post(f"/api/v1/cases/{waiting}/supervision", json=body).status_code == 403


def test_many_at_once_reports_each_case_and_does_the_rest(api, hotline_app):
    a = signed(hotline_app)
    b = signed(hotline_app, lead="B-HU", handler="h_hu", category="物业管理")
    answered = open_case(hotline_app, intake_outcome="answered", answer="已当场解答")
    response = api("supervisor").post(
        "/api/v1/supervision",
        json={"numbers": [a, answered, "nope", b], "action": "supervision_order", "note": "集中"},
        headers={**EN, "Idempotency-Key": "bulk-1"},
    )
    assert response.status_code == 200, response.json
    assert response.json["done"] == 2
    assert [(r["number"], r["done"], r["reason"]) for r in response.json["results"]] == [
        (a, True, None),
        (answered, False, "closed"),
        ("nope", False, "not_found"),
        (b, True, None),
    ]
    assert sorted(answer_tasks(hotline_app)) == ["B-HU", "B-MR"]
    # a retry with the same key gets the first answer, and no second order
    again = api("supervisor").post(
        "/api/v1/supervision",
        json={"numbers": [a, answered, "nope", b], "action": "supervision_order", "note": "集中"},
        headers={**EN, "Idempotency-Key": "bulk-1"},
    )
    assert again.status_code == 200 and again.json == response.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(answer_tasks(hotline_app)) == 2
    assert case_row(hotline_app, a).status == "in_progress"


def test_an_ignored_order_reaches_the_lead_who_answers_through_the_api(api, hotline_app, clock):
    from tests.api.conftest import ApiClient, make_token
    from tests.webapp.test_cases_pages import advance

    number = signed(hotline_app)
    api("supervisor").post(
        f"/api/v1/cases/{number}/supervision",
        json={"action": "supervision_order", "note": "请答复"},
    )
    with hotline_app.app_context():
        due = db.session.scalar(
            select(HumanTask.due_at).where(HumanTask.kind == "answer_supervision")
        )
    clock.set(due)
    advance(hotline_app, clock, minutes=1)
    lead = ApiClient(hotline_app, make_token(hotline_app, "lead1"))
    tasks = lead.get("/api/v1/tasks?step=lead_supervise").json["items"]
    assert [(t["case"]["number"], t["lane"]) for t in tasks] == [(number, "lead")]
    task_id = tasks[0]["task_id"]
    bad = lead.post(f"/api/v1/tasks/{task_id}/complete", json={"instruction": ""})
    assert bad.status_code == 422 and "instruction" in bad.json["errors"]
    done = lead.post(f"/api/v1/tasks/{task_id}/complete", json={"instruction": "今日答复"})
    assert done.status_code == 200, done.json
    assert answer_tasks(hotline_app) == ["B-MR"]  # the department still owes its answer
