"""The per-app hotline: the clock, the engine runtime and the domain, built once per app."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy.orm import Session

from engine.clock import Clock, SystemClock
from engine.runtime import Runtime
from workflows.hotline import Hotline, install


def init_hotline(app: Flask, clock: Clock | None = None) -> Hotline:
    from .extensions import db

    clock = clock or SystemClock()
    tz = ZoneInfo(app.config["TIMEZONE"])
    runtime = Runtime(clock=clock, tz=tz)

    with app.app_context():
        engine = db.engine

    def session_factory() -> Session:
        return Session(engine)

    hotline = install(
        runtime,
        clock=clock,
        tz=tz,
        forms_dir=Path(app.config["FORMS_DIR"]),
        session_factory=session_factory,
    )
    app.extensions["hotline"] = hotline
    return hotline


def get_hotline() -> Hotline:
    return current_app.extensions["hotline"]
