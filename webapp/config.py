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
    "FILES_DIR": (
        "HOTLINE_FILES_DIR",
        "",
        "where attached files are kept (docs/attachments.md); empty: instance/files",
    ),
    "FILES_MAX_MB": (
        "HOTLINE_FILES_MAX_MB",
        10,
        "largest attached file, in MB (a request carries at most 10 files, 3 times this in all)",
    ),
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
    # -- observability and deployment (webapp/metrics.py, webapp/logs.py, docs/deployment.md)
    "METRICS_TOKEN": (
        "HOTLINE_METRICS_TOKEN",
        None,
        "bearer token /metrics asks for; unset: /metrics answers only direct loopback requests",
    ),
    "LOG_FORMAT": ("HOTLINE_LOG_FORMAT", "text", "log lines: text, or json (one object a line)"),
    "LOG_LEVEL": ("HOTLINE_LOG_LEVEL", "INFO", "least severe level logged (DEBUG, INFO, ...)"),
    "WORKER_STALE_SECONDS": (
        "HOTLINE_WORKER_STALE_SECONDS",
        60.0,
        "/readyz fails when no timer scheduler has beaten for this long",
    ),
    "QUALITY_SAMPLE_SIZE": (
        "HOTLINE_QUALITY_SAMPLE_SIZE",
        5,
        "cases per operator in the monthly quality sample: the worker's draw at the start of a "
        "month, and the default of the reviewer's",
    ),
    "WAVE_WINDOW_HOURS": (
        "HOTLINE_WAVE_WINDOW_HOURS",
        24.0,
        "hot-topic waves: the window whose count of cases on a word, category or category in "
        "an area is compared with the usual (docs/insight-waves.md)",
    ),
    "WAVE_BASELINE_DAYS": (
        "HOTLINE_WAVE_BASELINE_DAYS",
        14.0,
        "hot-topic waves: the days before the window whose mean count per window is the usual",
    ),
    "WAVE_P": (
        "HOTLINE_WAVE_P",
        1e-4,
        "hot-topic waves: a count is a wave when P(X >= count) under the usual (Poisson) is "
        "below this",
    ),
    "WAVE_MIN_COUNT": (
        "HOTLINE_WAVE_MIN_COUNT",
        10,
        "hot-topic waves: fewer cases than this in the window are never a wave",
    ),
    "WAVE_END_HOURS": (
        "HOTLINE_WAVE_END_HOURS",
        24.0,
        "hot-topic waves: a wave not flagged for this long ends",
    ),
    "WAVE_SECONDS": (
        "HOTLINE_WAVE_SECONDS",
        600.0,
        "how often the worker looks for hot-topic waves",
    ),
    "KPI_ROLLUP_SECONDS": (
        "HOTLINE_KPI_ROLLUP_SECONDS",
        60.0,
        "how often the worker recounts the KPI rollup's days whose cases changed (until then "
        "the KPIs read those days from the cases)",
    ),
    "DISPATCH_MODEL_RETRAIN_HOURS": (
        "HOTLINE_DISPATCH_MODEL_RETRAIN_HOURS",
        24.0,
        "how often the worker retrains the dispatch model learned from closed cases (only when "
        "cases closed since the last training)",
    ),
    "DISPATCH_MODEL_MIN_CASES": (
        "HOTLINE_DISPATCH_MODEL_MIN_CASES",
        50,
        "fewer usable closed cases than this and a dispatch model training is refused (the old "
        "model kept)",
    ),
    "DISPATCH_MODEL_MAX_AGE_DAYS": (
        "HOTLINE_DISPATCH_MODEL_MAX_AGE_DAYS",
        30.0,
        "a dispatch model older than this many days is not shown (only the catalogue's "
        "suggestion, with a note); 0: never too old",
    ),
    "HEARTBEAT_SECONDS": (
        "HOTLINE_HEARTBEAT_SECONDS",
        5.0,
        "how often a process running the timer scheduler records that it is alive",
    ),
    "READY_NEEDS_WORKER": (
        "HOTLINE_READY_NEEDS_WORKER",
        "on",
        "whether /readyz needs a recent worker heartbeat (on, off)",
    ),
    "PROXY_FIX": (
        "HOTLINE_PROXY_FIX",
        "off",
        "trust X-Forwarded-* from this many proxies, e.g. x_for=1,x_proto=1,x_host=1; off",
    ),
    # sign-in and sessions (webapp/security.py, docs/architecture.md "Sign-in and sessions")
    "SIGNIN_WINDOW_MINUTES": (
        "HOTLINE_SIGNIN_WINDOW_MINUTES",
        15,
        "how long a failed sign-in counts towards the throttle's limits",
    ),
    "SIGNIN_FREE_FAILURES": (
        "HOTLINE_SIGNIN_FREE_FAILURES",
        3,
        "failures of one user name from one address before delays (doubling from 2 s)",
    ),
    "SIGNIN_MAX_DELAY_SECONDS": (
        "HOTLINE_SIGNIN_MAX_DELAY_SECONDS",
        300,
        "longest delay between attempts of one user name from one address",
    ),
    "SIGNIN_ADDRESS_FAILURES": (
        "HOTLINE_SIGNIN_ADDRESS_FAILURES",
        30,
        "failures from one address (any user names) in the window before it must wait",
    ),
    "SIGNIN_ACCOUNT_FAILURES": (
        "HOTLINE_SIGNIN_ACCOUNT_FAILURES",
        50,
        "failures for one user name from addresses it has not signed in from recently, "
        "in the window, before those addresses must wait",
    ),
    "SIGNIN_PASSWORD_ACCOUNTS": (
        "HOTLINE_SIGNIN_PASSWORD_ACCOUNTS",
        5,
        "user names one wrong password may be tried against in the window",
    ),
    "SIGNIN_CONCURRENT_HASHES": (
        "HOTLINE_SIGNIN_CONCURRENT_HASHES",
        4,
        "password checks one process runs at once; more get 503 at once",
    ),
    "PASSWORD_MIN_LENGTH": ("HOTLINE_PASSWORD_MIN_LENGTH", 10, "shortest new password"),
    "PASSWORD_CLASSES": (
        "HOTLINE_PASSWORD_CLASSES",
        3,
        "how many of lower case, upper case, digits and other characters a new password needs",
    ),
    "SESSION_IDLE_MINUTES": (
        "HOTLINE_SESSION_IDLE_MINUTES",
        30,
        "a session unused this long ends",
    ),
    "SESSION_MAX_HOURS": (
        "HOTLINE_SESSION_MAX_HOURS",
        12,
        "a session ends this long after sign-in, however active",
    ),
    "TOTP_REQUIRED_ROLES": (
        "HOTLINE_TOTP_REQUIRED_ROLES",
        "",
        "roles that must sign in with a second factor (TOTP), comma separated, "
        "e.g. admin,supervisor",
    ),
    "DUPLICATE_DAYS": (
        "HOTLINE_DUPLICATE_DAYS",
        7,
        "duplicate suggestions look at the open cases received in this many last days",
    ),
    "RETENTION_DAYS": (
        "HOTLINE_RETENTION_DAYS",
        1095,
        "`hotline retention run` anonymises cases closed longer ago than this (at least 180)",
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
    "CENTRE_NAME": (
        "HOTLINE_CENTRE_NAME",
        "12345热线",
        "the centre's name: the signature of every SMS (【...】), the sender name of mail and "
        "the heading of printed sheets",
    ),
    "PUBLIC_URL": (
        "HOTLINE_PUBLIC_URL",
        "",
        "the address people open the app at (https://hotline.example.gov.cn): links in "
        "e-mails and webhooks; none when empty",
    ),
    "SMS_URL": (
        "HOTLINE_SMS_URL",
        "",
        "the SMS gateway: POST JSON {id, to, text}; any 2xx is accepted, other answers and "
        "timeouts are retried. Empty: SMS are recorded, not sent",
    ),
    "SMS_TOKEN": ("HOTLINE_SMS_TOKEN", "", "bearer token sent to the SMS gateway"),
    "SMTP_URL": (
        "HOTLINE_SMTP_URL",
        "",
        "mail server: smtp://user:pass@host:port (?starttls=1), or smtps://... for TLS from "
        "the start. Empty: e-mails are recorded, not sent",
    ),
    "MAIL_FROM": ("HOTLINE_MAIL_FROM", "hotline@localhost", "the From address of e-mails"),
    "NOTIFY_TIMEOUT_SECONDS": (
        "HOTLINE_NOTIFY_TIMEOUT_SECONDS",
        10.0,
        "how long a gateway, mail server or webhook may take to answer before the message "
        "is retried",
    ),
    "CONNECTOR_HOSTS": (
        "HOTLINE_CONNECTOR_HOSTS",
        "",
        "hosts the http_request connector of BPMN service tasks may call: host or host:port, "
        "comma separated (a host alone: its default port); empty: none",
    ),
    "SMS_QUIET_HOURS": (
        "HOTLINE_SMS_QUIET_HOURS",
        "22:00-08:00",
        "local hours in which no SMS goes to citizens (held until the end; critical cases "
        "exempt); empty: none",
    ),
    "SMS_DAILY_LIMIT": (
        "HOTLINE_SMS_DAILY_LIMIT",
        5,
        "most SMS one citizen number receives per local day (more are not sent, and logged)",
    ),
    "SMS_INBOUND_SECRET": (
        "HOTLINE_SMS_INBOUND_SECRET",
        "",
        "bearer token the SMS gateway sends to POST /api/v1/sms/inbound; empty: the endpoint "
        "refuses every request",
    ),
    "SMS_PROVIDER": (
        "HOTLINE_SMS_PROVIDER",
        "gateway",
        "how SMS leave: gateway (HOTLINE_SMS_URL) or tencent (Tencent Cloud SMS, the "
        "HOTLINE_TENCENT_* settings)",
    ),
    "TENCENT_SECRET_ID": ("HOTLINE_TENCENT_SECRET_ID", "", "Tencent Cloud API key: SecretId"),
    "TENCENT_SECRET_KEY": ("HOTLINE_TENCENT_SECRET_KEY", "", "Tencent Cloud API key: SecretKey"),
    "TENCENT_SMS_APP_ID": (
        "HOTLINE_TENCENT_SMS_APP_ID",
        "",
        "Tencent Cloud SMS application (SmsSdkAppId)",
    ),
    "TENCENT_SMS_TEMPLATE_ID": (
        "HOTLINE_TENCENT_SMS_TEMPLATE_ID",
        "",
        "approved Tencent SMS template whose text is one parameter {1}: the notice's text",
    ),
    "TENCENT_SMS_SIGN": (
        "HOTLINE_TENCENT_SMS_SIGN",
        "",
        "approved SMS signature (SignName); empty: HOTLINE_CENTRE_NAME",
    ),
    "TENCENT_REGION": ("HOTLINE_TENCENT_REGION", "ap-guangzhou", "Tencent Cloud region"),
    "TENCENT_SMS_ENDPOINT": (
        "HOTLINE_TENCENT_SMS_ENDPOINT",
        "https://sms.tencentcloudapi.com",
        "Tencent Cloud SMS API address",
    ),
    "LIVE_POLL_SECONDS": (
        "HOTLINE_LIVE_POLL_SECONDS",
        10.0,
        "how often an open page asks for its bell count and whether its live lists changed "
        "(paused while the tab is hidden); 0: never",
    ),
    "SCREEN_POP_POLL_SECONDS": (
        "HOTLINE_SCREEN_POP_POLL_SECONDS",
        0.5,
        "how often an operator's intake page asks whether a call rang or was answered at them "
        "(the screen pop; one indexed read per ask); 0: never",
    ),
    "RECORDING_HOSTS": (
        "HOTLINE_RECORDING_HOSTS",
        "",
        "origins of the phone system's recording server (e.g. https://rec.pbx.example, "
        "several separated by spaces): the case page's call players may play from them "
        "(Content-Security-Policy media-src)",
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
    if not config["FILES_DIR"]:
        config["FILES_DIR"] = str(Path(instance_path) / "files")
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
