"""Try before deploy (docs/try-run.md): drafts with defects are reported at their elements,
the bundled diagrams run clean, and the real database is never written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.models import Base
from tests.webapp.test_admin import json_post
from webapp.cli import cli
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.tryrun.driver import Limits
from workflows.tryrun.service import try_draft

BPMN = Path(__file__).resolve().parents[2] / "bpmn"

ISLAND = """<bpmn:userTask id="orphan_a" name="孤岛 Island A">
      <bpmn:incoming>flow_orphan_ba</bpmn:incoming><bpmn:outgoing>flow_orphan_ab</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="orphan_b" name="孤岛 Island B">
      <bpmn:incoming>flow_orphan_ab</bpmn:incoming><bpmn:outgoing>flow_orphan_ba</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="flow_orphan_ab" sourceRef="orphan_a" targetRef="orphan_b" />
    <bpmn:sequenceFlow id="flow_orphan_ba" sourceRef="orphan_b" targetRef="orphan_a" />
    <bpmn:startEvent id="start\""""


ISLAND_DI = """<bpmndi:BPMNShape id="orphan_a_di" bpmnElement="orphan_a">
        <dc:Bounds x="300" y="180" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="orphan_b_di" bpmnElement="orphan_b">
        <dc:Bounds x="460" y="180" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_di\""""


def _replace(xml: str, old: str, new: str) -> str:
    assert old in xml, old
    return xml.replace(old, new, 1)


def defective_complaint() -> str:
    """The complaint diagram with three defects the validator lets through: the sign-for
    gateway has a condition that is never true and no default; the reply review is for a
    department nobody works in; two tasks form an island no start event reaches."""
    xml = (BPMN / "complaint.bpmn").read_text()
    xml = _replace(xml, ' name="签收或退单? Sign or return?" default="flow_signed"', ' name="x"')
    xml = _replace(
        xml,
        'sourceRef="signed_or_returned" targetRef="record_sign" />',
        'sourceRef="signed_or_returned" targetRef="record_sign">'
        '<bpmn:conditionExpression>action == "never"</bpmn:conditionExpression>'
        "</bpmn:sequenceFlow>",
    )
    xml = _replace(
        xml,
        '<spiffworkflow:property name="status" value="replied" />\n'
        '          <spiffworkflow:property name="candidateGroups" value="platform" />',
        '<spiffworkflow:property name="status" value="replied" />\n'
        '          <spiffworkflow:property name="candidateGroups" value="&quot;X-NOBODY&quot;" />',
    )
    xml = _replace(xml, '<bpmn:startEvent id="start"', ISLAND)
    return _replace(xml, '<bpmndi:BPMNShape id="start_di"', ISLAND_DI)


def row_counts() -> dict[str, int]:
    return {
        name: db.session.scalar(select(func.count()).select_from(table))
        for name, table in Base.metadata.tables.items()
    }


def test_a_defective_draft_is_reported_at_each_element(as_role, hotline_app):
    client = as_role("admin")
    with hotline_app.app_context():
        before = row_counts()
    response = json_post(
        client,
        "/admin/definitions/try",
        {"xml": defective_complaint(), "file_name": "complaint.bpmn", "cases": 12, "seed": 3},
    )
    assert response.status_code == 200, response.get_json()
    report = response.get_json()["report"]
    found = {(f["element"], f["kind"]) for f in report["findings"]}
    assert ("signed_or_returned", "error") in found  # no condition true, no default
    assert ("review_reply", "nobody") in found  # a group nobody is in
    assert {("orphan_a", "unreachable"), ("orphan_b", "unreachable")} <= found
    assert report["ok"] is False and report["cases"] == 12
    for finding in report["findings"]:  # what the modeler's showIssues takes
        assert finding["text"].startswith(finding["element"] + ": ") and finding["message"]
    assert report["completed"] + report["running"] + report["failed"] + report["not_started"] == 12
    with hotline_app.app_context():
        assert row_counts() == before  # nothing stored in the real database


@pytest.mark.parametrize("name", sorted(p.name for p in BPMN.glob("*.bpmn")))
def test_the_bundled_diagrams_run_clean(hotline_app, name):
    with hotline_app.app_context():
        hotline = get_hotline()
        before = row_counts()
        report = try_draft(
            db.session,
            (BPMN / name).read_bytes(),
            name,
            forms_dir=Path(hotline_app.config["FORMS_DIR"]),
            now=hotline.clock.now(),
            tz=hotline.tz,
            cases=10,
            seed=2,
            case_types=hotline.case_types,
            limits=Limits(seconds=120),
        )
        assert report.findings == [], report.lines()
        assert report.started == 10 and report.completed + report.running == 10
        assert report.failed == report.not_started == 0
        assert sum(report.ends.values()) == report.completed > 0
        assert row_counts() == before


def test_a_draft_that_would_not_deploy_answers_the_validators_issues(as_role):
    client = as_role("admin")
    broken = json_post(client, "/admin/definitions/try", {"xml": "<bpmn:definitions"})
    assert broken.status_code == 400
    assert broken.get_json()["ok"] is False and broken.get_json()["issues"]
    xml = (BPMN / "complaint.bpmn").read_text()
    bad = _replace(xml, 'targetRef="record_sign" />', 'targetRef="nowhere" />')
    response = json_post(client, "/admin/definitions/try", {"xml": bad})
    assert response.status_code == 400
    assert any(i["element"] for i in response.get_json()["issues"])


@pytest.mark.parametrize("body", [{"cases": 101}, {"cases": 0}, {"cases": "20"}, {"seed": -1}])
def test_limits_are_checked_naming_the_field(as_role, body):
    client = as_role("admin")
    xml = (BPMN / "suggestion.bpmn").read_text()
    response = json_post(client, "/admin/definitions/try", {"xml": xml, **body})
    assert response.status_code == 400
    assert response.get_json()["field"] == next(iter(body))


def test_only_administrators_may_try(as_role):
    response = as_role("dispatcher").post("/admin/definitions/try", json={"xml": "<x/>"})
    assert response.status_code in (400, 403)  # CSRF or role: never a run


def test_the_command_prints_the_report(hotline_app, tmp_path):
    draft = tmp_path / "draft.bpmn"
    draft.write_text(defective_complaint())
    runner = hotline_app.test_cli_runner()
    result = runner.invoke(cli, ["try", str(draft), "--cases", "5", "--seed", "1"])
    assert result.exit_code == 1, result.output
    assert "orphan_a: no path reaches this element" in result.output
    assert "review_reply: no user of the candidate group X-NOBODY" in result.output
    clean = runner.invoke(cli, ["try", str(BPMN / "suggestion.bpmn"), "--cases", "3"])
    assert clean.exit_code == 0, clean.output
    assert "problems: none" in clean.output


def test_a_lane_no_user_has_the_role_of_is_reported_at_its_tasks(hotline_app):
    xml = _replace(
        (BPMN / "complaint.bpmn").read_text(),
        '<bpmn:lane id="Lane_lead" name="lead">',
        '<bpmn:lane id="Lane_lead" name="mayor">',
    )
    with hotline_app.app_context():
        hotline = get_hotline()
        report = try_draft(
            db.session,
            xml.encode(),
            "complaint.bpmn",
            forms_dir=Path(hotline_app.config["FORMS_DIR"]),
            now=hotline.clock.now(),
            tz=hotline.tz,
            cases=3,
            case_types=hotline.case_types,
        )
    found = [f for f in report.findings if f.element == "lead_supervise"]
    assert [(f.kind, f.detail, f.value) for f in found] == [("nobody", "role", "mayor")]
    assert "没有角色为 mayor 的用户" in found[0].message("zh")


def test_cases_pass_service_tasks_as_the_worker_would_carry_their_connectors_out(hotline_app):
    """A draft with connectors: the run carries out each call after the step that queued it
    (an HTTP request answered by a stand-in, never sent), so cases go on past their service
    tasks instead of being reported stuck there."""
    from tests.workflows.test_connectors import CHAIN, HOST, complaint_with_chain
    from workflows.connectors import AllowedHosts

    chain = [CHAIN[0], CHAIN[2]]  # an HTTP request, then a deadline computed from today
    with hotline_app.app_context():
        hotline = get_hotline()
        before = row_counts()
        report = try_draft(
            db.session,
            complaint_with_chain(chain),
            "complaint.bpmn",
            forms_dir=Path(hotline_app.config["FORMS_DIR"]),
            now=hotline.clock.now(),
            tz=hotline.tz,
            cases=5,
            seed=3,
            case_types=hotline.case_types,
            limits=Limits(seconds=120),
            connector_hosts=AllowedHosts.parse(HOST),
        )
        assert report.findings == [], report.lines()
        assert report.completed + report.running == 5 and report.completed > 0
        assert row_counts() == before
