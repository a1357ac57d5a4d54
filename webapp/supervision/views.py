"""Thin views for supervisors: overdue and escalated cases, and the KPI dashboard."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, render_template, request
from flask_babel import gettext as _
from sqlalchemy import or_

from workflows.cases.confidentiality import confidential_ids
from workflows.cases.enums import OPEN
from workflows.cases.models import Case
from workflows.cases.ordering import case_order
from workflows.cases.service import visible_cases
from workflows.kpi.service import cohandling_on_time, count_overdue_now, overdue_now
from workflows.users.models import Role

from .. import identity
from ..cases.labels import Labels, yes_no
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang, local_time, time_left
from ..pagination import CSV_LIMIT, Page, csv_response, page_args, paginate, wants_csv
from ..security import roles_required
from . import bp, dashboard

SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
#: the escalated list's "mark" filter
MARKS = ("escalated", "sign_escalated", "red", "yellow")


def _department_filter(labels: Labels) -> tuple[str, int | None, dict[str, list[str]]]:
    code = (request.args.get("department") or "").strip()
    if not code:
        return "", None, {}
    department = labels.department_by_code(code)
    if department is None:
        return code, None, {"department": [_("No such department.")]}
    return code, department.id, {}


def case_header() -> list[str]:
    return [
        _("Number"),
        _("Case type"),
        _("Urgency"),
        _("Status"),
        _("Lead department"),
        _("Dispatched at"),
        _("Reply by"),
        _("Time left"),
        _("Due state"),
        _("Sign-for escalated"),
        _("Escalated"),
        _("Returns"),
        _("Extensions"),
        _("Caller phone"),
        _("Description"),
    ]


def case_row(case: Case, labels: Labels, now) -> list[Any]:
    return [
        case.number,
        labels.case_type(case.case_type),
        labels.urgency(case.urgency),
        labels.status(case.status),
        labels.department(case.lead_department_id),
        local_time(case.dispatched_at),
        local_time(case.reply_due),
        time_left(case.reply_due, now) if case.reply_due else "",
        labels.due_state(case.due_state),
        yes_no(case.sign_escalated),
        yes_no(case.escalated),
        case.return_count,
        case.extension_count,
        identity.shown(case).phone,
        case.description,
    ]


@bp.get("/supervision/overdue")
@roles_required(*SUPERVISORS)
def overdue():
    session = db.session
    labels = Labels(session, lang())
    now = get_hotline().clock.now()
    code, department_id, errors = _department_filter(labels)
    context = {"labels": labels, "now": now, "department": code, "errors": errors}
    if errors:
        return render_template("supervision/overdue.html", page=None, **context), 400
    ids = None if department_id is None else [department_id]
    if wants_csv():
        rows = overdue_now(session, as_of=now, department_ids=ids, limit=CSV_LIMIT)
        identity.record(rows, "csv")
        return csv_response("overdue.csv", case_header(), (case_row(c, labels, now) for c in rows))
    number, per_page = page_args()
    total = count_overdue_now(session, as_of=now, department_ids=ids)
    items = overdue_now(
        session, as_of=now, department_ids=ids, limit=per_page, offset=(number - 1) * per_page
    )
    page = Page(items, number, per_page, total)
    return render_template("supervision/overdue.html", page=page, **context)


@bp.get("/supervision/escalated")
@roles_required(*SUPERVISORS)
def escalated():
    session = db.session
    labels = Labels(session, lang())
    now = get_hotline().clock.now()
    code, department_id, errors = _department_filter(labels)
    mark = (request.args.get("mark") or "").strip()
    if mark and mark not in MARKS:
        errors["mark"] = [_("Not one of the choices.")]
    context = {
        "labels": labels,
        "now": now,
        "department": code,
        "mark": mark,
        "errors": errors,
    }
    if errors:
        return render_template("supervision/escalated.html", page=None, **context), 400
    conditions = {
        "escalated": Case.escalated.is_(True),
        "sign_escalated": Case.sign_escalated.is_(True),
        "red": Case.due_state == "red",
        "yellow": Case.due_state == "yellow",
    }
    stmt = visible_cases(session, g.user).where(
        Case.status.in_([str(s) for s in OPEN]),
        conditions[mark] if mark else or_(*conditions.values()),
    )
    if department_id is not None:
        stmt = stmt.where(Case.lead_department_id == department_id)
    stmt = stmt.order_by(*case_order(Case.reply_due))
    if wants_csv():
        identity.record_ids(confidential_ids(session, stmt, limit=CSV_LIMIT), "csv")
        rows = session.scalars(stmt.limit(CSV_LIMIT))
        return csv_response(
            "escalated.csv", case_header(), (case_row(c, labels, now) for c in rows)
        )
    return render_template("supervision/escalated.html", page=paginate(session, stmt), **context)


@bp.get("/kpi")
@roles_required(*SUPERVISORS)
def kpi():
    session = db.session
    hotline = get_hotline()
    labels = Labels(session, lang())
    now = hotline.clock.now()
    form = dashboard.read(request.args, now, hotline.tz)
    context = {
        "form": form,
        "labels": labels,
        "now": now,
        "d": dashboard,
        "department_name": lambda row: dashboard.department_label(row, labels.lang),
        "type_name": lambda row: labels.case_type(row.case_type or ""),
    }
    if form.errors:
        return render_template("supervision/kpi.html", board=None, **context), 400
    board = dashboard.build(session, form, labels, now=now, tz=current_app.config["TIMEZONE"])
    if wants_csv():
        return csv_response("kpi.csv", *dashboard.csv_table(board, labels))
    cohandling = cohandling_on_time(session, start=board.start, end=board.end, as_of=now)
    return render_template("supervision/kpi.html", board=board, cohandling=cohandling, **context)
