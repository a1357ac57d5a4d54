"""Thin views: load, call a service, render."""

from flask import render_template
from sqlalchemy import func, select

from engine.definitions import list_definitions
from engine.models import HumanTask, ProcessInstance

from ..extensions import db
from . import bp


@bp.get("/")
def index():
    session = db.session
    running = session.scalar(
        select(func.count()).select_from(ProcessInstance).where(ProcessInstance.status == "running")
    )
    ready = session.scalar(
        select(func.count()).select_from(HumanTask).where(HumanTask.state == "ready")
    )
    return render_template(
        "home/index.html", definitions=list_definitions(session), running=running, ready=ready
    )


@bp.get("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}
