"""Signals delivered to one instance (``Runtime.signal``), straight and restored (``mode``):
a non-interrupting event sub-process starts once per signal, sees the process data as it is
then with the payload on top, and leaves the main path where it was."""

from uuid import UUID

import pytest
from sqlalchemy import select

from engine.errors import ConflictError, NotFound
from engine.models import HumanTask


@pytest.fixture
def signals(deploy):
    deploy("signals.bpmn")


def ready(step):
    return sorted((t.element_id, t.candidate_group) for t in step.ready)


def test_each_signal_starts_its_own_sub_process_with_the_data_of_now(runtime, session, signals):
    step = runtime.start(session, "signals", business_key="S1")
    seen = []
    runtime.add_listener(type("L", (), {"on_step": lambda self, s, st: seen.append(st.kind)})())
    step = runtime.signal(session, step.instance_id, "chase", payload={"note": "first"}, actor="sv")
    assert ready(step) == [("answer", "unit_a"), ("work", None)]
    assert seen == ["signal"]
    step = runtime.signal(session, step.instance_id, "chase", payload={"note": "second"})
    assert ready(step) == [("answer", "unit_a"), ("answer", "unit_a"), ("work", None)]
    answers = [t for t in step.ready if t.element_id == "answer"]
    notes = sorted(step.workflow.get_task_from_id(UUID(t.task_id)).data["note"] for t in answers)
    assert notes == ["first", "second"]
    step = runtime.complete_task(session, answers[0].task_id, data={"text": "done"})
    assert ready(step) == [("answer", "unit_a"), ("work", None)]
    assert step.status == "running"
    kinds = [e.kind for e in runtime.events(session, step.instance_id)]
    assert kinds.count("signal.received") == 2


def test_a_signal_thrown_inside_starts_the_same_sub_process(runtime, session, signals):
    step = runtime.start(session, "signals", business_key="S2")
    step = runtime.complete_task(session, step.ready[0].task_id, data={"again": True})
    assert ready(step) == [("answer", "unit_a"), ("finish", None)]


def test_a_signal_nothing_waits_for_is_refused_and_writes_nothing(runtime, session, signals):
    step = runtime.start(session, "signals", business_key="S3")
    with pytest.raises(ConflictError, match="not waiting for the signal 'other'"):
        runtime.signal(session, step.instance_id, "other")
    assert runtime.instance(session, step.instance_id).version == step.version
    runtime.complete_task(session, step.ready[0].task_id, data={"again": False})
    with pytest.raises(ConflictError, match="completed, not running"):
        runtime.signal(session, step.instance_id, "chase")
    with pytest.raises(NotFound):
        runtime.signal(session, 999, "chase")
    session.rollback()
    assert session.scalars(select(HumanTask).where(HumanTask.element_id == "answer")).all() == []
