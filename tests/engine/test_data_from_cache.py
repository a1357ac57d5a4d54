"""``Runtime.data`` reads the live workflow when a step of this process left it cached: the
same data as a restore from the row, as a copy, and never a stale version."""

from __future__ import annotations

import pytest

from engine.runtime import Runtime

START = {"sign_hours": 24, "escalations": 0, "nested": {"a": [1, 2]}}


@pytest.fixture
def lifecycle(deploy):
    deploy("lifecycle.bpmn")


def test_data_is_the_same_from_the_cache_and_from_the_row(runtime, session, lifecycle, clock):
    step = runtime.start(session, "lifecycle", data=START)
    step = runtime.complete_task(session, step.ready[0].task_id, data={"accepted": True})
    data = runtime.data(session, step.instance_id)
    restored = Runtime(clock=clock, workflow_cache_size=0)
    assert data == restored.data(session, step.instance_id)
    assert data["accepted"] is True and data["nested"] == {"a": [1, 2]}


def test_data_from_the_cache_is_a_copy(runtime, session, lifecycle):
    step = runtime.start(session, "lifecycle", data=START)
    runtime.data(session, step.instance_id)["nested"]["a"].append(3)
    assert runtime.data(session, step.instance_id)["nested"] == {"a": [1, 2]}


def test_a_stale_cache_entry_is_not_read(runtime, session, lifecycle, clock):
    step = runtime.start(session, "lifecycle", data=START)
    other = Runtime(clock=clock)  # another process steps the instance
    other.complete_task(session, step.ready[0].task_id, data={"accepted": False})
    assert runtime.data(session, step.instance_id)["accepted"] is False
