"""The per-app hotline: the clock, the engine runtime and the domain, built once per app."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy.orm import Session

from engine.clock import Clock, SystemClock
from engine.runtime import Runtime
from workflows.cases.type_files import check_diagrams, load_case_types
from workflows.cases.types import CaseTypeError
from workflows.hotline import Hotline, install

from .config import ConfigError


def init_hotline(app: Flask, clock: Clock | None = None) -> Hotline:
    from .extensions import db

    clock = clock or SystemClock()
    tz = ZoneInfo(app.config["TIMEZONE"])
    # at start-up, so that a bad declaration stops the app naming its field, not the first call
    try:
        case_types = load_case_types(app.config.get("CASE_TYPES"))
        check_diagrams(case_types, Path(app.config["BPMN_DIR"]))
    except CaseTypeError as exc:
        raise ConfigError(f"case types: {exc}") from None
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
        case_types=case_types,
    )
    app.extensions["hotline"] = hotline
    return hotline


def get_hotline() -> Hotline:
    return current_app.extensions["hotline"]
