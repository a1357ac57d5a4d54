"""APScheduler as the in-process clock of the timer service.

Deadlines live in the ``timers`` table, never in APScheduler's job store (which must not be
shared between processes, and with default settings drops a one-off job that fell due while the
process was down). APScheduler only wakes us: a sweep every ``sweep_seconds`` (which also sees
timers other processes armed), and a one-off wake-up at the next due time, moved earlier when
this process arms a nearer timer, so a timer fires within about a second of its due time.
Every job has ``misfire_grace_time=None`` and ``coalesce=True``.

The same scheduler drains the outbox (``engine/outbox.py``) when given one: on the same sweep,
and at once after a commit in this process wrote outbox messages.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from .outbox import OutboxService
from .timers import TimerService

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}


class TimerScheduler:
    def __init__(
        self,
        service: TimerService,
        *,
        sweep_seconds: float = 1.0,
        outbox: OutboxService | None = None,
    ) -> None:
        self.service = service
        self.outbox = outbox
        self._outbox_lock = threading.Lock()
        self._outbox_again = threading.Event()
        self.sweep_seconds = sweep_seconds
        self.scheduler = BackgroundScheduler(job_defaults=JOB_DEFAULTS, timezone=UTC)
        self._lock = threading.Lock()
        self._again = threading.Event()
        self._wake_at: datetime | None = None
        self._wake_job = None
        self._wake_lock = threading.Lock()
        #: called after every sweep that drained without error (the worker's heartbeat)
        self.after_sweep: list[Callable[[], None]] = []

    def start(self) -> None:
        self.scheduler.add_job(
            self.sweep,
            "interval",
            seconds=self.sweep_seconds,
            id="sweep",
            next_run_time=datetime.now(UTC),
            # a run that finds a sweep going only asks it to go round once more and returns;
            # with max_instances=1 APScheduler would instead log a warning every second of a
            # long burst
            max_instances=3,
        )
        if self.outbox is not None:
            self.scheduler.add_job(
                self.deliver,
                "interval",
                seconds=self.sweep_seconds,
                id="outbox",
                next_run_time=datetime.now(UTC),
                max_instances=3,
            )
            self.outbox.outbox.watchers.append(self.wake_outbox)
        self.scheduler.start()
        self.service.runtime.timer_watchers.append(self.wake_at)

    def shutdown(self) -> None:
        # Paused first: APScheduler's own loop then takes no job while the job store is
        # emptied under it (its thread died with JobLookupError when shutdown came mid-loop).
        with contextlib.suppress(Exception):
            self.scheduler.pause()
        self.service.stop()
        if self.wake_at in self.service.runtime.timer_watchers:
            self.service.runtime.timer_watchers.remove(self.wake_at)
        if self.outbox is not None:
            self.outbox.stop()
            if self.wake_outbox in self.outbox.outbox.watchers:
                self.outbox.outbox.watchers.remove(self.wake_outbox)
        self.scheduler.shutdown(wait=True)

    def wake_outbox(self) -> None:
        """A commit in this process wrote outbox messages: deliver them now, not at the next
        sweep. A delivery already running goes round once more instead."""
        self._outbox_again.set()
        if self._outbox_lock.locked():
            return  # it checks the flag after releasing the lock, so it cannot miss it
        try:
            self.scheduler.add_job(self.deliver, "date", run_date=datetime.now(UTC))
        except Exception:  # the scheduler is shutting down
            log.debug("could not schedule an outbox delivery", exc_info=True)

    def deliver(self) -> None:
        """Handle every waiting outbox message; if a delivery is running, make it go round
        once more."""
        while True:
            self._outbox_again.set()
            if not self._outbox_lock.acquire(blocking=False):
                return
            try:
                while self._outbox_again.is_set() and not self.outbox.stopping:
                    self._outbox_again.clear()
                    self.outbox.drain()
            except Exception:
                log.exception("outbox delivery failed")
                return
            finally:
                self._outbox_lock.release()
            if not self._outbox_again.is_set() or self.outbox.stopping:
                return

    def wake_at(self, due: datetime) -> None:
        """Make sure we are awake at ``due`` (earlier than the current wake-up, if any)."""
        now = datetime.now(UTC)
        when = max(due, now)
        with self._wake_lock:
            if self._wake_at is not None and now < self._wake_at <= when:
                return
            old = self._wake_job
            try:
                # A fresh id each time: APScheduler removes a date job itself once it has
                # handed it to the executor, and must never find it replaced under it.
                self._wake_job = self.scheduler.add_job(self.sweep, "date", run_date=when)
            except Exception:  # the scheduler is shutting down
                log.debug("could not schedule a wake-up", exc_info=True)
                return
            self._wake_at = when
            if old is not None:
                with contextlib.suppress(JobLookupError):  # it ran already
                    old.remove()

    def sweep(self) -> None:
        """Fire everything due; if a sweep is already running, make it go round once more."""
        if not self._lock.acquire(blocking=False):
            self._again.set()
            return
        try:
            while True:
                self._again.clear()
                try:
                    self.service.drain()
                    self._after_sweep()
                    if not self._again.is_set() and self._schedule_next():
                        break
                except Exception:
                    log.exception("timer sweep failed")
                    break
        finally:
            self._lock.release()

    def _after_sweep(self) -> None:
        for hook in self.after_sweep:
            try:
                hook()
            except Exception:  # a heartbeat that cannot be written must not stop the timers
                log.exception("after-sweep hook %r failed", hook)

    def _schedule_next(self) -> bool:
        """Arrange the wake-up for the next due timer. False if one fell due while the last
        batch ran (drain found nothing, then time moved on): the caller drains again rather
        than leave it to the next sweep, a second later."""
        if self.service.stopping:
            return True
        session = self.service.session_factory()
        try:
            due = self.service.next_due(session)
            now = datetime.now(UTC)
            if due is not None and due <= now and self.service.claimable_now(session):
                return False
        finally:
            session.close()
        # Due timers that are still not claimable (leased by a worker firing them now, or
        # backing off after a failure) are left to the regular sweep; only a future due time
        # needs a wake-up.
        if due is not None and now < due < now + timedelta(seconds=self.sweep_seconds * 2):
            self._wake_at = None
            self.wake_at(due)
        return True
