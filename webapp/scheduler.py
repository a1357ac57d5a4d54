"""Starting the timer scheduler (which also delivers the outbox) in a process of the web app
(serve) or a dedicated worker."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from engine.outbox import OutboxService
from engine.scheduler import TimerScheduler
from engine.timers import TimerService


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
    return TimerService(
        hotline.runtime,
        lambda: Session(engine),
        clock=hotline.clock,
        owner=owner,
        lease_seconds=float(app.config["TIMER_LEASE_SECONDS"]),
        batch_size=int(app.config["TIMER_BATCH_SIZE"]),
        max_attempts=int(app.config["TIMER_MAX_ATTEMPTS"]),
        backoff_seconds=float(app.config["TIMER_BACKOFF_SECONDS"]),
    )


def outbox_service(app: Flask, *, owner: str | None = None) -> OutboxService:
    """An outbox service on this app's database, with the handlers the domain registered.
    Leases and batches are the timers' settings; retries have their own."""
    from .extensions import db
    from .hotline import get_hotline

    with app.app_context():
        engine = db.engine
        hotline = get_hotline()
    return OutboxService(
        hotline.runtime.outbox,
        lambda: Session(engine),
        clock=hotline.clock,
        owner=owner,
        lease_seconds=float(app.config["TIMER_LEASE_SECONDS"]),
        batch_size=int(app.config["TIMER_BATCH_SIZE"]),
        max_attempts=int(app.config["OUTBOX_MAX_ATTEMPTS"]),
        backoff_seconds=float(app.config["OUTBOX_BACKOFF_SECONDS"]),
    )


def start_scheduler(app: Flask, *, role: str, owner: str | None = None) -> TimerScheduler | None:
    if not scheduler_enabled(app, role):
        return None
    scheduler = TimerScheduler(
        timer_service(app, owner=owner),
        sweep_seconds=float(app.config["TIMER_SWEEP_SECONDS"]),
        outbox=outbox_service(app, owner=owner),
    )
    scheduler.start()
    return scheduler
