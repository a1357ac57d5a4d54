"""/api/v1/definitions: list, versions, XML, deploying (validated first) and diffs; for
administrators only."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.webapp.test_intake import open_case
from webapp.extensions import db
from workflows.audit.models import AuditEntry


@pytest.fixture
def complaint_xml(hotline_app) -> str:
    return (Path(hotline_app.config["BPMN_DIR"]) / "complaint.bpmn").read_text()


def test_only_administrators(api):
    for role in ("operator", "dispatcher", "handler", "supervisor"):
        assert api(role).get("/api/v1/definitions").status_code == 403, role
        assert api(role).post("/api/v1/definitions", json={"xml": "<x/>"}).status_code == 403


def test_list_versions_and_xml(api, hotline_app, complaint_xml):
    open_case(hotline_app)
    admin = api("admin")
    listed = {d["key"]: d for d in admin.get("/api/v1/definitions").json}
    assert set(listed) >= {"complaint", "report", "consultation", "help_request", "suggestion"}
    assert listed["complaint"]["latest_version"] == 1 and listed["complaint"]["running"] == 1
    versions = admin.get("/api/v1/definitions/complaint/versions").json
    assert [v["version"] for v in versions] == [1]
    assert versions[0]["running"] == 1 and versions[0]["deployed_by"] == "tests"
    assert "sign_for" in versions[0]["user_tasks"]
    one = admin.get("/api/v1/definitions/complaint/versions/1")
    assert one.json == versions[0]
    xml = admin.get("/api/v1/definitions/complaint/versions/1/xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert xml.get_data(as_text=True) == complaint_xml
    assert admin.get("/api/v1/definitions/complaint/versions/9").status_code == 404
    assert admin.get("/api/v1/definitions/nothing/versions").status_code == 404


def test_deploying_validates_versions_and_diffs(api, complaint_xml, hotline_app):
    admin = api("admin")
    same = admin.post(
        "/api/v1/definitions", json={"xml": complaint_xml, "file_name": "complaint.bpmn"}
    )
    assert same.status_code == 200
    assert same.json["outcomes"] == [
        {
            "key": "complaint",
            "version": 1,
            "created": False,
            "message": same.json["outcomes"][0]["message"],
        }
    ]
    changed = complaint_xml.replace('name="签收 Sign for"', 'name="签收 Sign for it"', 1)
    assert changed != complaint_xml
    deployed = admin.post(
        "/api/v1/definitions",
        json={"xml": changed, "file_name": "complaint.bpmn"},
        headers={"Idempotency-Key": "deploy-2"},
    )
    assert deployed.status_code == 200
    assert deployed.json["outcomes"][0]["version"] == 2 and deployed.json["outcomes"][0]["created"]
    # the new version (not the unchanged one) is in the audit log, with who deployed it
    with hotline_app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "definition.deploy")
        ).all()
        via_api = [
            (r.actor_name, r.target_id, r.detail["version"]) for r in rows if r.detail.get("via")
        ]
    assert via_api == [("admin", "complaint", 2)]
    diff = admin.get("/api/v1/definitions/complaint/diff")
    assert diff.status_code == 200
    assert diff.json["from_version"] == 1 and diff.json["to_version"] == 2
    (change,) = diff.json["changed"]
    assert change["element_id"] == "sign_for"
    assert change["changes"]["name"] == ["签收 Sign for", "签收 Sign for it"]
    assert admin.get("/api/v1/definitions/complaint/diff?from=2&to=1").status_code == 200
    missing = admin.get("/api/v1/definitions/complaint/diff?from=7")
    assert missing.status_code == 422 and "from" in missing.json["errors"]


def test_an_invalid_diagram_is_refused_with_located_issues(api):
    admin = api("admin")
    response = admin.post("/api/v1/definitions", json={"xml": "<definitions>", "file_name": "x"})
    assert response.status_code == 422
    (issue,) = response.json["errors"]["xml"]
    assert issue.startswith("x:")
    no_xml = admin.post("/api/v1/definitions", json={"file_name": "x.bpmn"})
    assert no_xml.status_code == 422 and "xml" in no_xml.json["errors"]
    assert admin.get("/api/v1/definitions/x/versions").status_code == 404


def test_a_deploy_keeps_its_comment_and_a_moved_diagram_is_unchanged(api, complaint_xml):
    import re

    admin = api("admin")
    moved = re.sub(
        r'<dc:Bounds x="(\d+)"', lambda m: f'<dc:Bounds x="{int(m[1]) + 20}"', complaint_xml
    )
    same = admin.post("/api/v1/definitions", json={"xml": moved, "comment": "moved"})
    assert same.status_code == 200 and same.json["outcomes"][0]["created"] is False
    assert "same process as version 1" in same.json["outcomes"][0]["message"]
    changed = complaint_xml.replace('name="签收 Sign for"', 'name="签收 Sign for it"', 1)
    too_long = admin.post("/api/v1/definitions", json={"xml": changed, "comment": "x" * 501})
    assert too_long.status_code == 422 and "comment" in too_long.json["errors"]
    deployed = admin.post(
        "/api/v1/definitions", json={"xml": changed, "comment": "签收改名 rename sign-for"}
    )
    assert deployed.json["outcomes"][0]["version"] == 2
    versions = admin.get("/api/v1/definitions/complaint/versions").json
    assert [(v["version"], v["comment"]) for v in versions][0] == (2, "签收改名 rename sign-for")
    assert admin.get("/api/v1/definitions/complaint/versions/2").json["comment"] == (
        "签收改名 rename sign-for"
    )
