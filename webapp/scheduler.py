"""The in-process timer scheduler (APScheduler): sweeps due timers and fires them.

APScheduler is only the clock here: deadlines live in the ``timers`` table, never in its job
store, and every job has ``misfire_grace_time=None`` and ``coalesce=True``.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

log = logging.getLogger(__name__)


def scheduler_enabled(app: Flask, role: str) -> bool:
    setting = str(app.config.get("SCHEDULER", "auto")).lower()
    if setting in ("on", "true", "1", "yes"):
        return True
    if setting in ("off", "false", "0", "no"):
        return False
    return role in ("serve", "worker")


def sweep(app: Flask) -> int:
    from .extensions import db
    from .hotline import get_hotline

    with app.app_context():
        try:
            return get_hotline().runtime.fire_due_timers(db.session)
        finally:
            db.session.remove()


def start_scheduler(app: Flask, *, role: str) -> BackgroundScheduler | None:
    if not scheduler_enabled(app, role):
        return None
    scheduler = BackgroundScheduler(
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        timezone="UTC",
    )
    scheduler.add_job(sweep, "interval", seconds=1, args=[app], id="sweep")
    scheduler.start()
    return scheduler
