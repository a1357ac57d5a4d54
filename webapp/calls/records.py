"""The call records (``/calls/records``): the calls that arrived in a period, filtered as the
KPI page's call figures count them (queue, operator, outcome), so that each call figure links
to the calls behind it (docs/lists.md). Calls are not cases: they have their own list.

Callers' numbers are masked (a list, docs/privacy.md)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from workflows.calls.enums import Outcome
from workflows.calls.models import Call
from workflows.cases.confidentiality import mask_phone
from workflows.cases.models import Case
from workflows.users.models import Role

from ..extensions import db
from ..hotline import get_hotline
from ..pagination import paginate
from ..security import roles_required
from ..sorting import DESC, Sortable, apply_sort

bp = Blueprint("call_records", __name__)

#: who reads them: those who read the KPI page
READERS = (Role.SUPERVISOR, Role.ADMIN)
#: ``queue=-`` / ``agent=-``: the calls with none (the figures' "No queue" and "No operator")
NONE = "-"
MAX_TEXT = 64
OUTCOMES = tuple(str(o) for o in Outcome)
#: the list's sortable columns (a period's calls, read through the arrival index); without
#: ``sort``, the newest first
CALL_SORTS = {
    "arrived": Sortable((Call.arrived_at,), first=DESC),
    "queue": Sortable((Call.queue,)),
    "agent": Sortable((Call.agent,)),
    "outcome": Sortable((Call.outcome,)),
    "wait": Sortable((Call.wait_seconds,), first=DESC, nullable=True),
    "talk": Sortable((Call.talk_seconds,), first=DESC, nullable=True),
    # a subquery, not the page's join: the API's list (``GET /api/v1/calls``) sorts by it too
    "case": Sortable(
        (
            select(Case.number)
            .where(Case.id == Call.case_id)
            .correlate_except(Case)
            .scalar_subquery(),
        ),
        nullable=True,
    ),
}


def _day(name: str, errors: dict[str, list[str]]) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = [_("Not a date (YYYY-MM-DD).")]
        return None


def records_url(
    *, start: date, end: date, queue: str | None = None, agent: str | None = None,
    outcome: str = "",
) -> str:  # fmt: skip
    """The list of the calls behind one call figure: arrived from ``start`` to ``end`` (local
    days, both included), of the row's queue or operator ("" is none), of an outcome."""
    args = {"from": start.isoformat(), "to": end.isoformat()}
    if queue is not None:
        args["queue"] = queue or NONE
    if agent is not None:
        args["agent"] = agent or NONE
    if outcome:
        args["outcome"] = outcome
    return url_for("call_records.index", **args)


@bp.get("/calls/records")
@roles_required(*READERS)
def index():
    errors: dict[str, list[str]] = {}
    values = {k: (request.args.get(k) or "").strip() for k in ("from", "to", "queue", "agent",
                                                                "outcome")}  # fmt: skip
    first, last = _day("from", errors), _day("to", errors)
    if first and last and first > last:
        errors["to"] = [_("Before the start date.")]
    for name in ("queue", "agent"):
        if len(values[name]) > MAX_TEXT:
            errors[name] = [_("At most %(n)s characters.", n=MAX_TEXT)]
    if values["outcome"] and values["outcome"] not in OUTCOMES:
        errors["outcome"] = [_("Not one of the choices.")]
    context = {"values": values, "errors": errors, "outcomes": _outcome_labels(), "no_value": NONE}
    if errors:
        return render_template("calls/records.html", page=None, **context), 400
    zone = ZoneInfo(str(get_hotline().tz))
    stmt = select(Call, Case.number).outerjoin(Case, Case.id == Call.case_id)
    if first:
        stmt = stmt.where(Call.arrived_at >= datetime.combine(first, time(0), tzinfo=zone))
    if last:
        after = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
        stmt = stmt.where(Call.arrived_at < after)
    for name, column in (("queue", Call.queue), ("agent", Call.agent)):
        if values[name]:
            stmt = stmt.where(column == ("" if values[name] == NONE else values[name]))
    if values["outcome"]:
        stmt = stmt.where(Call.outcome == values["outcome"])
    stmt, sorting = apply_sort(stmt.order_by(Call.arrived_at.desc()), CALL_SORTS, (Call.id,))
    page = paginate(db.session, stmt, scalars=False)
    page.sorting = sorting
    return render_template("calls/records.html", page=page, phone=mask_phone, **context)


def _outcome_labels() -> dict[str, str]:
    return {
        Outcome.ANSWERED: _("Answered"),
        Outcome.ABANDONED: _("Abandoned"),
        Outcome.MISSED: _("Missed"),
        Outcome.TRANSFERRED: _("Transferred"),
        "": _("Live"),
    }
