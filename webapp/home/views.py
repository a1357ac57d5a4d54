"""The start page: each role lands where its work is."""

from flask import g, redirect, url_for
from sqlalchemy import select

from ..extensions import db
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
}


@bp.get("/")
def index():
    if g.get("user") is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for(LANDING.get(g.user.role, "cases.index")))


@bp.get("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}
