"""The transactional outbox: side effects written with the change that causes them, done later.

A change that should have an effect outside its own rows (a message, a call to another system)
writes an ``outbox`` row in its own transaction (:meth:`Outbox.write`): if the change rolls
back, so does the row; if it commits, the row is there. Workers hand each row to the handler
registered for its topic, with the timers' discipline (:mod:`engine.timers`): claims are
leases (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), a handler
that raises is retried with exponential backoff, and after ``max_attempts`` the row becomes an
incident that an administrator can put back in the queue.

Delivery is at least once: a worker that dies after its handler's effect but before the row
is marked done leaves the lease to expire, and another worker runs the handler again. Handlers
are therefore idempotent by the row's ``key`` (unique, given to them). A handler runs inside
the transaction that marks its row done, so the effects it writes to this database happen
exactly once.

The engine knows no topic: the domain registers handlers by name, in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .clock import Clock
from .db import after_commit, connection, in_unit_of_work, is_postgres, unit_of_work
from .errors import EngineError
from .models import OutboxMessage
from .timers import BatchWorker, default_owner

log = logging.getLogger(__name__)
OB = OutboxMessage.__table__

#: rows a worker may claim: new ones, and failed ones whose next attempt is due
WAITING = ("pending", "failed")


@dataclass(frozen=True)
class Message:
    """What a handler is given: the row's id, topic, idempotency key, payload and attempt."""

    id: int
    topic: str
    key: str
    payload: dict[str, Any]
    attempts: int  # failed attempts before this one


#: a handler does the message's effect; it runs inside the transaction that marks it done
Handler = Callable[[Session, Message], None]


class PermanentFailure(EngineError):
    """A handler's effect can never succeed (a malformed address): the message becomes an
    incident at once instead of being retried."""


class ExternalHandler:
    """A handler whose effect is outside this database (an SMS gateway, a mail server, a
    department's webhook). Its :meth:`perform` runs *before* the message's transaction, so
    that no database lock is held while another system answers (on SQLite a write
    transaction would stop every other writer for as long as the gateway takes); then
    :meth:`__call__` records the outcome inside the transaction that marks the message done.
    :meth:`failed` is told of each failure (``final``: it is now an incident) inside the
    transaction that records it. ``perform`` may run twice for one message (at least once):
    it passes the message's key on as the other system's idempotency key."""

    def perform(self, message: Message) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def __call__(self, session: Session, message: Message, outcome: Any = None) -> None:
        pass

    def failed(self, session: Session, message: Message, error: str, *, final: bool) -> None:
        pass


class Outbox:
    """The handlers by topic, and the writing of messages. One per runtime."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.handlers: dict[str, Handler] = {}
        #: called after a commit that wrote messages in this process (the worker's wake-up)
        self.watchers: list[Callable[[], None]] = []
        #: called inside the transaction that makes a message an incident (an alert to
        #: administrators, say): ``(session, message, error)``
        self.incident_listeners: list[Callable[[Session, Message, str], None]] = []

    def register(self, topic: str, handler: Handler) -> None:
        if topic in self.handlers and self.handlers[topic] is not handler:
            raise EngineError(f"outbox topic {topic!r} already has a handler")
        self.handlers[topic] = handler

    def write(
        self,
        session: Session,
        *,
        topic: str,
        key: str,
        payload: Mapping[str, Any],
        not_before: datetime | None = None,
    ) -> None:
        """Add a message inside the caller's unit of work. A key written before (by this
        transaction or an earlier one) is not written again: a re-published event is one
        message. ``not_before``: no worker handles it earlier (an SMS held over quiet hours)."""
        if topic not in self.handlers:
            raise EngineError(f"no outbox handler is registered for topic {topic!r}")
        if not in_unit_of_work(session):
            raise RuntimeError("outbox messages are written inside the change's unit_of_work")
        conn = connection(session)
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(
            dialect.insert(OB)
            .values(
                topic=topic,
                key=key,
                payload=dict(payload),
                status="pending",
                attempts=0,
                created_at=self.clock.now(),
                next_attempt_at=not_before,
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
        for watcher in self.watchers:
            after_commit(session, watcher)

    def retry(self, session: Session, message_id: int) -> OutboxMessage:
        """Put a failed message or an incident back in the queue, with its attempts reset."""
        with unit_of_work(session):
            row = session.get(OutboxMessage, message_id)
            if row is None:
                raise EngineError(f"outbox message {message_id} does not exist")
            if row.status == "done":
                raise EngineError(
                    f"outbox message {message_id} was already handled at "
                    f"{row.done_at.isoformat() if row.done_at else '?'}"
                )
            if row.status == "pending":
                raise EngineError(f"outbox message {message_id} is already waiting to be handled")
            row.status = "pending"
            row.attempts = 0
            row.next_attempt_at = None
            row.last_error = None
            for watcher in self.watchers:
                after_commit(session, watcher)
        return row


@dataclass
class DeliveryResult:
    claimed: int = 0
    done: int = 0
    retried: int = 0
    incidents: int = 0


class _LeaseLost(Exception):
    """Our lease expired and another worker took the message: undo our handling of it."""


class OutboxService(BatchWorker):
    """Claims and handles outbox messages. Safe to run in several threads and processes."""

    result_type = DeliveryResult

    def __init__(
        self,
        outbox: Outbox,
        session_factory: Callable[[], Session],
        *,
        clock: Clock,
        owner: str | None = None,
        lease_seconds: float = 60,
        batch_size: int = 100,
        max_attempts: int = 5,
        backoff_seconds: float = 5,
    ) -> None:
        self.outbox = outbox
        self.session_factory = session_factory
        self.clock = clock
        self.owner = owner or default_owner()
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        #: test hook: called inside a message's transaction, after its handler, before commit
        self.before_commit: Callable[[Message], None] | None = None
        super().__init__()

    def _claimable(self, now: datetime, limit: int):
        return (
            select(OB.c.id)
            .where(
                OB.c.status.in_(WAITING),
                or_(OB.c.next_attempt_at.is_(None), OB.c.next_attempt_at <= now),
                or_(OB.c.lease_expires_at.is_(None), OB.c.lease_expires_at < now),
            )
            .order_by(OB.c.id)
            .limit(limit)
        )

    def claimable_now(self, session: Session) -> bool:
        """Whether a message could be claimed right now (waiting, not leased, not backing off)."""
        try:
            return session.scalar(self._claimable(self.clock.now(), 1)) is not None
        finally:
            session.rollback()

    def claim(self, session: Session, limit: int | None = None) -> list[Message]:
        """Lease up to ``limit`` waiting messages, oldest first."""
        now = self.clock.now()
        claimable = self._claimable(now, limit or self.batch_size)
        with unit_of_work(session):
            if is_postgres(session):
                claimable = claimable.with_for_update(skip_locked=True)
            rows = session.execute(
                update(OB)
                .where(OB.c.id.in_(claimable.scalar_subquery()))
                .values(lease_owner=self.owner, lease_expires_at=now + self.lease)
                .returning(OB.c.id, OB.c.topic, OB.c.key, OB.c.payload, OB.c.attempts)
            ).all()
        return sorted((Message(*row) for row in rows), key=lambda m: m.id)

    def run_batch(self, *, limit: int | None = None) -> DeliveryResult:
        """Claim one batch and handle it, one transaction per message."""
        session = self.session_factory()
        result = DeliveryResult()
        try:
            claimed_at = self.clock.now()
            messages = self.claim(session, limit)
            result.claimed = len(messages)
            for index, message in enumerate(messages):
                # slow handlers (a gateway that takes its whole timeout) must not outlast the
                # lease of the batch's last messages: another worker would handle them too.
                # Past half the lease, the rest go back to the queue for the next claim.
                late = self.clock.now() - claimed_at > self.lease / 2
                if self._stop.is_set() or late:
                    self._release(session, [m.id for m in messages[index:]])
                    break
                outcome = self._handle(session, message)
                result.done += outcome == "done"
                result.retried += outcome == "retry"
                result.incidents += outcome == "incident"
        finally:
            session.close()
        return result

    def _handle(self, session: Session, message: Message) -> str:
        try:
            handler = self.outbox.handlers.get(message.topic)
            if handler is None:
                raise EngineError(f"no outbox handler is registered for topic {message.topic!r}")
            if isinstance(handler, ExternalHandler):
                # the other system's answer is awaited outside any transaction
                outcome = handler.perform(message)
                record: Callable[[Session], None] = lambda s: handler(s, message, outcome)  # noqa: E731
            else:
                record = lambda s: handler(s, message)  # noqa: E731
            with unit_of_work(session):  # the effect and the row's "done" commit together
                record(session)
                if self.before_commit is not None:
                    self.before_commit(message)
                marked = session.execute(
                    update(OB)
                    .where(
                        OB.c.id == message.id,
                        OB.c.lease_owner == self.owner,
                        OB.c.status.in_(WAITING),
                    )
                    .values(
                        status="done",
                        done_at=self.clock.now(),
                        lease_owner=None,
                        lease_expires_at=None,
                        last_error=None,
                    )
                ).rowcount
                if marked != 1:
                    raise _LeaseLost
        except _LeaseLost:
            return "lost"
        except Exception as exc:  # one broken message must not stop the others
            log.warning("outbox message %s (%s) failed: %s", message.id, message.topic, exc)
            return self._failed(session, message, exc)
        return "done"

    def _release(self, session: Session, ids: list[int]) -> None:
        with unit_of_work(session):
            session.execute(
                update(OB)
                .where(OB.c.id.in_(ids), OB.c.lease_owner == self.owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    def _failed(self, session: Session, message: Message, exc: Exception) -> str:
        now = self.clock.now()
        error = str(exc) if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
        with unit_of_work(session):
            attempts = (
                session.scalar(
                    select(OB.c.attempts).where(
                        OB.c.id == message.id, OB.c.lease_owner == self.owner
                    )
                )
                or 0
            ) + 1
            values: dict[str, Any] = {
                "attempts": attempts,
                "last_error": error,
                "lease_owner": None,
                "lease_expires_at": None,
            }
            final = attempts >= self.max_attempts or isinstance(exc, PermanentFailure)
            if final:
                values["status"] = "incident"
                outcome = "incident"
            else:
                delay = self.backoff_seconds * (2 ** (attempts - 1))
                values["status"] = "failed"
                values["next_attempt_at"] = now + timedelta(seconds=delay)
                outcome = "retry"
            changed = session.execute(
                update(OB)
                .where(OB.c.id == message.id, OB.c.lease_owner == self.owner)
                .values(**values)
            ).rowcount
            if changed:
                handler = self.outbox.handlers.get(message.topic)
                if isinstance(handler, ExternalHandler):
                    handler.failed(session, message, error, final=final)
                if final:
                    for listener in self.outbox.incident_listeners:
                        listener(session, message, error)
        return outcome if changed else "lost"


@dataclass
class OutboxStats:
    pending: int
    failed: int
    incidents: int
    oldest_waiting: datetime | None


def stats(session: Session) -> OutboxStats:
    """Messages waiting (new, failed and backing off), incidents, and the oldest waiting."""
    counts = dict(
        session.execute(
            select(OB.c.status, func.count())
            .where(OB.c.status.in_((*WAITING, "incident")))
            .group_by(OB.c.status)
        ).all()
    )
    oldest = session.scalar(select(func.min(OB.c.created_at)).where(OB.c.status.in_(WAITING)))
    return OutboxStats(
        pending=counts.get("pending", 0),
        failed=counts.get("failed", 0),
        incidents=counts.get("incident", 0),
        oldest_waiting=oldest,
    )


def undelivered(
    session: Session, *, statuses: tuple[str, ...] = (*WAITING, "incident"), limit: int = 100
) -> list[OutboxMessage]:
    """Messages not handled yet or given up on, oldest first."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status.in_(statuses))
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )
