"""The API on a diagram drawn with other element ids: tasks carry their step and are listed
by it; deploying a diagram with an unknown step is refused with the located issue."""

from __future__ import annotations

from tests.webapp.test_intake import open_case
from tests.webapp.test_steps import UNKNOWN, UNKNOWN_LINE, redrawn


def test_the_api_lists_tasks_by_step(hotline_app, api):
    ids = redrawn(hotline_app)
    number = open_case(hotline_app)
    listed = api("dispatcher").get("/api/v1/tasks?step=dispatch").json
    (item,) = [t for t in listed["items"] if t["case"]["number"] == number]
    assert (item["step"], item["element_id"]) == ("dispatch", ids["dispatch"])
    assert api("dispatcher").get("/api/v1/tasks?step=sign_for").json["total"] == 0
    bad = api("dispatcher").get("/api/v1/tasks?step=sign_off")
    assert bad.status_code == 422 and "step" in bad.json["errors"]


def test_the_api_refuses_to_deploy_an_unknown_step(hotline_app, api):
    response = api("admin").post(
        "/api/v1/definitions", json={"xml": UNKNOWN.decode(), "file_name": "c.bpmn"}
    )
    assert response.status_code == 422
    (issue,) = response.json["errors"]["xml"]
    assert issue.startswith(f"c.bpmn:{UNKNOWN_LINE}: sign_for: property 'step': unknown step")
