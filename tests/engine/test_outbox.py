"""The transactional outbox: written with the change, delivered after it, retried, given up on.

Runs on SQLite and PostgreSQL (when configured). Time is a ManualClock the tests move.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.db import in_unit_of_work, unit_of_work
from engine.errors import EngineError
from engine.models import OutboxMessage
from engine.outbox import (
    ExternalHandler,
    Message,
    Outbox,
    OutboxService,
    PermanentFailure,
    stats,
    undelivered,
)


class Recorder:
    """A handler that remembers what it was given and fails while told to."""

    def __init__(self) -> None:
        self.seen: list[Message] = []
        self.failures = 0

    def __call__(self, session, message: Message) -> None:
        self.seen.append(message)
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the channel is down")


@pytest.fixture
def outbox(clock):
    box = Outbox(clock)
    box.register("test.topic", Recorder())
    return box


@pytest.fixture
def service(outbox, database, clock):
    return OutboxService(
        outbox,
        database.session,
        clock=clock,
        owner="w1",
        lease_seconds=60,
        max_attempts=3,
        backoff_seconds=10,
    )


def write(session, outbox, key: str, **payload) -> None:
    with unit_of_work(session):
        outbox.write(session, topic="test.topic", key=key, payload=payload)


def row(session, key: str) -> OutboxMessage:
    session.rollback()
    return session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one()


def count(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(OutboxMessage))


def test_a_message_commits_with_its_change_and_rolls_back_with_it(outbox, session):
    write(session, outbox, "k1", n=1)
    with pytest.raises(ZeroDivisionError), unit_of_work(session):
        outbox.write(session, topic="test.topic", key="k2", payload={})
        raise ZeroDivisionError  # the change that asked for the message fails after it
    assert count(session) == 1
    message = row(session, "k1")
    assert (message.topic, message.status, message.payload, message.attempts) == (
        "test.topic",
        "pending",
        {"n": 1},
        0,
    )


def test_the_same_key_twice_is_one_message(outbox, session):
    write(session, outbox, "same", n=1)
    write(session, outbox, "same", n=2)
    assert count(session) == 1
    assert row(session, "same").payload == {"n": 1}


def test_writing_needs_a_unit_of_work_and_a_known_topic(outbox, session):
    with pytest.raises(RuntimeError, match="unit_of_work"):
        outbox.write(session, topic="test.topic", key="k", payload={})
    with pytest.raises(EngineError, match="'sms.send'"), unit_of_work(session):
        outbox.write(session, topic="sms.send", key="k", payload={})
    with pytest.raises(EngineError, match="already has a handler"):
        outbox.register("test.topic", Recorder())


def test_watchers_hear_of_a_commit_not_of_a_rollback(outbox, session):
    woken = []
    outbox.watchers.append(lambda: woken.append(1))
    with pytest.raises(ZeroDivisionError), unit_of_work(session):
        outbox.write(session, topic="test.topic", key="k1", payload={})
        raise ZeroDivisionError
    assert woken == []
    write(session, outbox, "k2")
    assert woken == [1]


def test_the_worker_hands_each_message_with_its_key_to_its_handler_once(outbox, service, session):
    for i in range(3):
        write(session, outbox, f"k{i}", n=i)
    result = service.drain()
    assert (result.claimed, result.done) == (3, 3)
    handler = outbox.handlers["test.topic"]
    assert [(m.key, m.payload) for m in handler.seen] == [(f"k{i}", {"n": i}) for i in range(3)]
    done = row(session, "k0")
    assert done.status == "done" and done.done_at == service.clock.now()
    assert done.lease_owner is None
    assert service.drain().claimed == 0  # nothing is handed twice


def test_a_failing_handler_backs_off_then_becomes_an_incident_and_retry_requeues_it(
    outbox, service, session, clock
):
    handler = outbox.handlers["test.topic"]
    handler.failures = 3
    write(session, outbox, "k")
    assert service.drain().retried == 1
    failed = row(session, "k")
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error == "RuntimeError: the channel is down"
    assert failed.next_attempt_at == clock.now() + timedelta(seconds=10)
    clock.advance(timedelta(seconds=9))
    assert service.drain().claimed == 0  # not before its next attempt
    clock.advance(timedelta(seconds=1))
    assert service.drain().retried == 1
    assert row(session, "k").next_attempt_at == clock.now() + timedelta(seconds=20)  # doubled
    clock.advance(timedelta(seconds=20))
    assert service.drain().incidents == 1
    incident = row(session, "k")
    assert (incident.status, incident.attempts) == ("incident", 3)
    clock.advance(timedelta(days=1))
    assert service.drain().claimed == 0  # given up on until someone retries it
    s = stats(session)
    assert (s.pending, s.failed, s.incidents) == (0, 0, 1)
    assert [m.key for m in undelivered(session)] == ["k"]

    outbox.retry(session, incident.id)
    requeued = row(session, "k")
    assert (requeued.status, requeued.attempts, requeued.last_error) == ("pending", 0, None)
    assert service.drain().done == 1
    assert len(handler.seen) == 4
    assert row(session, "k").status == "done"


def test_retry_names_what_it_cannot_retry(outbox, service, session):
    with pytest.raises(EngineError, match="outbox message 999 does not exist"):
        outbox.retry(session, 999)
    write(session, outbox, "k")
    pending = row(session, "k").id
    with pytest.raises(EngineError, match="already waiting"):
        outbox.retry(session, pending)
    service.drain()
    with pytest.raises(EngineError, match="already handled"):
        outbox.retry(session, pending)


def test_a_message_of_a_topic_nobody_handles_any_more_becomes_an_incident(
    outbox, service, session, clock
):
    write(session, outbox, "k")
    del outbox.handlers["test.topic"]
    for _ in range(3):
        service.drain()
        clock.advance(timedelta(minutes=5))
    incident = row(session, "k")
    assert incident.status == "incident"
    assert incident.last_error == "no outbox handler is registered for topic 'test.topic'"


def test_a_dead_workers_lease_expires_and_another_worker_delivers(
    outbox, service, database, session, clock
):
    write(session, outbox, "k")
    claimed = service.claim(database.session())  # w1 claims, then dies
    assert [m.key for m in claimed] == ["k"]
    other = OutboxService(outbox, database.session, clock=clock, owner="w2", lease_seconds=60)
    assert other.drain().claimed == 0  # leased
    clock.advance(timedelta(seconds=61))
    assert other.drain().done == 1
    # w1 comes back to life and finishes its handling: it lost the lease, so its marking
    # is refused and its transaction (the handler's effects with it) rolls back
    assert service._handle(database.session(), claimed[0]) == "lost"
    assert row(session, "k").status == "done"


class Gateway(ExternalHandler):
    """An effect in another system: ``perform`` must see no open transaction."""

    def __init__(self, session) -> None:
        self.session = session
        self.performed: list[str] = []
        self.recorded: list[tuple[str, object]] = []
        self.failures: list[tuple[str, str, bool]] = []
        self.raise_: Exception | None = None

    def perform(self, message: Message):
        # the worker's session holds no transaction while the other system answers
        assert not in_unit_of_work(self.session)
        self.performed.append(message.key)
        if self.raise_ is not None:
            raise self.raise_
        return f"ref-{message.key}"

    def __call__(self, session, message: Message, outcome=None) -> None:
        assert in_unit_of_work(session)
        self.recorded.append((message.key, outcome))

    def failed(self, session, message: Message, error: str, *, final: bool) -> None:
        self.failures.append((message.key, error, final))


def test_an_external_effect_runs_before_the_transaction_that_records_it(
    outbox, database, clock, session
):
    worker_session = database.session()
    gateway = Gateway(worker_session)
    outbox.register("ext", gateway)
    service = OutboxService(outbox, lambda: worker_session, clock=clock, owner="w1")
    with unit_of_work(session):
        outbox.write(session, topic="ext", key="e1", payload={})
    assert service.drain().done == 1
    assert gateway.performed == ["e1"] and gateway.recorded == [("e1", "ref-e1")]


def test_a_permanent_failure_is_an_incident_at_once_and_listeners_hear_of_it(
    outbox, database, clock, session
):
    worker_session = database.session()
    gateway = Gateway(worker_session)
    gateway.raise_ = PermanentFailure("no such number")
    outbox.register("ext", gateway)
    heard = []
    outbox.incident_listeners.append(lambda s, m, error: heard.append((m.key, error)))
    service = OutboxService(outbox, lambda: worker_session, clock=clock, owner="w1", max_attempts=5)
    with unit_of_work(session):
        outbox.write(session, topic="ext", key="e2", payload={})
    assert service.drain().incidents == 1
    assert (row(session, "e2").status, row(session, "e2").attempts) == ("incident", 1)
    assert gateway.failures == [("e2", "no such number", True)]
    assert heard == [("e2", "no such number")]


def test_a_message_held_until_a_time_waits_for_it(outbox, service, session, clock):
    with unit_of_work(session):
        outbox.write(
            session,
            topic="test.topic",
            key="later",
            payload={},
            not_before=clock.now() + timedelta(hours=9),
        )
    assert service.drain().claimed == 0
    clock.advance(timedelta(hours=9))
    assert service.drain().done == 1


def test_a_slow_batch_gives_back_what_it_would_hold_past_half_its_lease(
    outbox, service, session, clock
):
    slow = outbox.handlers["test.topic"]

    def take_40_seconds(s, message):
        slow(s, message)
        clock.advance(timedelta(seconds=40))

    outbox.handlers["test.topic"] = take_40_seconds
    for i in range(3):
        write(session, outbox, f"s{i}")
    first = service.run_batch()
    assert (first.claimed, first.done) == (3, 1)  # the other two went back, unleased
    assert row(session, "s1").lease_owner is None
    assert service.drain().done == 2
