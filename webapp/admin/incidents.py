"""Incidents: deadlines whose firing kept failing, and outbox messages whose delivery did.
Each can be put back in the queue."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from engine.errors import EngineError
from engine.models import Incident, ProcessInstance, Timer
from engine.outbox import undelivered
from engine.timers import open_incidents_listing, retry_incident

from ..error_messages import translated
from ..extensions import db
from ..hotline import get_hotline
from ..pagination import wants_csv
from ..sorting import DESC, Sortable
from . import bp
from .common import admin_only, audit, listing

#: the timer incidents' sortable columns (a handful open at a time); without ``sort``, the
#: newest first
INCIDENT_SORTS = {
    "case": Sortable((ProcessInstance.business_key,), nullable=True),
    "case_type": Sortable((ProcessInstance.key,)),
    "timer": Sortable((Timer.element_id,), nullable=True),
    "due": Sortable((Timer.due_at,), nullable=True),
    "error": Sortable((Incident.error,)),
    "attempts": Sortable((Incident.attempts,), first=DESC),
    "since": Sortable((Incident.created_at,), first=DESC),
}


@bp.get("/incidents")
@admin_only
def incidents():
    page = listing(
        open_incidents_listing(),
        filename="timer-incidents.csv",
        header=["id", "case", "case_type", "element", "due_at", "error", "attempts", "created_at"],
        row=lambda r: [
            r.Incident.id,
            r.business_key or "",
            r.key,
            r.element_id or "",
            r.due_at.isoformat() if r.due_at else "",
            r.Incident.error,
            r.Incident.attempts,
            r.Incident.created_at.isoformat(),
        ],
        scalars=False,
        sorts=INCIDENT_SORTS,
        tie_breaker=(Incident.id,),
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
        flash(_("Could not retry: %(reason)s", reason=translated(str(exc))), "error")
    else:
        audit("incident.retry", target_type="incident", target_id=incident_id)
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
        flash(_("Could not retry: %(reason)s", reason=translated(str(exc))), "error")
    else:
        audit("outbox.retry", target_type="outbox", target_id=message_id)
        flash(_("Outbox message %(id)s is queued again.", id=message_id))
    return redirect(url_for("admin.incidents"))
