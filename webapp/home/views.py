"""The start page: each role lands where its work is; liveness, readiness and metrics."""

from pathlib import Path

from flask import Response, current_app, g, redirect, url_for

from ..extensions import db
from ..health import readiness
from ..hotline import get_hotline
from ..metrics import scrape
from . import bp

LANDING = {
    "operator": "intake.new",
    "dispatcher": "inbox.queues",
    "handler": "inbox.index",
    "supervisor": "supervision.overdue",
    "callback": "inbox.index",
    "lead": "inbox.index",
    "admin": "admin.index",
    "auditor": "audit.log",
    "qa": "quality.samples",
}


@bp.get("/")
def index():
    if g.get("user") is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for(LANDING.get(g.user.role, "cases.index")))


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links (a 404 is a console error).
    The icon is small: sent as bytes (no file left open for the response to close)."""
    icon = Path(current_app.static_folder, "favicon.ico").read_bytes()
    response = Response(icon, mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/healthz")
def healthz():
    """Alive: the process answers (nothing else is asked; /readyz asks the database)."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    ready, checks = readiness(db.session, now=get_hotline().clock.now())
    return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503


bp.add_url_rule("/metrics", "metrics", scrape, methods=["GET"])
