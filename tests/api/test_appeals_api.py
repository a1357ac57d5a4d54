"""The appeals endpoints: filing, 422 naming each field, roles, another department's 404,
review once, the figures per month and department."""

from __future__ import annotations

from tests.webapp.test_appeals_pages import signed_late
from tests.webapp.test_cases_pages import case_row, dispatched

EN = {"Accept-Language": "en"}


def test_file_review_and_count(api, hotline_app, clock):
    number = signed_late(hotline_app, clock)
    filed = api("handler").post(
        f"/api/v1/cases/{number}/appeals", json={"ground": "overdue", "reason": "系统故障"},
        headers=EN,
    )  # fmt: skip
    assert filed.status_code == 201, filed.json
    appeal = filed.json
    assert (appeal["case"], appeal["department"], appeal["status"]) == (number, "B-MR", "pending")
    assert appeal["filed_by"] == "h_mr" and appeal["decided_by"] is None
    queue = api("supervisor").get("/api/v1/appeals?status=pending").json
    assert [a["id"] for a in queue["items"]] == [appeal["id"]] and queue["total"] == 1
    decided = api("lead").post(
        f"/api/v1/appeals/{appeal['id']}/review",
        json={"decision": "upheld", "reason": "属实"},
    )
    assert decided.status_code == 200, decided.json
    assert (decided.json["status"], decided.json["decided_by"]) == ("upheld", "lead1")
    assert case_row(hotline_app, number).appeal_upheld_at is not None
    again = api("supervisor").post(
        f"/api/v1/appeals/{appeal['id']}/review", json={"decision": "rejected", "reason": "x"},
        headers=EN,
    )  # fmt: skip
    assert again.status_code == 422 and list(again.json["errors"]) == ["appeal"]
    figures = api("handler").get("/api/v1/appeals/kpis?from=2026-01&to=2026-03").json["rows"]
    assert figures == [
        {"month": "2026-03", "department": "B-MR", "filed": 1, "upheld": 1, "rejected": 0,
         "pending": 0, "upheld_share": {"numerator": 1, "denominator": 1, "rate": 1.0}},
    ]  # fmt: skip
    assert api("other_handler").get("/api/v1/appeals/kpis?from=2026-01").json["rows"] == []


def test_bad_input_is_422_naming_each_field(api, hotline_app, clock):
    number = signed_late(hotline_app, clock)
    handler = api("handler")
    response = handler.post(
        f"/api/v1/cases/{number}/appeals", json={"ground": "weather", "extra": 1}
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"ground", "reason", "extra"}
    blank = handler.post(
        f"/api/v1/cases/{number}/appeals", json={"ground": "rating", "reason": "  "}, headers=EN
    )
    assert blank.status_code == 422
    assert blank.json["errors"] == {
        "ground": ["The case has no unsatisfied or unresolved rating."],
        "reason": ["This field is required."],
    }
    on_time = dispatched(hotline_app)
    not_late = handler.post(
        f"/api/v1/cases/{on_time}/appeals", json={"ground": "overdue", "reason": "x"}, headers=EN
    )
    assert not_late.status_code == 422
    assert not_late.json["errors"] == {"ground": ["The case was not overdue."]}
    bad_query = api("supervisor").get("/api/v1/appeals?month=March&status=won")
    assert bad_query.status_code == 422 and set(bad_query.json["errors"]) >= {"month", "status"}
    bad_month = api("supervisor").get("/api/v1/appeals/kpis?from=2026-05&to=2026-03")
    assert bad_month.status_code == 422 and list(bad_month.json["errors"]) == ["to"]


def test_roles_and_department_isolation(api, hotline_app, clock):
    number = signed_late(hotline_app, clock)
    body = {"ground": "overdue", "reason": "系统故障"}
    for role in ("operator", "dispatcher", "supervisor", "lead", "admin", "auditor"):
        assert api(role).post(f"/api/v1/cases/{number}/appeals", json=body).status_code == 403
    assert (
        api("other_handler").post(f"/api/v1/cases/{number}/appeals", json=body).status_code == 404
    )
    appeal = api("handler").post(f"/api/v1/cases/{number}/appeals", json=body).json
    assert api("other_handler").get(f"/api/v1/appeals/{appeal['id']}").status_code == 404
    assert api("other_handler").get("/api/v1/appeals").json["items"] == []
    assert api("admin").get(f"/api/v1/appeals/{appeal['id']}").status_code == 200
    review = {"decision": "rejected", "reason": "理由不足"}
    for role in ("handler", "admin", "operator", "callback"):
        path = f"/api/v1/appeals/{appeal['id']}/review"
        assert api(role).post(path, json=review).status_code == 403, role
    assert api("operator").get("/api/v1/appeals").status_code == 403
    rejected = api("supervisor").post(f"/api/v1/appeals/{appeal['id']}/review", json=review)
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    assert case_row(hotline_app, number).appeal_upheld_at is None
