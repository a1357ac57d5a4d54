"""Running diagrams through the engine, straight and restored at every step (``mode``)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.errors import ConflictError, NotFound, TaskDataError, WorkflowRunError
from engine.models import HumanTask, InstanceEvent, ProcessInstance, Timer
from tests.engine.conftest import fixture_bytes

START = {"sign_hours": 24, "escalations": 0}


@pytest.fixture
def lifecycle(deploy):
    deploy("lifecycle.bpmn")


def kinds(runtime, session, instance_id):
    return [e.kind for e in runtime.events(session, instance_id)]


def test_a_case_runs_from_intake_to_close(runtime, session, lifecycle):
    step = runtime.start(session, "lifecycle", data=START, actor="op", business_key="C1")
    assert [(t.element_id, t.lane, t.form_key) for t in step.ready] == [
        ("intake", "operator", "test/intake")
    ]
    step = runtime.complete_task(
        session, step.ready[0].task_id, data={"accepted": True}, actor="op"
    )
    assert step.ready[0].element_id == "sign_for"
    step = runtime.complete_task(session, step.ready[0].task_id, actor="h1")
    step = runtime.complete_task(
        session, step.ready[0].task_id, data={"reply": "fixed"}, actor="h1"
    )
    step = runtime.complete_task(session, step.ready[0].task_id, data={"rating": "satisfied"})
    assert step.status == "completed" and step.ready == []
    assert step.data["reply"] == "fixed"
    row = session.get(ProcessInstance, step.instance_id)
    assert (row.status, row.version, row.business_key) == ("completed", 5, "C1")
    assert kinds(runtime, session, step.instance_id) == [
        "instance.started",
        "task.completed",
        "task.completed",
        "task.completed",
        "task.completed",
        "instance.completed",
    ]
    tasks = session.scalars(select(HumanTask).order_by(HumanTask.id)).all()
    assert [(t.element_id, t.state, t.completed_by) for t in tasks] == [
        ("intake", "completed", "op"),
        ("sign_for", "completed", "h1"),
        ("reply", "completed", "h1"),
        ("callback", "completed", None),
    ]
    # The serialized workflow holds a reference to its spec, not the spec itself.
    assert '"spec_ref":"lifecycle"' in row.state and "task_specs" not in row.state


def test_a_task_kind_named_by_the_domain_is_projected(runtime, session, lifecycle):
    """What a task is comes from a function of its spec the domain sets: it is stored with the
    task row (queries filter on it) and handed to listeners with the ready tasks."""
    runtime.set_task_kind(lambda spec: {"sign_for": "signing"}.get(spec.name))
    step = runtime.start(session, "lifecycle", data=START)
    assert [t.kind for t in step.ready] == [None]
    step = runtime.complete_task(session, step.ready[0].task_id, data={"accepted": True})
    assert [t.kind for t in step.ready] == ["signing"]
    row = session.scalars(select(HumanTask).where(HumanTask.kind == "signing")).one()
    assert (row.element_id, row.state) == ("sign_for", "ready")


def test_a_non_interrupting_timer_is_a_deadline_only_when_the_domain_says(runtime, session, clock):
    """A reminder that does not interrupt makes no deadline, unless the domain names such
    timers deadlines (a sign-for limit that escalates but leaves the task open)."""
    xml = fixture_bytes("lifecycle.bpmn").replace(
        b'cancelActivity="true"', b'cancelActivity="false"'
    )
    runtime.deploy(session, xml, "lifecycle.bpmn", deployed_by="tester")
    started = clock.now()

    def at_sign_for():
        step = runtime.start(session, "lifecycle", data=START)
        return runtime.complete_task(session, step.ready[0].task_id, data={"accepted": True})

    assert [(t.element_id, t.due_at) for t in at_sign_for().ready] == [("sign_for", None)]
    runtime.set_deadline_timers(lambda spec: spec.bpmn_id == "sign_late")
    step = at_sign_for()
    assert [(t.element_id, t.due_at) for t in step.ready] == [
        ("sign_for", started + timedelta(hours=24))
    ]
    row = session.scalars(select(HumanTask).where(HumanTask.task_id == step.ready[0].task_id)).one()
    assert row.due_at == started + timedelta(hours=24)


def test_not_accepted_ends_at_intake(runtime, session, lifecycle):
    step = runtime.start(session, "lifecycle", data=START)
    step = runtime.complete_task(session, step.ready[0].task_id, data={"accepted": False})
    assert step.status == "completed"
    assert "end_rejected" in step.completed_ids()


def test_unsatisfied_callback_loops_back_to_reply(runtime, session, lifecycle):
    step = runtime.start(session, "lifecycle", data=START)
    for data in ({"accepted": True}, {}, {"reply": "1"}, {"rating": "unsatisfied"}):
        step = runtime.complete_task(session, step.ready[0].task_id, data=data)
    assert step.ready[0].element_id == "reply"
    for data in ({"reply": "2"}, {"rating": "satisfied"}):
        step = runtime.complete_task(session, step.ready[0].task_id, data=data)
    assert step.status == "completed" and step.data["reply"] == "2"


def test_sign_for_limit_fires_and_escalates(runtime, session, lifecycle, clock):
    step = runtime.start(session, "lifecycle", data=START)
    started = clock.now()
    step = runtime.complete_task(session, step.ready[0].task_id, data={"accepted": True})
    assert step.ready[0].due_at == started + timedelta(hours=24)
    timers = runtime.pending_timers(session, step.instance_id)
    assert [(t.element_id, t.kind, t.due_at) for t in timers] == [
        ("sign_late", "duration", started + timedelta(hours=24))
    ]
    clock.advance(hours=23, minutes=59)
    assert runtime.fire_due_timers(session) == 0
    clock.advance(minutes=1)
    assert runtime.fire_due_timers(session) == 1
    ready = runtime.ready_tasks(session, step.instance_id)
    assert [(t.element_id, t.due_at) for t in ready] == [
        ("sign_for", clock.now() + timedelta(hours=24))
    ]
    assert runtime.data(session, step.instance_id)["escalations"] == 1
    fired = session.scalars(select(Timer).where(Timer.status == "fired")).all()
    assert [(t.element_id, t.fired_at) for t in fired] == [("sign_late", clock.now())]
    cancelled = session.scalars(select(HumanTask).where(HumanTask.state == "cancelled")).all()
    assert [t.element_id for t in cancelled] == ["sign_for"]
    assert "timer.fired" in kinds(runtime, session, step.instance_id)
    # Signing now stops the re-armed timer.
    runtime.complete_task(session, ready[0].task_id)
    assert runtime.pending_timers(session, step.instance_id) == []


def test_timer_versus_user_race_keeps_the_input(runtime, session, lifecycle, clock):
    step = runtime.start(session, "lifecycle", data=START)
    step = runtime.complete_task(session, step.ready[0].task_id, data={"accepted": True})
    sign_for = step.ready[0].task_id
    clock.advance(hours=25)  # the deadline passed; no worker has fired it yet
    with pytest.raises(ConflictError) as info:
        runtime.complete_task(session, sign_for, data={"note": "signed late"}, actor="h1")
    assert "fired first" in info.value.what_happened
    rejected = session.scalars(
        select(InstanceEvent).where(InstanceEvent.kind == "task.rejected")
    ).one()
    assert rejected.payload["data"] == {"note": "signed late"} and rejected.actor == "h1"
    # The timer's effect was saved: escalated, and a new sign-for task is waiting.
    assert runtime.data(session, step.instance_id)["escalations"] == 1
    assert [t.element_id for t in runtime.ready_tasks(session, step.instance_id)] == ["sign_for"]
    # Completing the same task again says it is gone, and keeps that input too.
    with pytest.raises(ConflictError, match="cancelled"):
        runtime.complete_task(session, sign_for, data={"note": "again"})
    assert session.scalar(select(func.count()).where(InstanceEvent.kind == "task.rejected")) == 2


def test_stale_version_is_a_conflict_and_changes_nothing(runtime, session, lifecycle):
    step = runtime.start(session, "lifecycle", data=START)
    step = runtime.complete_task(session, step.ready[0].task_id, data={"accepted": True})
    seen = step.version
    runtime.record_event  # noqa: B018 - the API exists for domain events
    step2 = runtime.complete_task(session, step.ready[0].task_id, expected_version=seen)
    with pytest.raises(ConflictError, match="changed since you loaded it"):
        runtime.complete_task(
            session, step2.ready[0].task_id, data={"reply": "x"}, expected_version=seen
        )
    row = session.get(ProcessInstance, step.instance_id)
    session.refresh(row)
    assert row.version == step2.version
    assert runtime.ready_tasks(session, step.instance_id)[0].element_id == "reply"


def test_concurrent_save_of_an_old_version_is_refused(runtime, database, lifecycle):
    """Two transactions load the same version; the second save must not overwrite the first."""
    import uuid

    from engine.db import connection, unit_of_work
    from engine.fastsql import fast_sql

    a, b = database.session(), database.session()
    step = runtime.start(a, "lifecycle", data=START)
    task_id = step.ready[0].task_id
    runtime.workflows.clear()
    with pytest.raises(ConflictError, match="changed by another transaction"), unit_of_work(b):
        conn = connection(b)
        loaded = runtime._load(b, fast_sql(conn).one(conn, "instance_of_task", (task_id,)), "b")
        task = loaded.workflow.get_task_from_id(uuid.UUID(task_id))
        task.data["accepted"] = False
        task.run()
        if database.kind == "postgres":
            # Meanwhile another transaction completes the same task and commits version 2.
            runtime.complete_task(a, task_id, data={"accepted": True})
        else:
            # SQLite admits one writer at a time (b holds BEGIN IMMEDIATE), so a cannot commit
            # in between; move the version on as that commit would have.
            conn.exec_driver_sql(
                "UPDATE process_instances SET version = version + 1 WHERE id = ?", (loaded.id,)
            )
        runtime._save(b, loaded, "complete", "b", [], [])
    a.close()
    b.close()


def test_unknown_task_and_bad_data(runtime, session, lifecycle):
    step = runtime.start(session, "lifecycle", data=START)
    with pytest.raises(NotFound):
        runtime.complete_task(session, "not-a-uuid")
    with pytest.raises(NotFound):
        runtime.complete_task(session, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(TaskDataError, match="not a valid field name"):
        runtime.complete_task(session, step.ready[0].task_id, data={"__class__": 1})
    with pytest.raises(NotFound):
        runtime.start(session, "no_such_process")


def test_a_failing_expression_rolls_the_step_back(runtime, session, lifecycle):
    step = runtime.start(session, "lifecycle", data=START)
    step = runtime.complete_task(session, step.ready[0].task_id, data={"accepted": True})
    step = runtime.complete_task(session, step.ready[0].task_id)
    step = runtime.complete_task(session, step.ready[0].task_id, data={"reply": "x"})
    before = session.get(ProcessInstance, step.instance_id).version
    events_before = len(runtime.events(session, step.instance_id))
    # The satisfied? gateway compares `rating`: leave it out, and the condition fails.
    with pytest.raises(WorkflowRunError, match="'rating' is not defined"):
        runtime.complete_task(session, step.ready[0].task_id, data={})
    session.expire_all()
    assert session.get(ProcessInstance, step.instance_id).version == before
    assert len(runtime.events(session, step.instance_id)) == events_before
    assert [t.element_id for t in runtime.ready_tasks(session, step.instance_id)] == ["callback"]
    # And the case still works afterwards.
    done = runtime.complete_task(session, step.ready[0].task_id, data={"rating": "satisfied"})
    assert done.status == "completed"


def test_cycle_and_date_timers_and_a_service_task(session, clock, mode, database):
    from engine.runtime import Runtime

    from .conftest import fixture_bytes

    calls = []

    def notify(ctx, data, reason):
        calls.append((ctx.instance_id, reason))
        return {"sent": True}

    runtime = Runtime(
        clock=clock,
        services={"notify_supervisor": notify},
        workflow_cache_size=2000 if mode == "straight" else 0,
    )
    runtime.deploy(session, fixture_bytes("timers.bpmn"), "timers.bpmn", deployed_by="t")
    step = runtime.start(
        session, "timers", data={"reminders": 0, "due": "2026-03-02T14:30:00+08:00"}
    )
    assert step.ready[0].due_at.isoformat() == "2026-03-02T06:30:00+00:00"
    for _ in range(6):
        clock.advance(hours=1)
        runtime.fire_due_timers(session)
    events = [(e.kind, e.element_id) for e in runtime.events(session, step.instance_id)]
    assert events.count(("timer.fired", "remind_every_hour")) == 3
    assert ("timer.fired", "deadline") in events
    assert calls == [(step.instance_id, "late: 0")]
    assert runtime.instance(session, step.instance_id).status == "completed"
    assert runtime.data(session, step.instance_id)["notified"] == {"sent": True}


@pytest.mark.slow  # restoring 300 times: about 10 s
def test_300_loops_complete_correctly(runtime, session, deploy):
    deploy("loop.bpmn")
    step = runtime.start(session, "loop_case", data={"target": 300})
    loops = 0
    while step.status == "running":
        assert [t.element_id for t in step.ready] == ["work"]
        step = runtime.complete_task(session, step.ready[0].task_id)
        loops += 1
    assert loops == 300
    assert step.data["count"] == 300
    assert "end" in step.completed_ids()
    assert session.scalar(select(func.count()).where(HumanTask.state == "completed")) == 300


@pytest.mark.slow  # 300 loops too
def test_without_our_fix_spiffworkflow_stops_silently(session, clock, deploy, monkeypatch):
    """Proof that the loop test can fail: restore SpiffWorkflow's default depth of 1000."""
    from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
    from SpiffWorkflow.util.task import TaskIterator

    from engine.serializer import TASK_DEPTH_LIMIT

    for cls in (TaskIterator, BpmnTaskIterator):
        defaults = tuple(1000 if d == TASK_DEPTH_LIMIT else d for d in cls.__init__.__defaults__)
        monkeypatch.setattr(cls.__init__, "__defaults__", defaults)
    # and SpiffWorkflow's own engine steps, which walk the tree with that iterator (ours scan
    # the task dict flat, so they would not stop even at the default depth)
    import engine.runtime

    monkeypatch.setattr(
        engine.runtime,
        "engine_steps",
        lambda wf, done, payload=None: wf.do_engine_steps(did_complete_task=done),
    )
    from engine.runtime import Runtime

    runtime = Runtime(clock=clock)
    deploy("loop.bpmn")
    step = runtime.start(session, "loop_case", data={"target": 300})
    loops = 0
    while step.status == "running" and step.ready:
        step = runtime.complete_task(session, step.ready[0].task_id)
        loops += 1
    assert loops < 300  # it reported itself finished (or lost its tasks) far too early
    assert step.data.get("count", 0) < 300
