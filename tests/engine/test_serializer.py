"""Serialization: spec by reference, same task dicts as SpiffWorkflow's own, dates survive."""

import json
from datetime import UTC, date, datetime

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

from engine.clock import ManualClock
from engine.expressions import Evaluator
from engine.serializer import WorkflowSerializer, spiff_config
from engine.spiff import BpmnParser, ScriptEngine, time_functions

from .conftest import FIXTURES

SCENARIOS = {
    "lifecycle": (
        {"sign_hours": 1, "escalations": 0},
        [
            {"accepted": True},
            "timer",
            {},
            {"reply": "r"},
            {"rating": "unsatisfied"},
            {"reply": "again"},
            {"rating": "satisfied"},
        ],
    ),
    "loop_case": ({"target": 3}, [{}, {}, {}]),
    "timers": (
        {"reminders": 0, "due": "2026-03-02T20:00:00+08:00"},
        ["timer", "timer", {"done": True}],
    ),
}


def spiff_tasks(workflow) -> dict:
    """SpiffWorkflow's own serialization of the task tree (spec embedded; tasks compared)."""
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(spiff_config()))
    return json.loads(serializer.serialize_json(workflow))["tasks"]


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_our_task_dicts_equal_spiffworkflows_at_every_step(key):
    clock = ManualClock(datetime(2026, 3, 2, 1, tzinfo=UTC))
    file = {"lifecycle": "lifecycle.bpmn", "loop_case": "loop.bpmn", "timers": "timers.bpmn"}[key]
    parser = BpmnParser()
    parser.add_bpmn_file(str(FIXTURES / file))
    spec, subs = parser.get_spec(key), parser.get_subprocess_specs(key)
    engine = ScriptEngine(
        Evaluator(time_functions(clock)),
        clock,
        UTC,
        {"notify_supervisor": lambda ctx, data, reason: {}},
    )
    workflow = BpmnWorkflow(spec, subs, script_engine=engine)
    start, steps = SCENARIOS[key]
    workflow.get_next_task(state=TaskState.READY).data.update(start)
    workflow.do_engine_steps()
    ours = WorkflowSerializer()
    for step in [None, *steps]:
        if step == "timer":
            clock.advance(hours=1, minutes=30)
            workflow.refresh_timers()
            workflow.do_engine_steps()
        elif step is not None:
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            task.data.update(step)
            task.run()
            workflow.do_engine_steps()
        text = ours.dumps(workflow)  # twice: the second uses the cached dicts of old tasks
        text = ours.dumps(workflow)
        assert json.loads(text)["tasks"] == spiff_tasks(workflow)
        restored = ours.loads(text, spec, subs)
        assert json.loads(ours.dumps(restored)) == json.loads(text)


def test_the_spec_is_stored_by_reference():
    parser = BpmnParser()
    parser.add_bpmn_file(str(FIXTURES / "lifecycle.bpmn"))
    spec, subs = parser.get_spec("lifecycle"), parser.get_subprocess_specs("lifecycle")
    clock = ManualClock()
    workflow = BpmnWorkflow(spec, subs, script_engine=ScriptEngine(Evaluator(), clock, UTC))
    workflow.do_engine_steps()
    ours = json.loads(WorkflowSerializer().dumps(workflow))
    assert ours["spec_ref"] == "lifecycle" and "spec" not in ours
    embedded = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(spiff_config()))
    assert len(WorkflowSerializer().dumps(workflow)) < len(embedded.serialize_json(workflow)) / 2


def test_dates_in_task_data_survive_a_round_trip():
    parser = BpmnParser()
    parser.add_bpmn_file(str(FIXTURES / "lifecycle.bpmn"))
    spec, subs = parser.get_spec("lifecycle"), parser.get_subprocess_specs("lifecycle")
    workflow = BpmnWorkflow(spec, subs, script_engine=ScriptEngine(Evaluator(), ManualClock(), UTC))
    values = {"when": datetime(2026, 10, 9, 10, 0, tzinfo=UTC), "day": date(2026, 10, 1)}
    workflow.get_next_task(state=TaskState.READY).data.update(values)
    workflow.do_engine_steps()
    s = WorkflowSerializer()
    restored = s.loads(s.dumps(workflow), spec, subs)
    task = restored.get_next_task(state=TaskState.READY, manual=True)
    assert task.data["when"] == values["when"] and task.data["day"] == values["day"]
