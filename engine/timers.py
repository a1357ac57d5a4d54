"""The timer service: claim due timers as leases, fire them once in effect, survive crashes.

Claims are leases: a worker marks due rows with its name and a lease expiry (PostgreSQL:
``FOR UPDATE SKIP LOCKED``, so workers never wait for each other; SQLite: one writer at a
time under ``BEGIN IMMEDIATE``). A crashed worker's leases expire and another worker takes
them. Firing goes through :meth:`Runtime.fire_timers`, which loads the instance, moves its
due timers on and saves under the instance's version counter: a timer fired twice (a lease
that expired under a slow worker) finds nothing due the second time, or loses the version
race, so the effect happens once.

A firing that raises is retried with exponential backoff; after ``max_attempts`` the timer
becomes an incident that an administrator sees and can retry. One broken case never blocks
the others: its timer is skipped until its next attempt.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, insert, select, update
from sqlalchemy.orm import Session

from .clock import Clock
from .db import is_postgres, unit_of_work
from .errors import ConflictError, EngineError
from .events import EventKind
from .models import Incident, ProcessInstance, Timer

log = logging.getLogger(__name__)
TM = Timer.__table__
PI = ProcessInstance.__table__
INC = Incident.__table__


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class TimerStats:
    pending: int
    next_due: datetime | None
    overdue: int
    leased: int
    incidents: int
    oldest_overdue: datetime | None


@dataclass
class BatchResult:
    claimed: int = 0
    fired: int = 0  # instances stepped
    retried: int = 0
    incidents: int = 0


class BatchWorker:
    """What the timer service and the outbox's delivery share: batches run until one claims
    nothing (or ``stop()``), their counts added up. ``run_batch`` returns a ``result_type``:
    a dataclass of counts with a ``claimed`` field."""

    result_type: type = BatchResult

    def __init__(self) -> None:
        self._stop = threading.Event()

    def run_batch(self) -> Any:
        raise NotImplementedError

    def drain(self, *, max_batches: int | None = None) -> Any:
        """Run batch after batch until one claims nothing (catch-up after downtime)."""
        total = self.result_type()
        batches = 0
        while not self._stop.is_set():
            result = self.run_batch()
            total = _added(total, result)
            batches += 1
            if result.claimed == 0 or (max_batches and batches >= max_batches):
                break
        return total

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()


def _added(a: Any, b: Any) -> Any:
    return type(a)(**{f.name: getattr(a, f.name) + getattr(b, f.name) for f in fields(a)})


class TimerService(BatchWorker):
    """Claims and fires due timers. Safe to run in several threads and processes at once."""

    def __init__(
        self,
        runtime,
        session_factory: Callable[[], Session],
        *,
        clock: Clock | None = None,
        owner: str | None = None,
        lease_seconds: float = 60,
        batch_size: int = 100,
        max_attempts: int = 5,
        backoff_seconds: float = 5,
        group_size: int = 10,
        on_fired: Callable[[int], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.session_factory = session_factory
        self.clock = clock or runtime.clock
        self.owner = owner or default_owner()
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.group_size = max(1, group_size)
        self.on_fired = on_fired
        super().__init__()

    # -- claiming -------------------------------------------------------------------------

    def _claimable(self, now: datetime, limit: int):
        return (
            select(TM.c.id)
            .where(
                TM.c.status == "pending",
                TM.c.due_at <= now,
                (TM.c.lease_expires_at.is_(None)) | (TM.c.lease_expires_at < now),
                (TM.c.next_attempt_at.is_(None)) | (TM.c.next_attempt_at <= now),
            )
            .order_by(TM.c.due_at, TM.c.id)
            .limit(limit)
        )

    def claimable_now(self, session: Session) -> bool:
        """Whether a timer could be claimed right now (due, not leased, not backing off)."""
        try:
            return session.scalar(self._claimable(self.clock.now(), 1)) is not None
        finally:
            session.rollback()

    def claim(self, session: Session, limit: int | None = None) -> list[tuple[int, int]]:
        """Lease up to ``limit`` due timers, oldest first: [(timer id, instance id)]."""
        limit = limit or self.batch_size
        now = self.clock.now()
        claimable = self._claimable(now, limit)
        with unit_of_work(session):
            if is_postgres(session):
                claimable = claimable.with_for_update(skip_locked=True)
            rows = session.execute(
                update(TM)
                .where(TM.c.id.in_(claimable.scalar_subquery()))
                .values(lease_owner=self.owner, lease_expires_at=now + self.lease)
                .returning(TM.c.id, TM.c.instance_id, TM.c.due_at)
            ).all()
        rows.sort(key=lambda r: (r.due_at, r.id))
        return [(r.id, r.instance_id) for r in rows]

    # -- firing ---------------------------------------------------------------------------

    def run_batch(
        self, *, limit: int | None = None, after_each: Callable[[int], None] | None = None
    ) -> BatchResult:
        """Claim one batch and fire it, ``group_size`` instances per transaction.

        Firing several instances per commit saves a WAL flush per instance on PostgreSQL; if
        anything in a group fails, the group rolls back and its instances are fired one by
        one, so a broken case only ever costs its own transaction.
        """
        session = self.session_factory()
        result = BatchResult()
        try:
            claims = self.claim(session, limit)
            result.claimed = len(claims)
            unique: dict[int, int] = {}
            for timer_id, instance_id in claims:
                unique.setdefault(instance_id, timer_id)
            pairs = [(t, i) for i, t in unique.items()]
            done = 0
            for start in range(0, len(pairs), self.group_size):
                if self._stop.is_set():
                    break
                group = pairs[start : start + self.group_size]
                fired = self._fire_group(session, group) if len(group) > 1 else None
                if fired is None:
                    outcomes = [self._fire_one(session, t, i) for t, i in group]
                else:
                    outcomes = ["fired" if i in fired else "nothing" for _, i in group]
                    if self.on_fired is not None:
                        for instance_id in fired:
                            self.on_fired(instance_id)
                result.fired += outcomes.count("fired")
                result.retried += outcomes.count("retry")
                result.incidents += outcomes.count("incident")
                done += len(group)
                if after_each is not None:
                    after_each(done)
        finally:
            session.close()
        return result

    def _fire_group(self, session: Session, group: list[tuple[int, int]]) -> list[int] | None:
        """Fire a group of instances in one transaction; None if anything failed (rolled back)."""
        try:
            with unit_of_work(session):
                fired = [
                    instance_id
                    for _, instance_id in group
                    if self.runtime.fire_timers(session, instance_id, actor="timer") is not None
                ]
                session.execute(
                    update(TM)
                    .where(
                        TM.c.instance_id.in_([i for _, i in group]),
                        TM.c.lease_owner == self.owner,
                        TM.c.status == "pending",
                    )
                    .values(lease_owner=None, lease_expires_at=None)
                )
        except Exception:
            return None
        return fired

    def _fire_one(self, session: Session, timer_id: int, instance_id: int) -> str:
        try:
            with unit_of_work(session):  # the firing and the lease release commit together
                step = self.runtime.fire_timers(session, instance_id, actor="timer")
                self._release(session, instance_id)
        except ConflictError:
            # Someone else stepped the instance at the same moment: their step saw the timer
            # too, or our next sweep will. Release our lease on it.
            self._release(session, instance_id)
            return "conflict"
        except Exception as exc:  # one broken case must not stop the others
            log.warning("timer %s of instance %s failed: %s", timer_id, instance_id, exc)
            return self._failed(session, timer_id, instance_id, exc)
        if step is not None and self.on_fired is not None:
            self.on_fired(instance_id)
        return "fired" if step is not None else "nothing"

    def _release(self, session: Session, instance_id: int) -> None:
        with unit_of_work(session):
            session.execute(
                update(TM)
                .where(
                    TM.c.instance_id == instance_id,
                    TM.c.lease_owner == self.owner,
                    TM.c.status == "pending",
                )
                .values(lease_owner=None, lease_expires_at=None)
            )

    def _failed(self, session: Session, timer_id: int, instance_id: int, exc: Exception) -> str:
        now = self.clock.now()
        message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, EngineError) else str(exc)
        with unit_of_work(session):
            attempts = session.scalar(select(TM.c.attempts).where(TM.c.id == timer_id)) or 0
            attempts += 1
            if attempts >= self.max_attempts:
                session.execute(
                    update(TM)
                    .where(TM.c.id == timer_id)
                    .values(
                        status="incident",
                        attempts=attempts,
                        last_error=message,
                        lease_owner=None,
                        lease_expires_at=None,
                    )
                )
                session.execute(
                    insert(INC).values(
                        kind="timer",
                        instance_id=instance_id,
                        timer_id=timer_id,
                        error=message,
                        attempts=attempts,
                        created_at=now,
                    )
                )
                self.runtime.record_event(
                    session,
                    instance_id,
                    EventKind.TIMER_INCIDENT,
                    actor="timer",
                    payload={"error": message, "attempts": attempts},
                )
                for listener in self.runtime.incident_listeners:
                    listener(session, instance_id, message)
                return "incident"
            delay = self.backoff_seconds * (2 ** (attempts - 1))
            session.execute(
                update(TM)
                .where(TM.c.id == timer_id)
                .values(
                    attempts=attempts,
                    last_error=message,
                    next_attempt_at=now + timedelta(seconds=delay),
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
        return "retry"

    # -- reading --------------------------------------------------------------------------

    def next_due(self, session: Session) -> datetime | None:
        """When the earliest pending timer falls due (leased or not)."""
        return session.scalar(select(func.min(TM.c.due_at)).where(TM.c.status == "pending"))


def stats(session: Session, *, now: datetime) -> TimerStats:
    """Pending count, next due, overdue backlog, current leases, open incidents."""
    row = session.execute(
        select(
            func.count().label("pending"),
            func.min(TM.c.due_at).label("next_due"),
            func.sum(case((TM.c.due_at <= now, 1), else_=0)).label("overdue"),
            func.sum(case((TM.c.lease_expires_at > now, 1), else_=0)).label("leased"),
        ).where(TM.c.status == "pending")
    ).one()
    oldest = session.scalar(
        select(func.min(TM.c.due_at)).where(TM.c.status == "pending", TM.c.due_at <= now)
    )
    incidents = session.scalar(
        select(func.count()).select_from(INC).where(INC.c.resolved_at.is_(None))
    )
    return TimerStats(
        pending=row.pending or 0,
        next_due=row.next_due,
        overdue=int(row.overdue or 0),
        leased=int(row.leased or 0),
        incidents=incidents or 0,
        oldest_overdue=oldest,
    )


def open_incidents(session: Session, *, limit: int = 100) -> list[Incident]:
    """Unresolved incidents, newest first."""
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.resolved_at.is_(None))
            .order_by(Incident.created_at.desc(), Incident.id.desc())
            .limit(limit)
        )
    )


def open_incidents_listing() -> Select:
    """The rows of :func:`open_incidents` with their instance's business key and definition
    key and their timer's element and due time (a statement, to page through)."""
    return (
        select(
            Incident,
            ProcessInstance.business_key,
            ProcessInstance.key,
            Timer.element_id,
            Timer.due_at,
        )
        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
        .outerjoin(Timer, Timer.id == Incident.timer_id)
        .where(Incident.resolved_at.is_(None))
        .order_by(Incident.created_at.desc(), Incident.id.desc())
    )


def retry_incident(session: Session, *, incident_id: int, actor: str, now: datetime) -> Incident:
    """Put an incident's timer back in the queue, due now, with its attempts reset."""
    with unit_of_work(session):
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise EngineError(f"incident {incident_id} does not exist")
        if incident.resolved_at is not None:
            raise EngineError(
                f"incident {incident_id} was already resolved by "
                f"{incident.resolved_by} at {incident.resolved_at.isoformat()}"
            )
        incident.resolved_at = now
        incident.resolved_by = actor
        if incident.timer_id is not None:
            session.execute(
                update(TM)
                .where(TM.c.id == incident.timer_id, TM.c.status == "incident")
                .values(status="pending", attempts=0, next_attempt_at=None, last_error=None)
            )
    return incident
