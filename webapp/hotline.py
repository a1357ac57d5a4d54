"""The per-app hotline: the clock, the engine runtime and the domain, built once per app."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy.orm import Session

from engine.clock import Clock, SystemClock
from engine.expressions import DEFAULT_BUDGET, Budget
from engine.runtime import Runtime
from workflows.cases.type_files import check_diagrams, load_case_types
from workflows.cases.type_store import StoredTypes
from workflows.cases.types import CaseTypeError, CaseTypes
from workflows.connectors import AllowedHosts, HostError
from workflows.hotline import Hotline, install
from workflows.notifications.channels.configure import senders_from
from workflows.notifications.settings import NotifySettings, SettingsError, parse_quiet_hours

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
    runtime = Runtime(clock=clock, tz=tz, expression_budget=expression_budget(app.config))

    with app.app_context():
        engine = db.engine

    def session_factory() -> Session:
        return Session(engine)

    # a registry of this app's own (the stored types are added to it in place)
    case_types = CaseTypes(list(case_types))
    hotline = install(
        runtime,
        clock=clock,
        tz=tz,
        forms_dir=Path(app.config["FORMS_DIR"]),
        session_factory=session_factory,
        case_types=case_types,
        notify=notify_settings(app.config),
        connector_hosts=connector_hosts(app.config),
    )
    hotline.stored_types = StoredTypes(
        case_types,
        case_types,
        session_factory,
        every=float(app.config.get("CASE_TYPES_REFRESH_SECONDS", 2.0)),
    )
    app.extensions["hotline"] = hotline
    return hotline


def refresh_case_types() -> None:
    """Before each request: the case types administrators added since (a cheap check at most
    every couple of seconds; ``cases.type_store``)."""
    hotline = current_app.extensions.get("hotline")
    if hotline is not None and hotline.stored_types is not None:
        hotline.stored_types.refresh()


def get_hotline() -> Hotline:
    return current_app.extensions["hotline"]


def expression_budget(config: Mapping[str, Any]) -> Budget:
    """The run-time budget of every expression and script, from the EXPRESSION_* settings."""
    values = {}
    for name, env, default in (
        ("time_ms", "HOTLINE_EXPRESSION_TIME_MS", DEFAULT_BUDGET.time_ms),
        ("steps", "HOTLINE_EXPRESSION_MAX_STEPS", DEFAULT_BUDGET.steps),
        ("size", "HOTLINE_EXPRESSION_MAX_SIZE", DEFAULT_BUDGET.size),
    ):
        raw = config.get(env.removeprefix("HOTLINE_"), default)
        try:
            values[name] = int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{env} must be a whole number, not {raw!r}") from None
        if values[name] <= 0:
            raise ConfigError(f"{env} must be a positive number, not {raw!r}")
    return Budget(**values, total=10 * values["size"])


def connector_hosts(config: Mapping[str, Any]) -> AllowedHosts:
    """The hosts ``http_request`` may call (a bad entry stops the app, naming the variable)."""
    try:
        return AllowedHosts.parse(str(config.get("CONNECTOR_HOSTS") or ""))
    except HostError as exc:
        raise ConfigError(f"HOTLINE_CONNECTOR_HOSTS: {exc}") from None


def notify_settings(config: Mapping[str, Any]) -> NotifySettings:
    """The notification settings and channels from the app's config (a bad value stops the
    app at start-up, naming its variable)."""
    try:
        quiet = parse_quiet_hours(str(config.get("SMS_QUIET_HOURS", "") or ""))
        senders = senders_from(config)
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None
    limit = config.get("SMS_DAILY_LIMIT", 5)
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        raise ConfigError(
            f"HOTLINE_SMS_DAILY_LIMIT must be a whole number, not {limit!r}"
        ) from None
    if limit < 1:
        raise ConfigError(f"HOTLINE_SMS_DAILY_LIMIT must be at least 1, not {limit!r}")
    return NotifySettings(
        centre=str(config.get("CENTRE_NAME") or "12345热线"),
        public_url=str(config.get("PUBLIC_URL") or ""),
        quiet_start=quiet[0] if quiet else None,
        quiet_end=quiet[1] if quiet else None,
        daily_limit=limit,
        senders=senders,
    )
