"""Deploying definitions: versions, no-op redeploys, and running instances staying put."""

import pytest
from sqlalchemy import select

from engine.definitions import list_definitions
from engine.errors import DefinitionInvalid
from engine.models import Definition

from .conftest import fixture_bytes


def test_first_deploy_is_version_1_and_identical_redeploy_is_a_noop(runtime, session, deploy):
    first = deploy("lifecycle.bpmn")
    assert [(o.key, o.version, o.created) for o in first] == [("lifecycle", 1, True)]
    again = deploy("lifecycle.bpmn")
    assert [(o.version, o.created) for o in again] == [(1, False)]
    assert "unchanged" in again[0].describe()
    assert session.scalar(select(Definition.id).where(Definition.version == 2)) is None


def test_changed_xml_becomes_version_2_with_its_own_hash(runtime, session, deploy):
    deploy("lifecycle.bpmn")
    changed = fixture_bytes("lifecycle.bpmn").replace(b'name="Reply"', b'name="Reply to citizen"')
    out = runtime.deploy(session, changed, "lifecycle.bpmn", deployed_by="designer")
    assert [(o.version, o.created) for o in out] == [(2, True)]
    rows = session.scalars(select(Definition).order_by(Definition.version)).all()
    assert [r.version for r in rows] == [1, 2]
    assert rows[0].sha256 != rows[1].sha256
    assert rows[1].deployed_by == "designer"
    assert rows[1].info["user_tasks"]["reply"]["name"] == "Reply to citizen"
    assert list_definitions(session) == [("lifecycle", "Case lifecycle", [1, 2])]


def test_invalid_file_stores_nothing(runtime, session):
    bad = fixture_bytes("lifecycle.bpmn").replace(b"not accepted", b"__import__('os')")
    with pytest.raises(DefinitionInvalid) as info:
        runtime.deploy(session, bad, "lifecycle.bpmn", deployed_by="x")
    assert "f3" in str(info.value.issues[0])
    assert session.scalar(select(Definition.id)) is None


def test_running_instances_stay_on_their_version(runtime, session, deploy):
    deploy("lifecycle.bpmn")
    old = runtime.start(session, "lifecycle", data={"sign_hours": 24, "escalations": 0})
    changed = fixture_bytes("lifecycle.bpmn").replace(b'name="Intake"', b'name="Intake v2"')
    runtime.deploy(session, changed, "lifecycle.bpmn", deployed_by="designer")
    new = runtime.start(session, "lifecycle", data={"sign_hours": 24, "escalations": 0})
    assert old.ready[0].name == "Intake"
    assert new.ready[0].name == "Intake v2"
    step = runtime.complete_task(session, old.ready[0].task_id, data={"accepted": True})
    assert step.definition_id == old.definition_id != new.definition_id
    assert step.ready[0].element_id == "sign_for"


def test_specs_are_parsed_once_per_version(runtime, session, deploy, monkeypatch):
    import engine.definitions as defs

    deploy("lifecycle.bpmn")
    calls = []
    real = defs.parse_specs
    monkeypatch.setattr(defs, "parse_specs", lambda *a: calls.append(a[1]) or real(*a))
    for _ in range(3):
        runtime.start(session, "lifecycle", data={"sign_hours": 1, "escalations": 0})
    assert calls == ["lifecycle"]
