"""Thin views for supervisors: overdue and escalated cases, and the KPI dashboard."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, or_

from workflows.cases.enums import OPEN
from workflows.cases.models import Case
from workflows.cases.ordering import case_order, urgency_rank
from workflows.cases.service import visible_cases
from workflows.cases.steps import STEP_LABELS, Step
from workflows.errors import FormInvalid
from workflows.kpi.service import cohandling_on_time, count_overdue_now, overdue_now
from workflows.supervision import flows as supervision
from workflows.supervision.service import earliest_due, late_tasks, task_overdue
from workflows.users.models import Role

from .. import identity
from ..cases.labels import Labels, yes_no
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang, local_time, time_left
from ..pagination import CSV_LIMIT, Page, csv_response, page_within, paginate, wants_csv
from ..security import roles_required
from ..sorting import DESC, Sortable, read_sort
from . import bp, call_figures, dashboard

SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
#: the columns the overdue and escalated lists sort by: open cases past or near a deadline (a
#: few thousand at most); without ``sort``, the most urgent first, then the soonest deadline
CASE_SORTS = {
    "number": Sortable((Case.number,), first=DESC),
    "urgency": Sortable((urgency_rank(),)),
    "status": Sortable((Case.status,)),
    "reply_due": Sortable((Case.reply_due,), nullable=True),
}
#: the escalated list's "mark" filter
MARKS = ("escalated", "sign_escalated", "red", "yellow", "task_overdue")


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
        _("Task overdue"),
    ]


def case_row(
    case: Case, labels: Labels, now, late: dict[int, list[str]] | None = None
) -> list[Any]:
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
        identity.shown(case).text(case.description, case),
        "、".join(step_label(k) for k in (late or {}).get(case.instance_id or 0, [])),
    ]


def step_label(kind: str) -> str:
    try:
        return STEP_LABELS[Step(kind)].in_language(lang())
    except ValueError:
        return kind


def _late(session, cases, now) -> dict[int, list[str]]:
    """instance id -> steps of its ready tasks past their own deadline, for these cases."""
    ids = [c.instance_id for c in cases if c.instance_id is not None]
    return late_tasks(session, instance_ids=ids, as_of=now)


def _csv(name: str, rows, labels: Labels, now):
    rows = list(rows)
    identity.record(rows, "csv")  # before streaming: the centre's full views of callers
    late = _late(db.session, rows, now)
    return csv_response(name, case_header(), (case_row(c, labels, now, late) for c in rows))


@bp.get("/supervision/overdue")
@roles_required(*SUPERVISORS)
def overdue():
    session = db.session
    labels = Labels(session, lang())
    now = get_hotline().clock.now()
    code, department_id, errors = _department_filter(labels)
    sorting = read_sort(request.args, CASE_SORTS)
    errors.update(sorting.errors)
    context = {
        "labels": labels,
        "now": now,
        "department": code,
        "errors": errors,
        "sorting": sorting,
        **_actions(),
    }
    if errors:
        return render_template("supervision/overdue.html", page=None, **context), 400
    ids = None if department_id is None else [department_id]
    order = sorting.order_by((Case.id,))
    if wants_csv():
        rows = overdue_now(session, as_of=now, department_ids=ids, limit=CSV_LIMIT, order=order)
        return _csv("overdue.csv", rows, labels, now)
    total = count_overdue_now(session, as_of=now, department_ids=ids)
    number, per_page = page_within(total)
    items = overdue_now(
        session,
        as_of=now,
        department_ids=ids,
        limit=per_page,
        offset=(number - 1) * per_page,
        order=order,
    )
    page = Page(items, number, per_page, total)
    late = _late(session, items, now)
    return render_template("supervision/overdue.html", page=page, late=late, **context)


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
    sorting = read_sort(request.args, CASE_SORTS)
    errors.update(sorting.errors)
    context = {
        "labels": labels,
        "now": now,
        "department": code,
        "mark": mark,
        "errors": errors,
        "sorting": sorting,
        **_actions(),
    }
    if errors:
        return render_template("supervision/escalated.html", page=None, **context), 400
    stmt = escalated_cases(session, g.user, now, mark=mark, department_id=department_id)
    stmt = stmt.order_by(*(sorting.order_by((Case.id,)) or case_order(earliest_due())))
    if wants_csv():
        return _csv("escalated.csv", session.scalars(stmt.limit(CSV_LIMIT)), labels, now)
    page = paginate(session, stmt)
    late = _late(session, page.items, now)
    return render_template("supervision/escalated.html", page=page, late=late, **context)


def escalated_cases(
    session, user, now, *, mark: str = "", department_id: int | None = None
) -> Select:
    """The escalated list's cases (unordered): its page, and its live token's count."""
    conditions = {
        "escalated": Case.escalated.is_(True),
        "sign_escalated": Case.sign_escalated.is_(True),
        "red": Case.due_state == "red",
        "yellow": Case.due_state == "yellow",
        "task_overdue": task_overdue(now),
    }
    stmt = visible_cases(session, user).where(
        Case.status.in_([str(s) for s in OPEN]),
        conditions[mark] if mark else or_(*conditions.values()),
    )
    if department_id is not None:
        stmt = stmt.where(Case.lead_department_id == department_id)
    return stmt


def _actions() -> dict[str, Any]:
    """What the lists' action form shows: the choices, and the step labels of late tasks."""
    return {"actions": action_choices(), "step_label": step_label}


def action_choices() -> list[tuple[str, str]]:
    return [
        (supervision.Action.CHASE.value, _("Chase notice")),
        (supervision.Action.ORDER.value, _("Supervision order")),
    ]


@bp.post("/supervision/actions")
@roles_required(*SUPERVISORS)
def act_on_many():
    """Chase or order the cases ticked in a list: each case done or reported by number; or
    export them (the list's CSV columns, the ticked cases only)."""
    session = db.session
    back = _back(request.form.get("back"))
    if request.form.get("export") == "csv":
        return _export_ticked(request.form.getlist("numbers"), back)
    values = {
        "numbers": request.form.getlist("numbers"),
        "action": request.form.get("action") or "",
        "note": request.form.get("note") or "",
    }
    try:
        outcomes = supervision.supervise_cases(
            session, get_hotline(), user=g.user, lang=lang(), **values
        )
    except FormInvalid as exc:
        return render_template(
            "supervision/result.html", outcomes=[], errors=exc.errors, back=back, values=values
        ), 400
    return render_template(
        "supervision/result.html",
        outcomes=outcomes,
        errors={},
        back=back,
        values=values,
        action_label=dict(action_choices()).get(values["action"], values["action"]),
    )


def _export_ticked(numbers: list[str], back: str):
    """The ticked cases as CSV (those the user may see; at most ``MAX_CASES``), in the order
    ticked; nothing ticked, or too many, is a 400 naming the field."""
    numbers = [n.strip() for n in numbers if n.strip()]
    problem = ""
    if not numbers:
        problem = _("Tick at least one case.")
    elif len(numbers) > supervision.MAX_CASES:
        problem = _("At most %(n)s cases at once.", n=supervision.MAX_CASES)
    if problem:
        return render_template(
            "supervision/result.html",
            outcomes=[],
            errors={"numbers": [problem]},
            back=back,
            values={},
        ), 400
    session = db.session
    found = {
        c.number: c
        for c in session.scalars(visible_cases(session, g.user).where(Case.number.in_(numbers)))
    }
    rows = [found[n] for n in dict.fromkeys(numbers) if n in found]
    now = get_hotline().clock.now()
    return _csv("cases-ticked.csv", rows, Labels(session, lang()), now)


@bp.post("/supervision/cases/<number>")
@roles_required(*SUPERVISORS)
def act_on_case(number: str):
    """Chase or order one case from its page (any open, dispatched case, late or not)."""
    values = {"action": request.form.get("action") or "", "note": request.form.get("note") or ""}
    try:
        supervision.supervise_case(
            db.session, get_hotline(), number=number, user=g.user, lang=lang(), **values
        )
    except FormInvalid as exc:
        for field, messages in exc.errors.items():
            for message in messages:
                flash(f"{_field_label(field)}: {message}", "error")
        return redirect(url_for("cases.show", number=number, _anchor="supervise"))
    except supervision.SupervisionRefused as exc:
        flash(supervision.message(exc.reason, lang()), "error")
        return redirect(url_for("cases.show", number=number))
    if values["action"] == supervision.Action.ORDER:
        flash(_("Supervision order sent: the department has a task to answer it."))
    else:
        flash(_("Chase notice sent to the department."))
    return redirect(url_for("cases.show", number=number))


def _field_label(field: str) -> str:
    return {"action": _("Action"), "note": _("Instructions"), "numbers": _("Cases")}.get(
        field, field
    )


def _back(value: str | None) -> str:
    """Where the result page links back to: one of the two lists, never another site."""
    if value in ("escalated", "overdue"):
        return url_for(f"supervision.{value}")
    return url_for("supervision.overdue")


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
    tz = current_app.config["TIMEZONE"]
    if request.args.get("part") == "calls":  # the calls section's figures alone (its CSV)
        start, end = dashboard.period(form, tz)
        calls = call_figures.build(session, start=start, end=end, bucket=form.bucket, tz=tz)
        return csv_response("kpi-calls.csv", *call_figures.csv_table(calls, labels))
    board = dashboard.build(session, form, labels, now=now, tz=tz)
    if wants_csv():
        return csv_response("kpi.csv", *dashboard.csv_table(board, labels))
    cohandling = cohandling_on_time(session, start=board.start, end=board.end, as_of=now)
    calls = call_figures.build(session, start=board.start, end=board.end, bucket=form.bucket, tz=tz)
    return render_template(
        "supervision/kpi.html",
        board=board,
        cohandling=cohandling,
        calls=calls,
        cf=call_figures,
        **context,
    )
