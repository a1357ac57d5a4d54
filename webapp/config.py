"""Settings, read from the environment when the app is created (never at import time)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from workflows.calendar.service import DEFAULT_TZ

ROOT = Path(__file__).resolve().parent.parent

#: Every setting, its environment variable and default; README's configuration table mirrors it.
SETTINGS: dict[str, tuple[str, Any, str]] = {
    "DATABASE_URL": (
        "HOTLINE_DATABASE_URL",
        None,
        "SQLAlchemy URL; default: SQLite file instance/hotline.db",
    ),
    "TIMEZONE": ("HOTLINE_TIMEZONE", DEFAULT_TZ, "local time zone for deadlines and pages"),
    "SCHEDULER": (
        "HOTLINE_SCHEDULER",
        "auto",
        "run the timer scheduler in this process: on, off, or auto (on for "
        "`hotline serve` and `hotline worker`, off elsewhere, e.g. under gunicorn)",
    ),
    "BPMN_DIR": ("HOTLINE_BPMN_DIR", str(ROOT / "bpmn"), "bundled diagrams deployed by `init`"),
    "FORMS_DIR": ("HOTLINE_FORMS_DIR", str(ROOT / "forms"), "form-js JSON forms, one per task"),
    "CASE_TYPES": (
        "HOTLINE_CASE_TYPES",
        None,
        "a TOML file declaring case types beyond the built-in six (docs/case-types.md)",
    ),
    "MAX_BPMN_BYTES": ("HOTLINE_MAX_BPMN_BYTES", 5 * 1024 * 1024, "largest BPMN upload"),
    "TIMER_SWEEP_SECONDS": (
        "HOTLINE_TIMER_SWEEP_SECONDS",
        1.0,
        "how often the scheduler looks for due timers armed by other processes",
    ),
    "TIMER_LEASE_SECONDS": (
        "HOTLINE_TIMER_LEASE_SECONDS",
        60.0,
        "how long a claimed timer stays reserved for the worker that claimed it",
    ),
    "TIMER_BATCH_SIZE": ("HOTLINE_TIMER_BATCH_SIZE", 100, "timers claimed per batch"),
    "TIMER_MAX_ATTEMPTS": (
        "HOTLINE_TIMER_MAX_ATTEMPTS",
        5,
        "failed firings before a timer becomes an incident",
    ),
    "TIMER_BACKOFF_SECONDS": (
        "HOTLINE_TIMER_BACKOFF_SECONDS",
        5.0,
        "first retry delay after a failed firing (doubles each time)",
    ),
    "OUTBOX_MAX_ATTEMPTS": (
        "HOTLINE_OUTBOX_MAX_ATTEMPTS",
        8,
        "failed deliveries before an outbox message becomes an incident",
    ),
    "OUTBOX_BACKOFF_SECONDS": (
        "HOTLINE_OUTBOX_BACKOFF_SECONDS",
        5.0,
        "first retry delay after a failed outbox delivery (doubles each time)",
    ),
    "CLOCK_OFFSET_SECONDS": (
        "HOTLINE_CLOCK_OFFSET_SECONDS",
        0.0,
        "run as if the time were this many seconds later (drills and tests of lease expiry)",
    ),
    "SECURE_COOKIES": (
        "HOTLINE_SECURE_COOKIES",
        "auto",
        "mark session cookies Secure (on, off, or auto: on unless serving plain http locally)",
    ),
    "SECRET_KEY": (
        "HOTLINE_SECRET_KEY",
        None,
        "session signing key; default: generated once into instance/secret_key",
    ),
    "EXPRESSION_TIME_MS": (
        "HOTLINE_EXPRESSION_TIME_MS",
        200,
        "longest one gateway condition, timer expression or script may run (milliseconds)",
    ),
    "EXPRESSION_MAX_STEPS": (
        "HOTLINE_EXPRESSION_MAX_STEPS",
        100_000,
        "most syntax nodes (comprehension items included) one expression or script evaluates",
    ),
    "EXPRESSION_MAX_SIZE": (
        "HOTLINE_EXPRESSION_MAX_SIZE",
        100_000,
        "largest value an expression builds (characters, items or digits); "
        "all values built in one evaluation: ten times this",
    ),
}


class ConfigError(ValueError):
    """A setting has a value the app cannot use; the message names the variable."""


def load_settings(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from defaults, the environment and ``overrides``."""
    config: dict[str, Any] = {}
    for name, (env, default, _) in SETTINGS.items():
        value = os.environ.get(env, default)
        if isinstance(default, int | float) and isinstance(value, str):
            try:
                value = type(default)(value)
            except ValueError:
                raise ConfigError(f"{env} must be a number, not {value!r}") from None
        config[name] = value
    config.update(overrides or {})
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'hotline.db'}"
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _instance_secret(Path(instance_path) / "secret_key")
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    config["SESSION_COOKIE_SECURE"] = str(config["SECURE_COOKIES"]).lower() in ("on", "true", "1")
    config["SECURE_COOKIES_AUTO"] = str(config["SECURE_COOKIES"]).lower() == "auto"
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(config["DATABASE_URL"]))
    return config


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"check_same_thread": False, "timeout": 30}}
    return {"pool_pre_ping": True}


def _instance_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
