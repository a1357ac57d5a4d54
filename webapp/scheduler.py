"""Starting the timer scheduler (which also delivers the outbox) in a process of the web app
(serve) or a dedicated worker."""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.orm import Session

from engine.heartbeats import Heartbeat
from engine.outbox import DeliveryResult, OutboxService
from engine.scheduler import TimerScheduler
from engine.timers import BatchResult, TimerService

from .logs import batch_id

log = logging.getLogger("hotline.worker")


class LoggedTimerService(TimerService):
    """Each drain's lines share an id (``timers-...``); each firing and the drain's counts are
    logged (nothing when nothing was due)."""

    def drain(self, **kwargs) -> BatchResult:
        with batch_id("timers"):
            result = super().drain(**kwargs)
            if result.claimed:
                log.info(
                    "timers: %s instances fired, %s claimed, %s to retry, %s incidents",
                    result.fired,
                    result.claimed,
                    result.retried,
                    result.incidents,
                    extra={"owner": self.owner, **vars(result)},
                )
        return result


class LoggedOutboxService(OutboxService):
    def drain(self, **kwargs) -> DeliveryResult:
        with batch_id("outbox"):
            result = super().drain(**kwargs)
            if result.claimed:
                log.info(
                    "outbox: %s delivered, %s claimed, %s to retry, %s incidents",
                    result.done,
                    result.claimed,
                    result.retried,
                    result.incidents,
                    extra={"owner": self.owner, **vars(result)},
                )
        return result


def _fired(instance_id: int) -> None:
    log.info("timer fired: instance %s", instance_id, extra={"instance_id": instance_id})


def scheduler_enabled(app: Flask, role: str) -> bool:
    setting = str(app.config.get("SCHEDULER", "auto")).lower()
    if setting in ("on", "true", "1", "yes"):
        return True
    if setting in ("off", "false", "0", "no"):
        return False
    return role in ("serve", "worker")


def timer_service(app: Flask, *, owner: str | None = None) -> TimerService:
    """A timer service on this app's database, runtime and clock."""
    from .extensions import db
    from .hotline import get_hotline

    with app.app_context():
        engine = db.engine
        hotline = get_hotline()
    return LoggedTimerService(
        hotline.runtime,
        lambda: Session(engine),
        clock=hotline.clock,
        owner=owner,
        lease_seconds=float(app.config["TIMER_LEASE_SECONDS"]),
        batch_size=int(app.config["TIMER_BATCH_SIZE"]),
        max_attempts=int(app.config["TIMER_MAX_ATTEMPTS"]),
        backoff_seconds=float(app.config["TIMER_BACKOFF_SECONDS"]),
        on_fired=_fired,
    )


def outbox_service(app: Flask, *, owner: str | None = None) -> OutboxService:
    """An outbox service on this app's database, with the handlers the domain registered.
    Leases and batches are the timers' settings; retries have their own."""
    from .extensions import db
    from .hotline import get_hotline

    with app.app_context():
        engine = db.engine
        hotline = get_hotline()
    return LoggedOutboxService(
        hotline.runtime.outbox,
        lambda: Session(engine),
        clock=hotline.clock,
        owner=owner,
        lease_seconds=float(app.config["TIMER_LEASE_SECONDS"]),
        batch_size=int(app.config["TIMER_BATCH_SIZE"]),
        max_attempts=int(app.config["OUTBOX_MAX_ATTEMPTS"]),
        backoff_seconds=float(app.config["OUTBOX_BACKOFF_SECONDS"]),
    )


def prune_job(app: Flask):
    from .insight.duplicates import prune_job

    return prune_job(app)


def start_scheduler(app: Flask, *, role: str, owner: str | None = None) -> TimerScheduler | None:
    if not scheduler_enabled(app, role):
        return None
    scheduler = TimerScheduler(
        timer_service(app, owner=owner),
        sweep_seconds=float(app.config["TIMER_SWEEP_SECONDS"]),
        outbox=outbox_service(app, owner=owner),
    )
    scheduler.after_sweep.append(heartbeat(app, role=role, owner=scheduler.service.owner).beat)
    scheduler.after_sweep.append(case_types_refresh(app))
    scheduler.after_sweep.append(monthly_draw(app))
    scheduler.after_sweep.append(rollup_job(app).tick)
    scheduler.after_sweep.append(prune_job(app).tick)  # duplicate keys older than the window
    scheduler.after_sweep.append(wave_job(app, background=True).tick)
    scheduler.after_sweep.append(dispatch_model_job(app).tick)
    scheduler.start()
    return scheduler


def case_types_refresh(app: Flask):
    """The case types administrators added on the pages, taken up by the workers too."""
    stored = app.extensions["hotline"].stored_types

    def tick() -> None:
        if stored is not None:
            stored.refresh()

    return tick


def monthly_draw(app: Flask):
    """Last month's quality samples, drawn at the start of a month (workflows/quality)."""
    from workflows.quality.scheduled import MonthlyDraw

    from .extensions import db
    from .hotline import get_hotline
    from .i18n import tz

    with app.app_context():
        engine, clock, zone = db.engine, get_hotline().clock, tz()
    size = int(app.config["QUALITY_SAMPLE_SIZE"])
    return MonthlyDraw(lambda: Session(engine), clock=clock, tz=zone, size=size)


def heartbeat(app: Flask, *, role: str, owner: str) -> Heartbeat:
    """The beats ``/readyz`` looks for, written after sweeps on this app's clock."""
    from .extensions import db
    from .hotline import get_hotline

    with app.app_context():
        engine = db.engine
        clock = get_hotline().clock
    return Heartbeat(
        lambda: Session(engine),
        clock=clock,
        owner=owner,
        role=role,
        every=float(app.config["HEARTBEAT_SECONDS"]),
    )


def rollup_job(app: Flask):
    """The KPI rollup's recount of dirty days, at most every KPI_ROLLUP_SECONDS, on this app's
    database and clock (workflows/kpi/rollup.py)."""
    from workflows.kpi.rollup import RollupJob

    from .extensions import db
    from .hotline import get_hotline

    with app.app_context():
        engine = db.engine
        clock = get_hotline().clock
    return RollupJob(
        lambda: Session(engine), clock=clock, every=float(app.config["KPI_ROLLUP_SECONDS"])
    )


def wave_job(app: Flask, *, background: bool = False):
    """Hot-topic wave detection, at most every WAVE_SECONDS, on this app's database and clock;
    supervisors hear of a wave opening through the event bus (workflows/insight/waves.py).
    ``background``: each detection in a thread of its own (the scheduler's sweep)."""
    from workflows.insight.waves import WaveJob, WaveSettings

    from .extensions import db
    from .hotline import get_hotline

    with app.app_context():
        engine = db.engine
        hotline = get_hotline()
    return WaveJob(
        lambda: Session(engine),
        clock=hotline.clock,
        settings=WaveSettings.from_config(app.config),
        publish=hotline.events.publish,
        every=float(app.config["WAVE_SECONDS"]),
        background=background,
    )


def dispatch_model_job(app: Flask):
    """The dispatch model's retraining, every DISPATCH_MODEL_RETRAIN_HOURS when cases closed
    since the last training (workflows/insight/dispatch_model.py)."""
    from workflows.insight.dispatch_model import RetrainJob

    from .extensions import db
    from .hotline import get_hotline

    with app.app_context():
        engine = db.engine
        clock = get_hotline().clock
    return RetrainJob(
        lambda: Session(engine),
        clock=clock,
        every_hours=float(app.config["DISPATCH_MODEL_RETRAIN_HOURS"]),
        min_cases=int(app.config["DISPATCH_MODEL_MIN_CASES"]),
        background=True,
    )
