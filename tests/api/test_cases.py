"""/api/v1/cases: intake with idempotency, search, one case with its ETag, history, notes
and merging with If-Match, and department isolation."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.webapp.test_inbox import dispatched
from tests.webapp.test_intake import INTAKE, open_case
from webapp.extensions import db
from workflows.cases.models import Case
from workflows.open311.models import Open311Request  # noqa: F401  (tables)

EN = {"Accept-Language": "en"}


def count_cases(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def test_intake_creates_a_case_with_its_etag_and_location(api, hotline_app):
    response = api("operator").post("/api/v1/cases", json=INTAKE)
    assert response.status_code == 201
    case = response.json
    assert case["status"] == "awaiting_dispatch" and case["created_by"] == "op1"
    assert case["caller_phone"] == INTAKE["caller_phone"] and case["area"] == "D-PJ"
    assert case["created_at"].endswith("+08:00")
    assert response.headers["Location"] == f"/api/v1/cases/{case['number']}"
    again = api("operator").get(response.headers["Location"])
    assert again.json == case
    assert again.headers["ETag"] == response.headers["ETag"]


def test_a_retried_intake_returns_the_first_case(api, hotline_app):
    operator = api("operator")
    headers = {"Idempotency-Key": "call-4711"}
    first = operator.post("/api/v1/cases", json=INTAKE, headers=headers)
    second = operator.post("/api/v1/cases", json=INTAKE, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json == first.json
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["ETag"] == first.headers["ETag"]
    assert count_cases(hotline_app) == 1
    # a new key is a new call
    third = operator.post("/api/v1/cases", json=INTAKE, headers={"Idempotency-Key": "call-4712"})
    assert third.json["number"] != first.json["number"]
    assert count_cases(hotline_app) == 2


def test_the_same_key_with_another_body_is_refused(api, hotline_app):
    operator = api("operator")
    headers = {"Idempotency-Key": "k1"}
    assert operator.post("/api/v1/cases", json=INTAKE, headers=headers).status_code == 201
    other = operator.post(
        "/api/v1/cases", json={**INTAKE, "caller_phone": "13900139000"}, headers=headers
    )
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json["errors"]
    assert "different request" in other.json["message"]
    assert count_cases(hotline_app) == 1


def test_keys_belong_to_their_user(api, hotline_app):
    from tests.api.conftest import ApiClient, make_token

    op2 = ApiClient(hotline_app, make_token(hotline_app, "op2"))
    headers = {"Idempotency-Key": "shared"}
    a = api("operator").post("/api/v1/cases", json=INTAKE, headers=headers)
    b = op2.post("/api/v1/cases", json=INTAKE, headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.json["number"] != b.json["number"]


def test_a_failed_intake_is_not_remembered_and_changes_nothing(api, hotline_app):
    operator = api("operator")
    headers = {"Idempotency-Key": "bad-then-good"}
    bad = operator.post("/api/v1/cases", json={**INTAKE, "caller_phone": "12"}, headers=headers)
    assert bad.status_code == 422
    assert count_cases(hotline_app) == 0
    # the key was not used up by the refused request... but the body differs: a new request
    good = operator.post(
        "/api/v1/cases", json=INTAKE, headers={"Idempotency-Key": "bad-then-good-2"}
    )
    assert good.status_code == 201


def test_a_bad_idempotency_key_is_refused(api):
    response = api("operator").post(
        "/api/v1/cases", json=INTAKE, headers={"Idempotency-Key": "x" * 300}
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json["errors"]


def test_intake_errors_name_each_field(api, hotline_app):
    body = {**INTAKE, "caller_phone": "12", "urgency": "whenever", "surprise": 1}
    del body["description"]
    response = api("operator").post("/api/v1/cases", json=body, headers=EN)
    assert response.status_code == 422
    errors = response.json["errors"]
    assert set(errors) >= {"caller_phone", "urgency", "surprise", "description"}
    assert all(isinstance(m, str) and m for v in errors.values() for m in v)
    assert count_cases(hotline_app) == 0


def test_intake_needs_a_json_object(api):
    operator = api("operator")
    not_json = operator.client.post(
        "/api/v1/cases",
        data="{oops",
        headers={**operator._headers(None), "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and "body" in not_json.json["errors"]
    a_list = operator.post("/api/v1/cases", json=[1, 2])
    assert a_list.status_code == 400 and "body" in a_list.json["errors"]
    form = operator.client.post("/api/v1/cases", data={"a": "b"}, headers=operator._headers(None))
    assert form.status_code == 415


def test_only_operators_take_calls(api, hotline_app):
    for role in ("dispatcher", "handler", "supervisor", "admin"):
        response = api(role).post("/api/v1/cases", json=INTAKE)
        assert response.status_code == 403, role
    assert count_cases(hotline_app) == 0


def test_the_list_filters_and_pages(api, hotline_app):
    for phone in ("13800138001", "13800138002", "13800138003"):
        open_case(hotline_app, caller_phone=phone)
    open_case(hotline_app, caller_phone="13900000000", case_type="consultation")
    supervisor = api("supervisor")
    everything = supervisor.get("/api/v1/cases?per_page=2")
    assert everything.status_code == 200
    assert everything.json["total"] == 4 and everything.json["pages"] == 2
    assert len(everything.json["items"]) == 2
    second = supervisor.get("/api/v1/cases?per_page=2&page=2").json["items"]
    numbers = [c["number"] for c in everything.json["items"] + second]
    assert numbers == sorted(numbers, reverse=True)  # newest first
    assert supervisor.get("/api/v1/cases?phone=1380013800").json["total"] == 3
    assert supervisor.get("/api/v1/cases?case_type=consultation").json["total"] == 1
    assert supervisor.get("/api/v1/cases?status=closed").json["total"] == 0
    assert (
        supervisor.get("/api/v1/cases?created_from=2026-03-02&created_to=2026-03-02").json["total"]
        == 4
    )
    assert supervisor.get("/api/v1/cases?created_from=2026-03-03").json["total"] == 0


def test_bad_filters_name_the_parameter(api):
    supervisor = api("supervisor")
    response = supervisor.get("/api/v1/cases?status=lost&page=0&created_from=yesterday")
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"status", "page", "created_from"}
    unknown = supervisor.get("/api/v1/cases?department=NOPE")
    assert unknown.status_code == 422 and "department" in unknown.json["errors"]
    backwards = supervisor.get("/api/v1/cases?created_from=2026-03-05&created_to=2026-03-01")
    assert backwards.status_code == 422 and "created_to" in backwards.json["errors"]
    extra = supervisor.get("/api/v1/cases?colour=red")
    assert extra.status_code == 422 and "colour" in extra.json["errors"]


def test_handlers_see_only_their_departments_cases(api, hotline_app):
    mine = dispatched(hotline_app, lead="B-MR")
    theirs = dispatched(hotline_app, lead="B-HU", caller_phone="13900139000")
    h_mr = api("handler")
    listed = [c["number"] for c in h_mr.get("/api/v1/cases").json["items"]]
    assert listed == [mine]
    assert h_mr.get(f"/api/v1/cases/{mine}").status_code == 200
    assert h_mr.get(f"/api/v1/cases/{theirs}").status_code == 404
    assert h_mr.get(f"/api/v1/cases/{theirs}/history").status_code == 404
    assert h_mr.post(f"/api/v1/cases/{theirs}/notes", json={"body": "hi"}).status_code == 404
    by_department = api("supervisor").get("/api/v1/cases?department=B-HU").json["items"]
    assert [c["number"] for c in by_department] == [theirs]
    assert [c["number"] for c in api("other_handler").get("/api/v1/cases").json["items"]] == [
        theirs
    ]


def test_a_case_shows_its_departments(api, hotline_app):
    number = dispatched(hotline_app, lead="B-MR")
    case = api("dispatcher").get(f"/api/v1/cases/{number}").json
    assert case["lead_department"] == "B-MR"
    assert case["departments"] == [{"code": "B-MR", "role": "lead"}]
    assert case["status"] == "dispatched" and case["reply_due"].endswith("+08:00")


def test_the_history_says_who_did_what_when(api, hotline_app):
    number = dispatched(hotline_app)
    events = api("supervisor").get(f"/api/v1/cases/{number}/history").json["events"]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "instance.started"
    assert "task.completed" in kinds and "case.status" in kinds
    done = next(e for e in events if e["kind"] == "task.completed")
    assert done["actor"] == "disp1" and done["element_id"] == "dispatch"
    assert done["data"]["data"]["lead_department"] == "B-MR"
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)


def test_notes_honour_if_match(api, hotline_app):
    number = open_case(hotline_app)
    supervisor = api("supervisor")
    etag = supervisor.get(f"/api/v1/cases/{number}").headers["ETag"]
    added = supervisor.post(
        f"/api/v1/cases/{number}/notes",
        json={"body": "Called the caller."},
        headers={"If-Match": etag},
    )
    assert added.status_code == 201 and added.json["author"] == "sup1"
    stale = supervisor.post(
        f"/api/v1/cases/{number}/notes", json={"body": "Again."}, headers={"If-Match": '"old"'}
    )
    assert stale.status_code == 412
    assert stale.headers["ETag"] == etag and stale.json["code"] == 412
    empty = supervisor.post(f"/api/v1/cases/{number}/notes", json={"body": "   "})
    assert empty.status_code == 422 and "body" in empty.json["errors"]
    history = supervisor.get(f"/api/v1/cases/{number}/history").json["events"]
    assert [e["data"]["body"] for e in history if e["kind"] == "case.note"] == [
        "Called the caller."
    ]


def test_merging_checks_the_etag_and_the_master(api, hotline_app):
    master = open_case(hotline_app)
    duplicate = open_case(hotline_app, caller_phone="13900139000")
    dispatcher = api("dispatcher")
    etag = dispatcher.get(f"/api/v1/cases/{duplicate}").headers["ETag"]
    assert (
        api("handler").post(f"/api/v1/cases/{duplicate}/merge", json={"master": master}).status_code
        == 403
    )
    itself = dispatcher.post(f"/api/v1/cases/{duplicate}/merge", json={"master": duplicate})
    assert itself.status_code == 422 and "master" in itself.json["errors"]
    missing = dispatcher.post(f"/api/v1/cases/{duplicate}/merge", json={"master": "1"})
    assert missing.status_code == 422 and "master" in missing.json["errors"]
    stale = dispatcher.post(
        f"/api/v1/cases/{duplicate}/merge", json={"master": master}, headers={"If-Match": '"x"'}
    )
    assert stale.status_code == 412
    merged = dispatcher.post(
        f"/api/v1/cases/{duplicate}/merge", json={"master": master}, headers={"If-Match": etag}
    )
    assert merged.status_code == 200
    assert merged.json["status"] == "merged" and merged.json["merged_into"] == master
    assert merged.headers["ETag"] != etag
    again = dispatcher.post(
        f"/api/v1/cases/{duplicate}/merge", json={"master": master}, headers={"If-Match": etag}
    )
    assert again.status_code == 412  # the case changed since that ETag
    closed = dispatcher.post(f"/api/v1/cases/{duplicate}/merge", json={"master": master})
    assert closed.status_code == 409


def test_the_count_stops_after_the_cap(api, hotline_app, monkeypatch):
    """Counting every match of a common word among a million cases took a second: the count
    stops after COUNT_CAP matches and says so; the pages still come full."""
    from webapp.api import cases as cases_api

    for phone in ("13800138001", "13800138002", "13800138003"):
        open_case(hotline_app, caller_phone=phone)
    supervisor = api("supervisor")
    exact = supervisor.get("/api/v1/cases?per_page=2").json
    assert (exact["total"], exact["total_capped"], exact["pages"]) == (3, False, 2)
    monkeypatch.setattr(cases_api, "COUNT_CAP", 2)
    capped = supervisor.get("/api/v1/cases?per_page=2").json
    assert (capped["total"], capped["total_capped"], capped["pages"]) == (2, True, 1)
    assert len(capped["items"]) == 2
    beyond = supervisor.get("/api/v1/cases?per_page=2&page=2").json
    assert len(beyond["items"]) == 1 and beyond["total_capped"]  # the third case is there
    assert api("dispatcher").get("/api/v1/tasks").json["total_capped"] is False


def test_a_consumer_complaint_gets_the_12315_deadlines_through_the_api(api, hotline_app):
    """Intake with the 消费维权 category, dispatch and sign-for by API: 7 and 45 working days
    from Mon 2026-03-02 (over Qingming and Labour Day); another category keeps 1 and 10."""
    from tests.webapp.test_inbox import ready_task

    operator, dispatcher = api("operator"), api("dispatcher")
    numbers = []
    for category, phone in (("消费维权", "13800138000"), ("食品安全", "13700137000")):
        body = {**INTAKE, "category": category, "caller_phone": phone}
        numbers.append(operator.post("/api/v1/cases", json=body).json["number"])
    for number in numbers:
        task = ready_task(hotline_app, number, "dispatch")
        done = dispatcher.post(f"/api/v1/tasks/{task}/complete", json={"lead_department": "B-MR"})
        assert done.status_code == 200, done.json
    consumer, other = (dispatcher.get(f"/api/v1/cases/{n}").json for n in numbers)
    assert consumer["sign_due"].startswith("2026-03-11T23:59:59")
    assert consumer["reply_due"].startswith("2026-05-08T23:59:59")
    assert other["sign_due"].startswith("2026-03-03T23:59:59")
    assert other["reply_due"].startswith("2026-03-16T23:59:59")
    task = ready_task(hotline_app, numbers[0], "sign_for")
    handler = api("handler")
    signed = handler.post(f"/api/v1/tasks/{task}/complete", json={"action": "sign"})
    assert signed.status_code == 200, signed.json
    after = handler.get(f"/api/v1/cases/{numbers[0]}").json
    assert after["status"] == "in_progress"
    assert after["reply_due"] == consumer["reply_due"]


def test_a_description_over_the_limit_is_422_with_the_limit_and_the_length(api, hotline_app):
    long = {**INTAKE, "description": "井盖缺失" * 1001}
    response = api("operator").post("/api/v1/cases", json=long, headers=EN)
    assert response.status_code == 422
    assert response.json["errors"] == {"description": ["At most 4000 characters; this has 4004."]}
    zh = api("operator").post("/api/v1/cases", json=long)
    assert zh.json["errors"]["description"] == ["最多 4000 字，现在 4004 字"]
    assert count_cases(hotline_app) == 0


def test_phones_are_stored_and_searched_in_one_form(api, hotline_app):
    operator = api("operator")
    created = operator.post("/api/v1/cases", json={**INTAKE, "caller_phone": "139-0223-1234"})
    assert created.status_code == 201 and created.json["caller_phone"] == "13902231234"
    found = api("supervisor").get("/api/v1/cases", query_string={"phone": "+86 139 0223 1234"})
    assert found.status_code == 200
    assert [c["number"] for c in found.json["items"]] == [created.json["number"]]
