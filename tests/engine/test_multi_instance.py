"""A parallel multi-instance user task: one ready task per item, each with the candidate group
its item names and the due time of the deadline timer on the whole task; a terminate end
event on another branch cancels the instances still open (the hotline's co-handling)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.models import HumanTask

from .conftest import fixture_bytes


def start(runtime, session, clock, units):
    runtime.set_deadline_timers(lambda spec: spec.bpmn_id == "ask_late")
    runtime.deploy(
        session, fixture_bytes("multi_instance.bpmn"), "multi_instance.bpmn", deployed_by="t"
    )
    due = clock.now() + timedelta(days=2)
    step = runtime.start(session, "multi_instance", data={"units": units, "due": due.isoformat()})
    return step, due


def rows(session, instance_id):
    session.expire_all()
    return session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.id)
    ).all()


def test_each_item_is_a_ready_task_of_its_group_with_the_deadline(runtime, session, clock):
    step, due = start(runtime, session, clock, ["B-HU", "B-UM"])
    asked = [r for r in rows(session, step.instance_id) if r.element_id == "ask"]
    assert sorted(r.candidate_group for r in asked) == ["B-HU", "B-UM"]
    assert {r.due_at for r in asked} == {due}
    done = runtime.complete_task(session, asked[0].task_id, data={"answer": "ok"})
    still = [r for r in done.ready if r.element_id == "ask"]
    assert [r.candidate_group for r in still] == [asked[1].candidate_group]
    assert still[0].due_at == due


def test_a_terminate_end_cancels_the_instances_still_open(runtime, session, clock):
    step, _ = start(runtime, session, clock, ["B-HU", "B-UM"])
    main = next(r for r in rows(session, step.instance_id) if r.element_id == "main")
    finished = runtime.complete_task(session, main.task_id, data={})
    assert finished.status == "completed"
    states = {(r.element_id, r.state) for r in rows(session, step.instance_id)}
    assert states == {("main", "completed"), ("ask", "cancelled")}


def test_no_items_no_task(runtime, session, clock):
    step, _ = start(runtime, session, clock, [])
    assert [r.element_id for r in rows(session, step.instance_id)] == ["main"]
