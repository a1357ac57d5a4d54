"""Stored instances of older formats load, upgrade and run on; newer ones say so.

The fixtures in ``fixtures/stored`` are engine rows written by the code of before the engine
numbered its format (format 1: ``spec_ref``, no ``engine_format``); see ``make_stored.py``
there. Each test inserts one into an empty database, as it would be found after an upgrade of
the engine, and runs the case on to its end.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from sqlalchemy import insert, select

from engine import stored_format
from engine.errors import StoredFormatError, WorkflowRunError
from engine.models import (
    Definition,
    HumanTask,
    InstanceEvent,
    ProcessInstance,
    Timer,
    UTCDateTime,
)
from engine.serializer import SERIALIZER_VERSION
from engine.stored_format import ENGINE_FORMAT, UPGRADES

from .conftest import FIXTURES

STORED = FIXTURES / "stored"
DATETIME_COLUMNS = {
    model: {c.key for c in model.__table__.columns if isinstance(c.type, UTCDateTime)}
    for model in (Definition, ProcessInstance, HumanTask, Timer, InstanceEvent)
}


def fixture(name: str) -> dict:
    return json.loads((STORED / f"{name}-format1.json").read_text(encoding="utf-8"))


def insert_stored(session, stored: dict, clock) -> int:
    """Insert a fixture's rows (new ids); set the clock to when it was written. Instance id."""

    def values(model, row: dict, **more) -> dict:
        out = dict(row, **more)
        for key in DATETIME_COLUMNS[model] & out.keys():
            if out[key] is not None:
                out[key] = datetime.fromisoformat(out[key])
        return out

    with session.begin():
        definition_id = session.execute(
            insert(Definition).values(values(Definition, stored["definition"]))
        ).inserted_primary_key[0]
        instance_id = session.execute(
            insert(ProcessInstance).values(
                values(ProcessInstance, stored["instance"], definition_id=definition_id)
            )
        ).inserted_primary_key[0]
        for model, key in (
            (HumanTask, "human_tasks"),
            (Timer, "timers"),
            (InstanceEvent, "events"),
        ):
            for row in stored[key]:
                session.execute(insert(model).values(values(model, row, instance_id=instance_id)))
    clock.set(datetime.fromisoformat(stored["clock"]))
    return instance_id


def state_of(session, instance_id: int) -> tuple[dict, str, int]:
    session.expire_all()
    row = session.get(ProcessInstance, instance_id)
    return json.loads(row.state), row.state, row.version


def ready(runtime, session, instance_id: int, element_id: str) -> str:
    found = [t for t in runtime.ready_tasks(session, instance_id) if t.element_id == element_id]
    assert found, [t.element_id for t in runtime.ready_tasks(session, instance_id)]
    return found[0].task_id


def test_fixtures_are_of_format_one():
    # What the tests below load: today's rows, not ones written by the code under test.
    for name in ("lifecycle", "loop", "complaint"):
        state = json.loads(fixture(name)["instance"]["state"])
        assert "engine_format" not in state and "spec" not in state
        assert state["spec_ref"] == fixture(name)["definition"]["key"]
        assert state["serializer_version"] == "1.5"


def test_a_lifecycle_case_stored_in_format_one_runs_to_its_end(runtime, session, clock):
    instance_id = insert_stored(session, fixture("lifecycle"), clock)
    # Its 24-hour sign-for limit, armed before the upgrade, fires at its time: escalated.
    assert fixture("lifecycle")["timers"][0]["due_at"] == "2026-03-03T01:05:00+00:00"
    clock.set(datetime.fromisoformat("2026-03-03T01:04:00+00:00"))
    assert runtime.fire_due_timers(session) == 0
    clock.advance(minutes=1)
    assert runtime.fire_due_timers(session) == 1
    data, text, version = state_of(session, instance_id)
    assert text.startswith(f'{{"engine_format":{ENGINE_FORMAT},')
    assert data["serializer_version"] == SERIALIZER_VERSION and data["spec_ref"] == "lifecycle"
    assert version == 3
    step = runtime.complete_task(session, ready(runtime, session, instance_id, "sign_for"))
    step = runtime.complete_task(session, step.ready[0].task_id, data={"reply": "fixed"})
    step = runtime.complete_task(session, step.ready[0].task_id, data={"rating": "satisfied"})
    assert step.status == "completed"
    assert step.data["escalations"] == 1 and step.data["reply"] == "fixed"
    # data stored before the upgrade, a date among it, came through
    assert step.data["opened_on"].isoformat() == "2026-03-02"
    kinds = [e.kind for e in runtime.events(session, instance_id)]
    assert kinds[:2] == ["instance.started", "task.completed"]  # from the fixture
    assert kinds[2:] == ["timer.fired"] + ["task.completed"] * 3 + ["instance.completed"]


def test_a_loop_stored_in_format_one_loops_on_to_its_end(runtime, session, clock):
    instance_id = insert_stored(session, fixture("loop"), clock)
    assert runtime.data(session, instance_id)["count"] == 3
    step = runtime.complete_task(session, ready(runtime, session, instance_id, "work"))
    assert step.status == "running" and step.data["count"] == 4
    assert json.loads(state_of(session, instance_id)[1])["engine_format"] == ENGINE_FORMAT
    step = runtime.complete_task(session, step.ready[0].task_id)
    assert step.status == "completed" and step.data["last_loop"] == 5
    works = session.scalars(
        select(HumanTask.state).where(HumanTask.instance_id == instance_id)
    ).all()
    assert works == ["completed"] * 5


def test_a_dispatched_complaint_stored_in_format_one_closes(runtime, session, clock):
    """The bundled complaint diagram as the hotline stored it (the diagram's XML at the time)."""
    instance_id = insert_stored(session, fixture("complaint"), clock)
    clock.advance(hours=2)
    step = runtime.complete_task(
        session, ready(runtime, session, instance_id, "sign_for"), data={"action": "sign"}
    )
    assert [t.element_id for t in step.ready] == ["handle"]
    assert json.loads(state_of(session, instance_id)[1])["engine_format"] == ENGINE_FORMAT
    clock.advance(days=2)
    step = runtime.complete_task(
        session,
        step.ready[0].task_id,
        data={"action": "reply", "reply_text": "done", "result": "resolved"},
    )
    step = runtime.complete_task(
        session, ready(runtime, session, instance_id, "review_reply"), data={"decision": "accept"}
    )
    step = runtime.complete_task(
        session,
        ready(runtime, session, instance_id, "callback"),
        data={"satisfaction": "satisfied", "resolved": "yes", "reopen": False},
    )
    assert step.status == "completed"
    assert step.data["lead_department"] == "B-MR" and step.data["reply_text"] == "done"
    assert runtime.pending_timers(session, instance_id) == []


def test_reading_an_old_row_upgrades_in_memory_and_writes_nothing(runtime, session, clock):
    instance_id = insert_stored(session, fixture("loop"), clock)
    before = state_of(session, instance_id)
    assert runtime.data(session, instance_id)["count"] == 3
    assert state_of(session, instance_id) == before  # the next step writes the new format


def test_an_older_spiffworkflow_format_goes_through_spiffworkflows_migration(
    runtime, session, clock, monkeypatch
):
    stored = fixture("lifecycle")
    state = json.loads(stored["instance"]["state"])
    state["serializer_version"] = "1.4"
    stored["instance"]["state"] = json.dumps(state)
    seen = []
    real = MIGRATIONS["1.4"]

    def spiffworkflows_own(dct):
        # it reads the embedded spec of every task, as it would in a full serialization
        seen.append(
            {t["task_spec"] for t in dct["tasks"].values()} <= dct["spec"]["task_specs"].keys()
        )
        real(dct)

    monkeypatch.setitem(MIGRATIONS, "1.4", spiffworkflows_own)
    instance_id = insert_stored(session, stored, clock)
    step = runtime.complete_task(session, ready(runtime, session, instance_id, "sign_for"))
    assert seen == [True]  # ran once, on the whole dict
    data, text, _ = state_of(session, instance_id)
    assert data["serializer_version"] == SERIALIZER_VERSION and data["engine_format"] == 2
    assert "task_specs" not in text and "subprocess_specs" not in data  # by reference again
    step = runtime.complete_task(session, step.ready[0].task_id, data={"reply": "ok"})
    step = runtime.complete_task(session, step.ready[0].task_id, data={"rating": "satisfied"})
    assert step.status == "completed" and seen == [True]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"engine_format": ENGINE_FORMAT + 1}, f"newer than this engine's \\({ENGINE_FORMAT}\\)"),
        ({"engine_format": "2"}, "engine_format '2' is not a format version"),
        ({"serializer_version": "9.0"}, "serializer version is '9.0', which .* cannot migrate"),
        ({"spec_ref": None, "spec": {}}, "not a workflow stored by this engine"),
    ],
)
def test_a_format_this_engine_cannot_read_is_a_clear_error(
    runtime, session, clock, change, message
):
    stored = fixture("loop")
    state = json.loads(stored["instance"]["state"])
    state.update(change)
    if state["spec_ref"] is None:
        del state["spec_ref"]
    stored["instance"]["state"] = json.dumps(state)
    instance_id = insert_stored(session, stored, clock)
    task_id = ready(runtime, session, instance_id, "work")
    with pytest.raises(
        StoredFormatError, match=f"instance {instance_id} cannot be loaded: .*{message}"
    ):
        runtime.complete_task(session, task_id)
    with pytest.raises(StoredFormatError, match=message):
        runtime.data(session, instance_id)
    session.rollback()
    assert state_of(session, instance_id)[1] == stored["instance"]["state"]  # untouched


def test_every_older_format_has_its_upgrade_module():
    assert sorted(UPGRADES) == list(range(1, ENGINE_FORMAT))
    for version, upgrade in UPGRADES.items():
        module = __import__(upgrade.__module__, fromlist=["_"])
        assert module.__name__ == f"{stored_format.__name__}.version_{version + 1}"
        assert module.__doc__ and f"format {version} to {version + 1}" in module.__doc__


#: a sequential multi-instance user task: one "Check" per item
EACH = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="Defs_each" targetNamespace="http://hotline.example/test">
  <bpmn:process id="each" name="Each" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="check" name="Check">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics isSequential="true">
        <bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>
        <bpmn:loopDataOutputRef>results</bpmn:loopDataOutputRef>
        <bpmn:inputDataItem id="item" name="item"/>
        <bpmn:outputDataItem id="result" name="result"/>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize("migrated", [True, False], ids=["migrated", "control"])
def test_spiffworkflows_migration_changes_what_the_case_does(
    runtime, session, clock, monkeypatch, migrated
):
    """A row of SpiffWorkflow's format 1.3, where a multi-instance task under way was WAITING
    (it is STARTED since 1.4): SpiffWorkflow's own migration sets it right and the case
    finishes. The control run skips that migration, and the case breaks."""
    runtime.deploy(session, EACH, "each.bpmn", deployed_by="tester")
    step = runtime.start(session, "each", data={"items": ["a", "b", "c"]})
    step = runtime.complete_task(session, step.ready[0].task_id, data={"result": "A"})
    instance_id = step.instance_id
    state, _, version = state_of(session, instance_id)
    runtime.workflows.take(instance_id, version)  # the next step reads the row
    [check] = [t for t in state["tasks"].values() if t["task_spec"] == "check"]
    assert check["state"] == 32  # STARTED
    check["state"] = 8  # WAITING, as SpiffWorkflow's format 1.3 had it
    state["serializer_version"] = "1.3"
    session.get(ProcessInstance, instance_id).state = json.dumps(state)
    session.commit()
    if not migrated:
        monkeypatch.setitem(MIGRATIONS, "1.3", lambda dct: None)
    task_id = runtime.ready_tasks(session, instance_id)[0].task_id
    if not migrated:
        with pytest.raises(WorkflowRunError, match="the workflow failed at check"):
            runtime.complete_task(session, task_id, data={"result": "B"})
        return
    step = runtime.complete_task(session, task_id, data={"result": "B"})
    state = state_of(session, instance_id)[0]
    assert state["serializer_version"] == SERIALIZER_VERSION
    step = runtime.complete_task(session, step.ready[0].task_id, data={"result": "C"})
    assert step.status == "completed" and step.data["results"] == ["A", "B", "C"]
