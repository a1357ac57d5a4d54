"""Log lines with a request id: text for a terminal, or one JSON object a line for collectors.

``HOTLINE_LOG_FORMAT=json`` writes every record as one JSON object: ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message``, ``request_id``, and what the record carries of
``method``, ``route``, ``status``, ``duration_ms``, ``user_id`` and the worker's counts; an
exception's traceback is ``exception``. Python's own ``logging`` does it all (a formatter of
twenty lines; python-json-logger would add a dependency for the same twenty lines).

Every request gets an id: the caller's ``X-Request-Id`` when it is sane (1 to 64 letters,
digits, ``-``, ``_``, ``.``; a proxy's id then joins its logs to ours), otherwise a new one.
The answer carries it back in ``X-Request-Id``; every line logged while the request runs
carries it, and one access line per request says how it ended. Lines name the route template
and the user's id, never the path, the query, a form value or a name: those hold personal
data (a caller's phone in ``/intake/caller?caller_phone=...``).

The worker's sweeps get ids of their own (``timers-...``, ``outbox-...``), so the lines of one
batch (a firing that failed, the batch's summary) can be found together.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, request
from sqlalchemy import inspect as sa_inspect

#: the id of the request or worker batch being served in this thread
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "hotline_request_id", default=None
)
SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: the fields a record may carry (``extra=``) that JSON lines include
FIELDS = (
    "method",
    "route",
    "status",
    "duration_ms",
    "user_id",
    "owner",
    "instance_id",
    "claimed",
    "fired",
    "done",
    "retried",
    "incidents",
)
FORMATS = ("text", "json")
#: marks the handler this module installed, so configuring again replaces it
_OURS = "hotline_handler"
#: libraries that say at INFO what only a debugging session wants (SpiffWorkflow: every task's
#: state change; APScheduler: every run of the one-second sweep): WARNING unless DEBUG is asked
CHATTY = ("spiff", "apscheduler", "alembic.runtime.migration")
access_log = logging.getLogger("hotline.request")


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (``-`` outside any request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def checked(fmt: str, level: str) -> tuple[str, int]:
    """The format and the numeric level, or ConfigError naming the variable."""
    from .config import ConfigError

    fmt = str(fmt).lower()
    if fmt not in FORMATS:
        raise ConfigError(f"HOTLINE_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    numeric = logging.getLevelName(str(level).upper())
    if not isinstance(numeric, int):
        raise ConfigError(f"HOTLINE_LOG_LEVEL must be a level name like INFO, not {level!r}")
    return fmt, numeric


def configure_logging(
    fmt: str = "text", level: str = "INFO", stream: IO[str] | None = None
) -> logging.Handler:
    """Send the root logger's records to ``stream`` (stderr) as text or JSON lines; called
    again, it replaces the handler it installed before. The handler, for tests."""
    fmt, numeric = checked(fmt, level)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_OURS)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _OURS]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in CHATTY:
        logging.getLogger(name).setLevel(numeric if numeric <= logging.DEBUG else logging.WARNING)
    return handler


@contextlib.contextmanager
def batch_id(kind: str) -> Iterator[str]:
    """A fresh id for the lines of one worker batch (``timers-1a2b3c4d5e6f``)."""
    token = request_id.set(f"{kind}-{uuid.uuid4().hex[:12]}")
    try:
        yield request_id.get() or ""
    finally:
        request_id.reset(token)


def incoming_id() -> str:
    sent = request.headers.get("X-Request-Id", "")
    return sent if SANE_ID.fullmatch(sent) else uuid.uuid4().hex


#: routes whose successful requests are logged at DEBUG (the live lists' polls)
QUIET_ROUTES = frozenset({"/live", "/calls/pop"})


def start_request() -> None:
    g.request_id = incoming_id()
    g._log_token = request_id.set(g.request_id)
    g._log_started = time.perf_counter()


def end_request(response: Response) -> Response:
    rid = g.get("request_id")
    if rid is None:
        return response
    response.headers["X-Request-Id"] = rid
    rule = request.url_rule
    user = g.get("user")
    started = g.get("_log_started")
    route = rule.rule if rule is not None else "<unmatched>"
    # an open tab polls every few seconds: its answered polls would drown the log
    level = logging.DEBUG if route in QUIET_ROUTES and response.status_code < 400 else logging.INFO
    access_log.log(
        level,
        "%s %s %s",
        request.method,
        rule.rule if rule is not None else "<unmatched>",
        response.status_code,
        extra={
            "method": request.method,
            "route": rule.rule if rule is not None else "<unmatched>",
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "user_id": _user_id(user),
        },
    )
    return response


def _user_id(user) -> int | None:
    """The signed-in user's id from the identity map: never a query (after a commit the row's
    attributes are expired, and reading ``user.id`` would load the row again)."""
    if user is None:
        return None
    identity = sa_inspect(user).identity
    return identity[0] if identity else None


def forget_request(_exc: BaseException | None) -> None:
    token = g.pop("_log_token", None)
    if token is not None:
        with contextlib.suppress(ValueError):  # set in another context (a copied one)
            request_id.reset(token)


def init_logs(app: Flask) -> None:
    """Request ids and access lines; the root handler too, except in tests (pytest keeps its
    own capture of log records)."""
    checked(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    if not app.testing:
        configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)  # before all others
    app.after_request(end_request)
    app.teardown_request(forget_request)
