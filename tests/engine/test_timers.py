"""The timer service: leases, exactly-once effect, catch-up, retries and incidents, wake-ups.

All on a moved clock; the one test that waits for real time is the 1-second smoke test at the
end. Multi-process runs (2 and 4 workers, kill -9) are in tests/webapp/test_workers.py.
"""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.clock import SystemClock
from engine.models import Incident, InstanceEvent, ProcessInstance, Timer
from engine.runtime import Runtime
from engine.scheduler import TimerScheduler
from engine.timers import TimerService, retry_incident, stats

from .conftest import fixture_bytes


def fired_events(session, instance_id=None) -> int:
    stmt = (
        select(func.count()).select_from(InstanceEvent).where(InstanceEvent.kind == "timer.fired")
    )
    if instance_id is not None:
        stmt = stmt.where(InstanceEvent.instance_id == instance_id)
    return session.scalar(stmt)


@pytest.fixture
def once(runtime, session, clock):
    runtime.deploy(session, fixture_bytes("timer_once.bpmn"), "timer_once.bpmn", deployed_by="t")

    def start(due: datetime) -> int:
        return runtime.start(session, "timer_once", data={"due": due.isoformat()}).instance_id

    return start


def service(runtime, database, clock, owner="w1", **kwargs) -> TimerService:
    return TimerService(runtime, database.session, clock=clock, owner=owner, **kwargs)


def test_claims_are_leases_oldest_first(runtime, database, session, clock, once):
    now = clock.now()
    late = once(now + timedelta(minutes=5))
    early = once(now + timedelta(minutes=1))
    future = once(now + timedelta(days=1))
    clock.advance(minutes=10)
    a = service(runtime, database, clock, "a", lease_seconds=60)
    b = service(runtime, database, clock, "b", lease_seconds=60)
    assert [i for _, i in a.claim(session)] == [early, late]
    assert b.claim(session) == []  # leased by a
    rows = session.scalars(select(Timer).where(Timer.instance_id.in_([early, late]))).all()
    assert {(r.lease_owner, r.lease_expires_at) for r in rows} == {
        ("a", clock.now() + timedelta(seconds=60))
    }
    clock.advance(seconds=61)  # a died: its leases expire
    assert [i for _, i in b.claim(session)] == [early, late]
    assert future not in [i for _, i in b.claim(session)]


def test_firing_twice_has_one_effect(runtime, database, session, clock, once):
    instance = once(clock.now() + timedelta(minutes=1))
    clock.advance(minutes=2)
    a = service(runtime, database, clock, "a", lease_seconds=30)
    b = service(runtime, database, clock, "b", lease_seconds=30)
    a.claim(session)
    clock.advance(seconds=31)  # a is slow: its lease expires and b takes the timer too
    b_claims = b.claim(session)
    assert [i for _, i in b_claims] == [instance]
    assert a._fire_one(session, 0, instance) == "fired"
    assert b._fire_one(session, b_claims[0][0], instance) == "nothing"
    assert fired_events(session, instance) == 1
    session.rollback()  # end the read snapshot: the service wrote from its own sessions
    inst = session.get(ProcessInstance, instance)
    assert inst.status == "completed" and inst.version == 2


def test_timers_that_fell_due_while_stopped_fire_once_at_start_in_due_order(
    runtime, database, session, clock, once
):
    now = clock.now()
    dues = [now + timedelta(hours=h) for h in (5, 1, 3, 2, 4)]
    ids = [once(d) for d in dues]
    clock.advance(days=3)  # the service was down for three days
    result = service(runtime, database, clock, batch_size=2).drain()
    assert result.fired == 5 and result.claimed == 5
    order = session.scalars(
        select(InstanceEvent.instance_id)
        .where(InstanceEvent.kind == "timer.fired")
        .order_by(InstanceEvent.id)
    ).all()
    assert order == [i for _, i in sorted(zip(dues, ids, strict=True))]
    assert service(runtime, database, clock).drain().fired == 0  # nothing twice
    assert fired_events(session) == 5


def test_boundary_intermediate_and_event_gateway_timers_have_rows(runtime, session, clock):
    runtime.deploy(session, fixture_bytes("waits.bpmn"), "waits.bpmn", deployed_by="t")
    step = runtime.start(session, "waits")
    timers = runtime.pending_timers(session, step.instance_id)
    assert [(t.element_id, t.kind, t.due_at) for t in timers] == [
        ("wait_a_bit", "duration", clock.now() + timedelta(hours=1))
    ]
    clock.advance(hours=1)
    runtime.fire_timers(session, step.instance_id)
    timers = runtime.pending_timers(session, step.instance_id)
    assert [(t.element_id, t.due_at) for t in timers] == [
        ("first_of", clock.now() + timedelta(days=1))  # the event gateway waits on it
    ]
    clock.advance(days=1)
    assert runtime.fire_timers(session, step.instance_id).status == "completed"
    assert runtime.pending_timers(session, step.instance_id) == []


def test_a_failing_firing_is_retried_with_backoff_then_becomes_an_incident(
    database, session, clock, mode
):
    broken = {"on": True}

    def on_deadline(ctx, data):
        if broken["on"]:
            raise RuntimeError("the notification gateway is down")
        return {"notified": True}

    runtime = Runtime(
        clock=clock,
        services={"on_deadline": on_deadline},
        workflow_cache_size=2000 if mode == "straight" else 0,
    )
    runtime.deploy(session, fixture_bytes("timer_service.bpmn"), "t.bpmn", deployed_by="t")
    runtime.deploy(session, fixture_bytes("timer_once.bpmn"), "o.bpmn", deployed_by="t")
    due = (clock.now() + timedelta(minutes=1)).isoformat()
    bad = runtime.start(session, "timer_service", data={"due": due}).instance_id
    good = runtime.start(session, "timer_once", data={"due": due}).instance_id
    clock.advance(minutes=1)
    service_ = TimerService(
        runtime, database.session, clock=clock, max_attempts=3, backoff_seconds=10
    )

    def drain():
        result = service_.drain()
        session.rollback()  # end the read snapshot: the service wrote from its own sessions
        return result

    result = drain()
    assert (result.fired, result.retried) == (1, 1)  # the broken case does not block the good
    assert session.get(ProcessInstance, good).status == "completed"
    timer = session.scalars(select(Timer).where(Timer.instance_id == bad)).one()
    assert timer.attempts == 1 and "gateway is down" in timer.last_error
    assert timer.next_attempt_at == clock.now() + timedelta(seconds=10)
    assert drain().claimed == 0  # backing off
    clock.advance(seconds=10)
    assert drain().retried == 1
    session.rollback()  # end the read snapshot: the service wrote from its own sessions
    assert session.get(Timer, timer.id).next_attempt_at == clock.now() + timedelta(seconds=20)
    clock.advance(seconds=20)
    assert drain().incidents == 1
    incident = session.scalars(select(Incident)).one()
    assert (incident.instance_id, incident.attempts) == (bad, 3)
    assert "gateway is down" in incident.error
    assert stats(session, now=clock.now()).incidents == 1
    assert session.get(ProcessInstance, bad).version == 1  # nothing of the failures was saved
    clock.advance(days=1)
    assert drain().claimed == 0  # incidents wait for a person
    broken["on"] = False
    retry_incident(session, incident_id=incident.id, actor="admin", now=clock.now())
    assert drain().fired == 1
    session.rollback()  # end the read snapshot: the service wrote from its own sessions
    assert session.get(ProcessInstance, bad).status == "completed"
    assert stats(session, now=clock.now()).incidents == 0


def test_a_user_beats_the_worker_to_a_due_timer(runtime, database, session, clock, deploy):
    """The worker claimed the deadline; the handler completes the task first. The user gets
    the conflict (the timer fired in their step), the worker finds nothing left to do."""
    from engine.errors import ConflictError

    deploy("lifecycle.bpmn")
    step = runtime.start(session, "lifecycle", data={"sign_hours": 1, "escalations": 0})
    step = runtime.complete_task(session, step.ready[0].task_id, data={"accepted": True})
    clock.advance(hours=1)
    svc = service(runtime, database, clock)
    claims = svc.claim(session)
    with pytest.raises(ConflictError):
        runtime.complete_task(session, step.ready[0].task_id, data={"note": "signing"})
    assert svc._fire_one(session, claims[0][0], claims[0][1]) == "nothing"
    assert fired_events(session) == 1


def test_committed_steps_wake_the_scheduler(runtime, session, clock, once):
    woken = []
    runtime.timer_watchers.append(woken.append)
    due = clock.now() + timedelta(minutes=7)
    once(due)
    assert woken == [due]


def test_wake_ups_only_move_earlier(runtime, database, clock):
    scheduler = TimerScheduler(service(runtime, database, clock), sweep_seconds=60)
    scheduler.scheduler.start(paused=True)
    try:
        soon = datetime.now(UTC) + timedelta(minutes=10)
        scheduler.wake_at(soon)
        scheduler.wake_at(soon + timedelta(minutes=5))
        assert scheduler._wake_job.next_run_time == soon
        scheduler.wake_at(soon - timedelta(minutes=5))
        assert scheduler._wake_job.next_run_time == soon - timedelta(minutes=5)
        assert len(scheduler.scheduler.get_jobs()) == 1  # the later wake-up was removed
        job = scheduler._wake_job
        assert job.misfire_grace_time is None and job.coalesce is True
    finally:
        scheduler.scheduler.shutdown(wait=False)


@pytest.mark.slow  # waits for the wall clock
def test_smoke_a_one_second_timer_fires_in_real_time(sqlite_db):
    """The one test that waits: the scheduler on the wall clock fires a 1-second timer."""
    runtime = Runtime(clock=SystemClock())
    session = sqlite_db.session()
    runtime.deploy(session, fixture_bytes("timer_once.bpmn"), "o.bpmn", deployed_by="t")
    svc = TimerService(runtime, sqlite_db.session, lease_seconds=30)
    scheduler = TimerScheduler(svc, sweep_seconds=0.5)
    scheduler.start()
    fired = threading.Event()
    svc.on_fired = lambda instance_id: fired.set()
    try:
        due = datetime.now(UTC) + timedelta(seconds=1)
        instance = runtime.start(session, "timer_once", data={"due": due.isoformat()}).instance_id
        assert fired.wait(timeout=15), "the 1-second timer did not fire"
        fired_at = datetime.now(UTC)
    finally:
        scheduler.shutdown()
    session.rollback()  # end the read snapshot: the service wrote from its own sessions
    assert session.get(ProcessInstance, instance).status == "completed"
    assert fired_at >= due
    session.close()
