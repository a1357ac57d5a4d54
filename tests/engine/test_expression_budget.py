"""A deployed condition whose data makes it exceed the expression budget: the step is refused
naming the element and the budget, nothing of it is kept, and the case goes on (SQLite and
PostgreSQL, both runtime modes)."""

from __future__ import annotations

import pytest

from engine.errors import WorkflowRunError
from engine.expressions import Budget
from engine.models import ProcessInstance
from engine.runtime import Runtime

from .conftest import fixture_bytes
from .test_runtime import START

GROWING = b'rating * 1000 == "unsatisfied"'
COUNTING = b'len([c for c in rating if c == "u"]) > 5'


def _lifecycle(condition: bytes) -> bytes:
    return fixture_bytes("lifecycle.bpmn").replace(b'rating == "unsatisfied"', condition)


def _at_callback(runtime: Runtime, session, condition: bytes):
    result = runtime.deploy(session, _lifecycle(condition), "lifecycle.bpmn", deployed_by="t")
    assert [d.version for d in result] == [1]  # data-dependent: deploy cannot know; accepts
    step = runtime.start(session, "lifecycle", data=START)
    step = runtime.complete_task(session, step.ready[0].task_id, data={"accepted": True})
    step = runtime.complete_task(session, step.ready[0].task_id)
    return runtime.complete_task(session, step.ready[0].task_id, data={"reply": "x"})


def _refused_and_rolled_back(runtime, session, step, data, budget: str) -> WorkflowRunError:
    before = session.get(ProcessInstance, step.instance_id).version
    events_before = len(runtime.events(session, step.instance_id))
    with pytest.raises(WorkflowRunError) as caught:
        runtime.complete_task(session, step.ready[0].task_id, data=data)
    message = str(caught.value)
    assert caught.value.element == "satisfied" and "at satisfied" in message
    assert f"exceeds the {budget} budget" in message and "rating" in message
    session.expire_all()
    assert session.get(ProcessInstance, step.instance_id).version == before
    assert len(runtime.events(session, step.instance_id)) == events_before
    assert [t.element_id for t in runtime.ready_tasks(session, step.instance_id)] == ["callback"]
    return caught.value


def test_a_condition_growing_past_the_size_budget_is_refused(clock, mode, session):
    runtime = Runtime(clock=clock, workflow_cache_size=2000 if mode == "straight" else 0)
    step = _at_callback(runtime, session, GROWING)
    _refused_and_rolled_back(runtime, session, step, {"rating": "u" * 200}, "size")
    done = runtime.complete_task(session, step.ready[0].task_id, data={"rating": "ok"})
    assert done.status == "completed"


def test_a_condition_past_the_step_budget_stops_early(clock, mode, session):
    runtime = Runtime(
        clock=clock,
        workflow_cache_size=2000 if mode == "straight" else 0,
        expression_budget=Budget(steps=300),
    )
    step = _at_callback(runtime, session, COUNTING)
    _refused_and_rolled_back(runtime, session, step, {"rating": "u" * 5000}, "steps")
    done = runtime.complete_task(session, step.ready[0].task_id, data={"rating": "uuu"})
    assert done.status == "completed"


def test_deploy_refuses_a_condition_that_always_exceeds_the_budget(clock, session):
    from engine.errors import DefinitionInvalid

    runtime = Runtime(clock=clock)
    with pytest.raises(DefinitionInvalid) as caught:
        runtime.deploy(session, _lifecycle(b"9 ** 9 ** 9 > rating"), "l.bpmn", deployed_by="t")
    assert "f10" in str(caught.value) and "size budget" in str(caught.value)
