"""The worker's monthly draw: at the start of a month, last month's samples, once.

Called after the timer scheduler's sweeps (``TimerScheduler.after_sweep``), so often: it
remembers the month it has seen drawn and asks the database again only when the month turns.
A draw the reviewer made first is kept (``sampling.draw_month`` is idempotent); two workers
drawing at once meet the unique (month, operator) key and the second one's draw rolls back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import unit_of_work

from . import sampling
from .models import SampleDraw

log = logging.getLogger(__name__)
#: who the stored draw names as having drawn it
WORKER = "worker"


class MonthlyDraw:
    """``__call__`` draws the last ended month's samples unless they are drawn already."""

    def __init__(
        self, session_factory: Callable[[], Session], *, clock: Clock, tz: ZoneInfo, size: int
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.tz = tz
        self.size = sampling.check_size(size)
        self.done: date | None = None
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        """True when this call drew something."""
        now = self.clock.now()
        month = sampling.last_ended_month(now, self.tz)
        with self._lock:
            if self.done == month:
                return False
            session = self.session_factory()
            try:
                return self._draw(session, month, now)
            finally:
                session.close()
                # once a month per process, even after a failure (logged by the scheduler):
                # the reviewer can still draw the month on the page
                self.done = month

    def _draw(self, session: Session, month: date, now) -> bool:
        if session.scalar(select(SampleDraw.id).where(SampleDraw.month == month).limit(1)):
            return False
        try:
            with unit_of_work(session):
                results = sampling.draw_month(
                    session, month=month, size=self.size, by=WORKER, now=now, tz=self.tz
                )
        except IntegrityError:  # another worker drew it meanwhile
            return False
        drawn = [r for r in results if r.new]
        if drawn:
            log.info("quality samples drawn for %s: %s operators", f"{month:%Y-%m}", len(drawn))
        return bool(drawn)
