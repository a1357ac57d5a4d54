"""The auditor's page: the log filtered by actor, action, target or case number and dates;
paginated, or as CSV (the export is itself recorded)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workflows.audit.models import AuditEntry
from workflows.audit.service import query
from workflows.users.models import Role

from ..extensions import db
from ..pagination import CSV_LIMIT, csv_response, paginate, wants_csv
from ..security import roles_required
from ..sorting import DESC, Sortable, apply_sort
from . import bp
from .log import record

#: what an audit row is about, by name (the action stays a code: auditors filter by it)
TARGET_TYPES = {
    "api_token": _l("API token"),
    "appeal_settings": _l("Appeal settings"),
    "article": _l("Knowledge article"),
    "audit_log": _l("Audit log"),
    "calendar_day": _l("Calendar day"),
    "calendar_year": _l("Calendar year"),
    "calendar_years": _l("Calendar years"),
    "call_callback": _l("Missed-call callback"),
    "call_settings": _l("Call settings"),
    "case": _l("Case"),
    "channel": _l("Channel"),
    "definition": _l("Process definition"),
    "department": _l("Department"),
    "dispatch_model": _l("Dispatch model"),
    "dispatch_rule": _l("Dispatch rule"),
    "incident": _l("Incident"),
    "insight_area": _l("Area"),
    "insight_term": _l("Dictionary term"),
    "message": _l("Message"),
    "outbox": _l("Outbox message"),
    "policy": _l("Deadline policy"),
    "quality_dispute": _l("Quality dispute"),
    "quality_month": _l("Quality sample month"),
    "quality_review": _l("Quality review"),
    "quality_sheet": _l("Scoring sheet"),
    "sms_inbound": _l("Incoming SMS"),
    "template": _l("Notification template"),
    "user": _l("User"),
}

#: the log's sortable columns; without ``sort``, the newest first. ``seq``, ``at``, ``actor``,
#: ``action`` and ``case`` are read through their indexes; ``address`` and ``target`` sort every
#: matching row (fast once the filters have narrowed the log)
AUDIT_SORTS = {
    "seq": Sortable((AuditEntry.seq,), first=DESC),
    "at": Sortable((AuditEntry.at,), first=DESC),
    "actor": Sortable((AuditEntry.actor_name,)),
    "address": Sortable((AuditEntry.address,)),
    "action": Sortable((AuditEntry.action,)),
    "target": Sortable((AuditEntry.target_type, AuditEntry.target_id)),
    "case": Sortable((AuditEntry.case_number,)),
}

HEADER = [
    "seq",
    "at",
    "actor_id",
    "actor",
    "address",
    "action",
    "target_type",
    "target_id",
    "case_number",
    "detail",
    "prev_hash",
    "hash",
]


def _day(name: str, errors: dict[str, str]) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Give a date as YYYY-MM-DD.")
        return None


def _start(day: date | None) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time(), tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))


@bp.get("/")
@roles_required(Role.AUDITOR, Role.ADMIN)
def log():
    errors: dict[str, str] = {}
    filters = {
        "actor": (request.args.get("actor") or "").strip()[:120],
        "action": (request.args.get("action") or "").strip()[:48],
        "target": (request.args.get("target") or "").strip()[:64],
    }
    since, until = _day("from", errors), _day("to", errors)
    if errors:
        return render_template("audit/log.html", page=None, errors=errors, args=request.args), 400
    stmt = query(
        **filters,
        since=_start(since),
        until=_start(until + timedelta(days=1)) if until else None,
    )
    stmt, sorting = apply_sort(stmt, AUDIT_SORTS, (AuditEntry.seq,))
    if wants_csv():
        rows = list(db.session.scalars(stmt.limit(CSV_LIMIT)))
        record(
            "audit.export",
            target_type="audit_log",
            rows=len(rows),
            filter={**filters, "from": str(since or ""), "to": str(until or "")},
        )
        return csv_response(
            "audit-log.csv",
            HEADER,
            (
                [
                    r.seq,
                    r.at.isoformat(),
                    r.actor_id if r.actor_id is not None else "",
                    r.actor_name,
                    r.address,
                    r.action,
                    r.target_type,
                    r.target_id,
                    r.case_number,
                    r.detail,
                    r.prev_hash,
                    r.hash,
                ]
                for r in rows
            ),
        )
    page = paginate(db.session, stmt)
    page.sorting = sorting
    return render_template(
        "audit/log.html", page=page, errors=errors, args=request.args, target_types=TARGET_TYPES
    )
