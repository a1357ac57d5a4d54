"""Readiness: whether this web process should get traffic (``/readyz``).

Ready when the database answers, its schema is the one this code was written for (Alembic's
stamped revision equals the scripts' heads: a process started before ``hotline init`` migrated,
or after a newer release did, is not ready), and a timer scheduler beat recently (without one,
deadlines stop firing while pages still work). The worker check is skipped with
``HOTLINE_READY_NEEDS_WORKER=off``; a ``hotline serve`` that runs its own scheduler beats like a
worker, so it passes the check itself. ``/healthz`` (alive) touches nothing: a load balancer
restarts a process whose liveness fails, and a database outage is no reason to restart every
web process.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .config import ConfigError

ON = ("on", "true", "1", "yes")
OFF = ("off", "false", "0", "no")


def needs_worker(app) -> bool:
    value = str(app.config.get("READY_NEEDS_WORKER", "on")).lower()
    if value not in ON + OFF:
        raise ConfigError(f"HOTLINE_READY_NEEDS_WORKER must be on or off, not {value!r}")
    return value in ON


def readiness(session, *, now) -> tuple[bool, dict[str, dict[str, Any]]]:
    """(ready, checks): each check ``{"ok": bool, ...}`` with what it found."""
    from engine.heartbeats import latest

    from .cli_needs import schema_problem

    checks: dict[str, dict[str, Any]] = {}
    try:
        try:
            session.execute(select(1))
        except SQLAlchemyError as exc:
            checks["database"] = {"ok": False, "error": type(exc).__name__}
            return False, checks
        checks["database"] = {"ok": True}
        problem = None if schema_current(session) else schema_problem(session)
        checks["schema"] = {"ok": problem is None, **({"problem": problem} if problem else {})}
        if needs_worker(current_app) and problem is None:  # else its table may not be there
            checks["worker"] = worker_check(latest(session), now)
    except SQLAlchemyError as exc:  # the database went away between the checks
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    finally:
        session.rollback()
    return all(check["ok"] for check in checks.values()), checks


def schema_current(session) -> bool:
    """Whether the stamped revision is the scripts' heads: read from the migration scripts
    once per app (parsing them took most of a readiness check), asked of the database each
    time."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = current_app.extensions.get("hotline.schema_heads")
    if heads is None:
        script = ScriptDirectory(current_app.extensions["migrate"].directory)
        heads = current_app.extensions["hotline.schema_heads"] = frozenset(script.get_heads())
    return set(MigrationContext.configure(session.connection()).get_current_heads()) == heads


def worker_check(beat, now) -> dict[str, Any]:
    stale = timedelta(seconds=float(current_app.config["WORKER_STALE_SECONDS"]))
    if beat is None:
        return {"ok": False, "problem": "no timer worker has ever run: start `hotline worker`"}
    age = (now - beat).total_seconds()
    if age > stale.total_seconds():
        return {
            "ok": False,
            "age_seconds": round(age, 1),
            "problem": f"no timer worker has beaten for {int(age)} s "
            f"(HOTLINE_WORKER_STALE_SECONDS={stale.total_seconds():g})",
        }
    return {"ok": True, "age_seconds": round(max(age, 0.0), 1)}
