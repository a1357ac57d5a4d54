"""Deploys from the pages say why (a comment, listed with the version), a layout-only change
deploys nothing and says so, and the modeler's preview shows the diff before deploying."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.models import Definition
from tests.webapp.test_admin import COMPLAINT, complaint_v2, count, json_post, text, upload
from webapp.extensions import db


def moved(xml: str) -> str:
    """complaint.bpmn with every shape moved and the file reformatted: the same process."""
    xml = re.sub(r'<dc:Bounds x="(\d+)"', lambda m: f'<dc:Bounds x="{int(m[1]) + 35}"', xml)
    return xml.replace("\n    <bpmn:", "\n\t\t<bpmn:").replace('" />', '"/>')


def test_the_versions_list_shows_author_local_time_and_comment(as_role, hotline_app):
    client = as_role("admin")
    assert upload(client, complaint_v2(), comment="记下派单 note the dispatch").status_code == 302
    page = text(client.get("/admin/definitions/complaint"))
    row = re.search(r"<tr>\s*<td class=\"num\"><a [^>]*>v2</a>.*?</tr>", page, re.S).group(0)
    assert "管理员 Administrator" in row  # the display name, not the user name
    assert "记下派单 note the dispatch" in row
    with hotline_app.app_context():
        v2 = db.session.scalars(
            select(Definition).where(Definition.key == "complaint", Definition.version == 2)
        ).one()
        assert v2.comment == "记下派单 note the dispatch"
        from webapp.i18n import local_time

        assert local_time(v2.deployed_at) in row
    csv = text(client.get("/admin/definitions/complaint?format=csv"))
    assert "comment" in csv.splitlines()[0] and "记下派单 note the dispatch" in csv
    version = text(client.get("/admin/definitions/complaint/2"))
    assert "记下派单 note the dispatch" in version


def test_a_deploy_from_the_pages_needs_a_comment(as_role, hotline_app):
    client = as_role("admin")
    refused = upload(client, complaint_v2(), comment="  ")
    assert refused.status_code == 400
    assert "Comment" in text(refused) or "说明" in text(refused)
    body = {"xml": complaint_v2(), "file_name": "complaint.bpmn"}
    missing = json_post(client, "/admin/definitions/deploy", body)
    assert missing.status_code == 400 and missing.get_json()["field"] == "comment"
    long = json_post(client, "/admin/definitions/deploy", {**body, "comment": "x" * 501})
    assert long.status_code == 400 and long.get_json()["field"] == "comment"
    assert count(hotline_app, Definition, Definition.key == "complaint") == 1
    # the upload page asks for it
    form = text(client.get("/admin/definitions/upload"))
    assert 'name="comment"' in form and "required" in form


def test_a_layout_only_deploy_is_a_noop_that_says_so(as_role, hotline_app):
    client = as_role("admin")
    body = {"xml": moved(COMPLAINT), "file_name": "complaint.bpmn", "comment": "moved things"}
    response = json_post(client, "/admin/definitions/deploy", body)
    [outcome] = response.get_json()["outcomes"]
    assert (outcome["version"], outcome["created"]) == (1, False)
    assert "version 1" in outcome["message"] or "第 1 版" in outcome["message"]
    assert count(hotline_app, Definition, Definition.key == "complaint") == 1
    assert upload(client, moved(COMPLAINT)).status_code == 302
    page = text(client.get("/admin/definitions/complaint"))
    assert "layout" in page or "布局" in page
    assert count(hotline_app, Definition, Definition.key == "complaint") == 1


def test_the_preview_shows_the_diff_or_that_nothing_changes(as_role, hotline_app):
    client = as_role("admin")
    preview = "/admin/definitions/preview"
    same = json_post(client, preview, {"xml": moved(COMPLAINT), "file_name": "c.bpmn"})
    [process] = same.get_json()["processes"]
    assert process["unchanged"] is True and process["latest"]["version"] == 1
    assert process["added"] == process["changed"] == []

    changed = json_post(client, preview, {"xml": complaint_v2(), "file_name": "c.bpmn"})
    body = changed.get_json()
    assert changed.status_code == 200 and body["ok"] is True
    [process] = body["processes"]
    assert process["unchanged"] is False and process["key"] == "complaint"
    assert "note_dispatch" in {e["element_id"] for e in process["added"]}
    [dispatch] = [e for e in process["changed"] if e["element_id"] == "dispatch"]
    assert ["name", "派单 Dispatch", "派单 Dispatch (v2)"] in dispatch["changes"]

    new = COMPLAINT.replace('id="complaint"', 'id="complaint_b"').replace(
        'processRef="complaint"', 'processRef="complaint_b"'
    )
    [fresh] = json_post(client, preview, {"xml": new}).get_json()["processes"]
    assert fresh["latest"] is None and fresh["key"] == "complaint_b"

    bad = complaint_v2().replace("dispatch_noted = True", "dispatch_noted = open('x')")
    invalid = json_post(client, preview, {"xml": bad}).get_json()
    assert invalid["ok"] is False and invalid["issues"][0]["element"] == "note_dispatch"
    assert json_post(client, preview, {"nope": 1}).status_code == 400
    assert count(hotline_app, Definition, Definition.key.like("complaint%")) == 1
