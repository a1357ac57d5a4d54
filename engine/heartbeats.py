"""Worker heartbeats: each process running the timer scheduler says, after a sweep, that it is
alive; readiness checks and metrics read the most recent one.

A beat is written at most every ``every`` seconds of the injected clock (the sweep runs every
second; a write a second per worker would be a write lock a second on SQLite for nothing).
Rows of workers that stopped are left for a day, then removed by the next beat of any worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .clock import Clock
from .db import connection, unit_of_work
from .models import WorkerHeartbeat

HB = WorkerHeartbeat.__table__
#: how long the row of a worker that stopped beating stays
KEEP = timedelta(days=1)


class Heartbeat:
    """The beats of one process. ``beat()`` is cheap to call often: it writes only when the
    last write is ``every`` seconds old."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        clock: Clock,
        owner: str,
        role: str,
        every: float = 5.0,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.owner = owner
        self.role = role
        self.every = timedelta(seconds=every)
        self.started_at = clock.now()
        self._last: datetime | None = None
        self._lock = threading.Lock()

    def beat(self) -> bool:
        """Record that this process is alive now; False if a recent beat made it needless."""
        now = self.clock.now()
        with self._lock:
            if self._last is not None and now - self._last < self.every:
                return False
            session = self.session_factory()
            try:
                record(session, owner=self.owner, role=self.role, now=now, started=self.started_at)
            finally:
                session.close()
            self._last = now
        return True


def record(session: Session, *, owner: str, role: str, now: datetime, started: datetime) -> None:
    """Upsert ``owner``'s beat at ``now`` and forget workers silent for a day."""
    with unit_of_work(session):
        conn = connection(session)
        changed = conn.execute(
            update(HB).where(HB.c.owner == owner).values(beat_at=now, role=role)
        ).rowcount
        if not changed:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(
                dialect.insert(HB)
                .values(owner=owner, role=role, started_at=started, beat_at=now)
                .on_conflict_do_update(index_elements=["owner"], set_={"beat_at": now})
            )
            conn.execute(delete(HB).where(HB.c.beat_at < now - KEEP))


def latest(session: Session) -> datetime | None:
    """When the most recent beat of any worker was."""
    return session.scalar(select(func.max(HB.c.beat_at)))


def alive(session: Session, *, now: datetime, within: timedelta) -> int:
    """How many workers beat within ``within`` of ``now``."""
    return (
        session.scalar(select(func.count()).select_from(HB).where(HB.c.beat_at >= now - within))
        or 0
    )
