"""One JSON error format for every status under /api: {code, status, message[, errors]},
never an HTML page or a traceback."""

from __future__ import annotations

from tests.webapp.test_inbox import dispatched, ready_task
from tests.webapp.test_intake import INTAKE, open_case
from webapp.api import reference


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) <= {"code", "status", "message", "errors"}
    assert body["code"] == status and body["status"] and body["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    for messages in body.get("errors", {}).values():
        assert messages and all(isinstance(m, str) and m for m in messages)
    return body


def test_every_status_answers_in_one_format(api, hotline_app, clock):
    number = dispatched(hotline_app)
    task_id = ready_task(hotline_app, number, "sign_for")
    operator, handler = api("operator"), api("handler")
    anonymous = hotline_app.test_client()
    assert "errors" in assert_error(
        operator.client.post(
            "/api/v1/cases",
            data="{",
            headers={**operator._headers(None), "Content-Type": "application/json"},
        ),
        400,
    )
    assert_error(anonymous.get("/api/v1/cases"), 401)
    assert_error(operator.get("/api/v1/kpis"), 403)
    assert_error(operator.get("/api/v1/cases/404404"), 404)
    assert_error(operator.get("/api/v1/no/such/thing"), 404)
    assert_error(anonymous.get("/api/nothing-here"), 404)
    assert_error(operator.open("/api/v1/cases/1", "DELETE"), 405)
    handler.post(f"/api/v1/tasks/{task_id}/complete", json={"action": "sign"})
    assert_error(handler.post(f"/api/v1/tasks/{task_id}/complete", json={"action": "sign"}), 409)
    assert_error(
        handler.post(
            f"/api/v1/cases/{number}/notes", json={"body": "x"}, headers={"If-Match": '"0"'}
        ),
        412,
    )
    assert_error(
        operator.client.post("/api/v1/cases", data="x", headers=operator._headers(None)), 415
    )
    assert "errors" in assert_error(
        operator.post("/api/v1/cases", json={**INTAKE, "urgency": "x"}), 422
    )
    for _ in range(10):
        anonymous.get("/api/v1/me", headers={"Authorization": "Bearer hl_x"})
    assert_error(anonymous.get("/api/v1/me", headers={"Authorization": "Bearer hl_x"}), 429)


def test_a_body_too_large(api, hotline_app):
    hotline_app.config["MAX_CONTENT_LENGTH"] = 2000
    body = assert_error(
        api("operator").post("/api/v1/cases", json={"description": "x" * 5000}), 413
    )
    assert "too large" in body["message"]


def test_a_server_error_says_nothing_of_the_code_and_changes_nothing(api, hotline_app, monkeypatch):
    def boom(self):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(reference.Departments, "get", boom)
    response = api("operator").get("/api/v1/departments")
    body = assert_error(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert body["message"].startswith("Something went wrong")


def test_a_half_done_post_is_rolled_back(api, hotline_app, monkeypatch):
    """The case row and the workflow are written, then the answer fails: nothing stays."""
    from webapp.api import cases as api_cases

    def fail(case):
        raise RuntimeError("after the case was made")

    monkeypatch.setattr(api_cases, "case_etag", fail)
    response = api("operator").post(
        "/api/v1/cases", json=INTAKE, headers={"Idempotency-Key": "will-fail"}
    )
    assert_error(response, 500)
    assert api("supervisor").get("/api/v1/cases").json["total"] == 0
    monkeypatch.undo()
    retried = api("operator").post(
        "/api/v1/cases", json=INTAKE, headers={"Idempotency-Key": "will-fail"}
    )
    assert retried.status_code == 201  # the failed try did not use the key up
    assert api("supervisor").get("/api/v1/cases").json["total"] == 1


def test_the_pages_under_api_keep_html_errors(as_role):
    response = as_role("operator").post("/api/tokens/999/revoke", data={})
    assert response.status_code == 400 and response.mimetype == "text/html"


def test_pages_still_answer_html(as_role, hotline_app):
    number = open_case(hotline_app)
    response = as_role("handler").get(f"/cases/{number}")
    assert response.status_code == 404 and response.mimetype == "text/html"


def without_dispatch_platform(app) -> None:
    """The demo city with no dispatch platform: intake refuses with a DomainError."""
    from sqlalchemy import update

    from webapp.extensions import db
    from workflows.departments.models import Department

    with app.app_context():
        db.session.execute(update(Department).values(is_platform=False))
        db.session.commit()


def test_a_refusal_of_the_domain_is_409_with_its_words_and_changes_nothing(api, hotline_app):
    """webapp.errors maps DomainError to 409 in the API's format; the view has no except."""
    without_dispatch_platform(hotline_app)
    operator = api("operator")
    body = assert_error(
        operator.post("/api/v1/cases", json=INTAKE, headers={"Idempotency-Key": "no-platform"}),
        409,
    )
    assert "no dispatch platform" in body["message"] and "errors" not in body
    assert api("supervisor").get("/api/v1/cases").json["total"] == 0


def test_a_form_error_is_422_naming_each_field(api, hotline_app):
    body = assert_error(
        api("operator").post("/api/v1/cases", json={**INTAKE, "urgency": "whenever"}), 422
    )
    assert body["message"] == "The request failed validation: see errors."
    assert list(body["errors"]) == ["urgency"]


def test_a_domain_error_on_a_page_without_a_form_is_an_error_page(hotline_app):
    """A page that has no form to show again gets webapp.errors' page: 409 (422 for a form
    error) with the words; the API and Open311 get their own formats for the same errors."""
    from workflows.errors import DomainError, FormInvalid

    def answer(path: str, exc: Exception):
        with hotline_app.test_request_context(path, headers={"Accept-Language": "en"}):
            return hotline_app.make_response(hotline_app.handle_user_exception(exc))

    page = answer("/cases/1", DomainError("the rule says no"))
    assert page.status_code == 409 and page.mimetype == "text/html"
    assert "the rule says no" in page.get_data(as_text=True)
    page = answer("/cases/1", FormInvalid({"body": ["required"]}))
    assert page.status_code == 422 and page.mimetype == "text/html"
    assert "body: required" in page.get_data(as_text=True)
    api_answer = answer("/api/v1/cases", FormInvalid({"body": ["required"]}))
    assert api_answer.status_code == 422 and api_answer.json["errors"] == {"body": ["required"]}
    open311 = answer("/open311/v2/requests.json", FormInvalid({"phone": ["required"]}))
    assert open311.status_code == 400  # GeoReport's status for a bad parameter
    assert open311.json == [{"code": 400, "description": "phone: required"}]
