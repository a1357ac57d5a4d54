"""Incidents: deadlines whose firing kept failing, and outbox messages whose delivery did.
Each can be put back in the queue."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.errors import EngineError
from engine.models import Incident, ProcessInstance, Timer
from engine.outbox import undelivered
from engine.timers import retry_incident

from ..extensions import db
from ..hotline import get_hotline
from ..pagination import wants_csv
from . import bp
from .common import admin_only, audit, listing


@bp.get("/incidents")
@admin_only
def incidents():
    # the same rows as engine.timers.open_incidents, a page at a time, with the case number
    stmt = (
        select(
            Incident,
            ProcessInstance.business_key,
            ProcessInstance.key,
            Timer.element_id,
            Timer.due_at,
        )
        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
        .outerjoin(Timer, Timer.id == Incident.timer_id)
        .where(Incident.resolved_at.is_(None))
        .order_by(Incident.created_at.desc(), Incident.id.desc())
    )
    page = listing(
        stmt,
        filename="timer-incidents.csv",
        header=["id", "case", "case_type", "element", "due_at", "error", "attempts", "created_at"],
        row=lambda r: [
            r[0].id,
            r[1] or "",
            r[2],
            r[3] or "",
            r[4].isoformat() if r[4] else "",
            r[0].error,
            r[0].attempts,
            r[0].created_at.isoformat(),
        ],
        scalars=False,
    )
    if wants_csv():
        return page
    # a short list below the timers' (a message given up on is rare; `hotline outbox` pages)
    outbox = undelivered(db.session, statuses=("incident",), limit=50)
    return render_template("admin/incidents.html", page=page, outbox=outbox)


@bp.post("/incidents/<int:incident_id>/retry")
@admin_only
def incident_retry(incident_id: int):
    actor = g.user.username
    hotline = get_hotline()
    now = hotline.clock.now()
    try:
        retry_incident(db.session, incident_id=incident_id, actor=actor, now=now)
    except EngineError as exc:
        flash(_("Could not retry: %(reason)s", reason=str(exc)), "error")
    else:
        audit("incident.retry", id=incident_id)
        for wake in hotline.runtime.timer_watchers:  # the scheduler, if this process runs one
            wake(now)
        flash(_("Incident %(id)s: its timer is queued again and fires shortly.", id=incident_id))
    return redirect(url_for("admin.incidents"))


@bp.post("/incidents/outbox/<int:message_id>/retry")
@admin_only
def outbox_retry(message_id: int):
    try:
        get_hotline().runtime.outbox.retry(db.session, message_id)
    except EngineError as exc:
        flash(_("Could not retry: %(reason)s", reason=str(exc)), "error")
    else:
        audit("outbox.retry", id=message_id)
        flash(_("Outbox message %(id)s is queued again.", id=message_id))
    return redirect(url_for("admin.incidents"))
