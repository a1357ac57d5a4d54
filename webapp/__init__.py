"""The Flask app: pages for each role, the REST API, Open311. Built by :func:`create_app`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, request
from flask.sessions import SecureCookieSessionInterface

from engine.clock import Clock
from engine.db import configure_engine

from .audit.log import init_app as init_audit
from .config import load_settings
from .errors import init_errors
from .extensions import csrf, db, migrate
from .headers import init_headers
from .hotline import init_hotline, refresh_case_types
from .i18n import init_i18n
from .identity import init_app as init_identity
from .input_guard import init_input_guard
from .security import load_current_user

MIGRATIONS_DIR = str(Path(__file__).with_name("migrations"))


def create_app(test_config: dict[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_settings(app.instance_path, test_config))
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    with app.app_context():
        configure_engine(db.engine)  # SQLite pragmas and BEGIN IMMEDIATE, before any connection
    if clock is None and app.config.get("CLOCK_OFFSET_SECONDS"):
        from engine.clock import OffsetClock, SystemClock

        clock = OffsetClock(
            SystemClock(), timedelta(seconds=float(app.config["CLOCK_OFFSET_SECONDS"]))
        )
    init_hotline(app, clock)

    # No request body larger than a diagram upload and some margin (checked before parsing).
    # (or than the files one request may attach)
    app.config["MAX_CONTENT_LENGTH"] = (
        max(
            int(app.config["MAX_BPMN_BYTES"]),
            int(float(app.config["FILES_MAX_MB"]) * 1024 * 1024) * 3,
        )
        + 1024 * 1024
    )
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # the cookie only carries a session id; the session's row ends it (webapp/security.py)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=float(app.config["SESSION_MAX_HOURS"])
    )
    app.session_interface = SecureWhenHttps()
    csrf.init_app(app)
    init_i18n(app)
    init_identity(app)
    init_audit(app)
    init_errors(app)
    init_headers(app)
    init_input_guard(app)  # NUL, lone surrogates, deep JSON: before CSRF, sign-in (input_guard.py)
    init_observability(app)  # after it: its timing and request id hooks go before the guard
    app.before_request(refresh_case_types)
    app.before_request(load_current_user)

    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    return app


def init_observability(app: Flask) -> None:
    """Request ids and logs, metrics, and the proxy's headers (issue 15, observability)."""
    from .health import needs_worker
    from .logs import init_logs
    from .metrics import init_metrics
    from .proxy import init_proxy

    init_metrics(app)
    init_logs(app)  # its before_request runs first of all: every line has the request's id
    init_proxy(app)
    needs_worker(app)  # a setting it cannot read stops the app at start, naming it


class SecureWhenHttps(SecureCookieSessionInterface):
    """Session cookies are Secure whenever the request came over HTTPS (HOTLINE_SECURE_COOKIES
    auto; behind a proxy, run with ProxyFix so X-Forwarded-Proto counts), always with "on"."""

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config.get("SECURE_COOKIES_AUTO"):
            return request.is_secure
        return super().get_cookie_secure(app)


def blueprints() -> list[Blueprint]:
    """Every area of the app, one blueprint each, imported by name: a missing or misspelt
    area fails at start instead of leaving its pages out."""
    from . import (
        admin,
        api,
        appeals,
        attachments,
        audit,
        auth,
        cases,
        dispatch_model,
        evaluation,
        home,
        inbox,
        insight,
        intake,
        notifications,
        open311,
        printing,
        quality,
        sms,
        supervision,
    )
    from .calls import board as call_board
    from .calls import callbacks as call_callbacks
    from .calls import pop as call_pop
    from .calls import records as call_records
    from .insight import duplicates as insight_duplicates
    from .insight import waves as insight_waves

    return [
        home.bp,
        auth.bp,
        intake.bp,
        inbox.bp,
        cases.bp,
        supervision.bp,
        appeals.bp,
        evaluation.bp,
        sms.bp,
        admin.bp,
        api.bp,
        open311.bp,
        audit.bp,
        notifications.bp,
        call_board.bp,
        call_pop.bp,
        call_callbacks.bp,
        call_records.bp,
        quality.bp,
        insight_duplicates.bp,
        insight_waves.bp,
        insight.bp,
        dispatch_model.bp,
        printing.bp,
        attachments.bp,
    ]
