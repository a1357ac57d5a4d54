"""The API refuses a diagram whose condition always exceeds the expression budget, naming the
flow; one within budget deploys and a case runs on it (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import Definition, ProcessInstance
from tests.webapp.test_expression_budget import FLOW, OVER, WITHIN, _versions, complaint_with
from tests.webapp.test_intake import case_row, open_case
from webapp.extensions import db


def test_api_upload_refuses_conditions_over_budget_and_deploys_one_within(api, hotline_app):
    admin = api("admin")
    for condition in OVER:
        response = admin.post(
            "/api/v1/definitions",
            json={"xml": complaint_with(condition), "file_name": "complaint.bpmn"},
        )
        assert response.status_code == 422, condition
        (issue,) = response.json["errors"]["xml"]
        assert FLOW in issue and "budget" in issue, condition
    assert _versions(hotline_app) == 1

    response = admin.post(
        "/api/v1/definitions", json={"xml": complaint_with(WITHIN), "file_name": "complaint.bpmn"}
    )
    assert response.status_code == 200, response.json
    assert _versions(hotline_app) == 2
    # a case opened now runs version 2, whose changed condition is evaluated at intake
    case = case_row(
        hotline_app,
        open_case(hotline_app, intake_outcome="answered", answer="answered on the phone"),
    )
    with hotline_app.app_context():
        instance = db.session.get(ProcessInstance, case.instance_id)
        definition = db.session.scalars(
            select(Definition).where(Definition.id == instance.definition_id)
        ).one()
        assert definition.version == 2 and instance.status == "completed"


def test_a_case_whose_data_takes_a_condition_over_budget_is_refused_not_a_500(api, hotline_app):
    from tests.webapp.test_intake import INTAKE

    admin = api("admin")
    growing = complaint_with("intake_outcome * 1000000 == 'x'")  # only the data makes it big
    response = admin.post("/api/v1/definitions", json={"xml": growing, "file_name": "c.bpmn"})
    assert response.status_code == 200, response.json
    operator = api("operator")
    response = operator.post(
        "/api/v1/cases", json={**INTAKE, "intake_outcome": "answered", "answer": "ok"}
    )
    assert response.status_code == 409
    message = response.json["message"]
    assert "at intake_outcome" in message and "size budget" in message
    assert operator.get("/api/v1/cases").json["total"] == 0  # nothing half-made
