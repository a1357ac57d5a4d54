"""The Flask app: pages for each role, the REST API, Open311. Built by :func:`create_app`."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engine.clock import Clock
from engine.db import configure_engine

from .config import load_settings
from .extensions import db, migrate
from .hotline import init_hotline

MIGRATIONS_DIR = str(__import__("pathlib").Path(__file__).with_name("migrations"))


def create_app(test_config: dict[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_settings(app.instance_path, test_config))
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    with app.app_context():
        configure_engine(db.engine)  # SQLite pragmas and BEGIN IMMEDIATE, before any connection
    if clock is None and app.config.get("CLOCK_OFFSET_SECONDS"):
        from datetime import timedelta

        from engine.clock import OffsetClock, SystemClock

        clock = OffsetClock(
            SystemClock(), timedelta(seconds=float(app.config["CLOCK_OFFSET_SECONDS"]))
        )
    init_hotline(app, clock)

    from .home import bp as home_bp

    app.register_blueprint(home_bp)
    return app
