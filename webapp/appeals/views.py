"""Thin views for appeals: the list (a department's own, or the centre's review queue), one
appeal with its review form, filing from the case page, the KPIs, the window setting."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.errors import NotFound
from workflows.appeals import service as appeals
from workflows.appeals.models import Appeal, AppealStatus, Ground
from workflows.cases.models import Case
from workflows.departments.models import Department
from workflows.errors import FormInvalid
from workflows.users.models import Role

from .. import attachments
from ..admin.common import audit
from ..cases.labels import Labels
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from ..pagination import paginate
from ..security import roles_required
from ..sorting import DESC, Sortable, apply_sort
from . import bp
from .labels import decision_choices, field_label, ground_choices, ground_label, status_label

READERS = (Role.HANDLER, *appeals.CENTRE)
REVIEWERS = tuple(appeals.REVIEWERS)


def _month(value: str, errors: dict[str, list[str]]) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        errors["month"] = [_("A month such as 2026-03.")]
        return None


def _period(month: date, tz) -> tuple[datetime, datetime]:
    after = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return (
        datetime.combine(month, time(0), tzinfo=tz),
        datetime.combine(after, time(0), tzinfo=tz),
    )


def _department(labels: Labels, errors: dict[str, list[str]]) -> tuple[str, int | None]:
    code = (request.args.get("department") or "").strip()
    if not code:
        return "", None
    department = labels.department_by_code(code)
    if department is None:
        errors["department"] = [_("No such department.")]
        return code, None
    return code, department.id


#: the appeals list's sortable columns (a few hundred appeals a month: any column at once);
#: without ``sort``, the review queue's own order (pending first, oldest first)
APPEAL_SORTS = {
    "case": Sortable(
        (
            select(Case.number)
            .where(Case.id == Appeal.case_id)
            .correlate_except(Case)
            .scalar_subquery(),
        )
    ),
    "department": Sortable(
        (
            select(Department.code)
            .where(Department.id == Appeal.department_id)
            .correlate_except(Department)
            .scalar_subquery(),
        )
    ),
    "ground": Sortable((Appeal.ground,)),
    "filed": Sortable((Appeal.filed_at,), first=DESC),
    "status": Sortable((Appeal.status,)),
    "decided": Sortable((Appeal.decided_at,), first=DESC, nullable=True),
}


@bp.get("/appeals")
@roles_required(*READERS)
def index():
    """A department's own appeals; for the centre, the review queue (pending first, oldest
    first), filtered by status, ground, department and month."""
    session = db.session
    labels = Labels(session, lang())
    errors: dict[str, list[str]] = {}
    status = (request.args.get("status") or "").strip()
    if status and status not in {s.value for s in AppealStatus}:
        errors["status"] = [_("Not one of the choices.")]
    ground = (request.args.get("ground") or "").strip()
    if ground and ground not in {gr.value for gr in Ground}:
        errors["ground"] = [_("Not one of the choices.")]
    code, department_id = _department(labels, errors)
    month = _month((request.args.get("month") or "").strip(), errors)
    context = {
        "labels": labels,
        "errors": errors,
        "filters": {"status": status, "ground": ground, "department": code,
                    "month": request.args.get("month") or ""},
        "statuses": [(s.value, status_label(s)) for s in AppealStatus],
        "grounds": ground_choices(),
        "status_label": status_label,
        "ground_label": ground_label,
    }  # fmt: skip
    if errors:
        return render_template("appeals/index.html", page=None, cases={}, **context), 400
    span = _period(month, get_hotline().tz) if month else (None, None)
    stmt = appeals.appeal_list(
        g.user, status=status or None, ground=ground or None, department_id=department_id,
        filed_from=span[0], filed_to=span[1],
    )  # fmt: skip
    stmt, sorting = apply_sort(stmt, APPEAL_SORTS, (Appeal.id,))
    page = paginate(session, stmt)
    page.sorting = sorting
    return render_template("appeals/index.html", page=page, cases=_numbers(page.items), **context)


def _numbers(items: list[Appeal]) -> dict[int, str]:
    ids = {a.case_id for a in items}
    if not ids:
        return {}
    return dict(db.session.execute(db.select(Case.id, Case.number).where(Case.id.in_(ids))).all())


def _visible(appeal_id: int) -> Appeal:
    appeal = db.session.scalars(
        appeals.visible_appeals(g.user).where(Appeal.id == appeal_id)
    ).first()
    if appeal is None:
        abort(404)
    return appeal


@bp.get("/appeals/<int:appeal_id>")
@roles_required(*READERS)
def show(appeal_id: int):
    appeal = _visible(appeal_id)
    return _render_show(appeal)


def _render_show(appeal: Appeal, errors: dict | None = None, values: dict | None = None):
    labels = Labels(db.session, lang())
    case = db.session.get(Case, appeal.case_id)
    return render_template(
        "appeals/show.html",
        appeal=appeal,
        case=case,
        labels=labels,
        errors=errors or {},
        values=values or {},
        can_review=g.user.role in {str(r) for r in REVIEWERS}
        and appeal.status == AppealStatus.PENDING,
        decisions=decision_choices(),
        status_label=status_label,
        ground_label=ground_label,
    ), (422 if errors else 200)


@bp.post("/appeals/<int:appeal_id>/review")
@roles_required(*REVIEWERS)
def review(appeal_id: int):
    appeal = _visible(appeal_id)
    values = {"decision": request.form.get("decision") or "", "reason": request.form.get("reason")}
    try:
        appeals.review_appeal(
            db.session, get_hotline(), appeal_id=appeal.id, user=g.user, lang=lang(), **values
        )
    except FormInvalid as exc:
        db.session.rollback()
        return _render_show(_visible(appeal_id), exc.errors, values)
    if values["decision"] == AppealStatus.UPHELD:
        flash(_("Appeal upheld: the case leaves the department's rates."), "success")
    else:
        flash(_("Appeal rejected."), "success")
    return redirect(url_for("appeals.show", appeal_id=appeal_id), 303)


@bp.post("/cases/<number>/appeals")
@roles_required(Role.HANDLER)
def file(number: str):
    """File an appeal from the case page; errors come back there, each naming its field."""
    values = {"ground": request.form.get("ground") or "", "reason": request.form.get("reason")}
    try:
        files = attachments.uploads()
        appeal = appeals.file_appeal(
            db.session,
            get_hotline(),
            number=number,
            user=g.user,
            lang=lang(),
            documents=(lambda case: attachments.attach(case, files, source="appeal"))
            if files
            else None,
            **values,
        )
    except NotFound:
        abort(404)
    except FormInvalid as exc:
        for field, messages in exc.errors.items():
            for message in messages:
                flash(f"{field_label(field)}: {message}", "error")
        return redirect(url_for("cases.show", number=number, _anchor="appeals"), 303)
    flash(_("Appeal filed: the centre will review it."), "success")
    return redirect(url_for("appeals.show", appeal_id=appeal.id), 303)


@bp.get("/appeals/kpi")
@roles_required(*READERS)
def kpi():
    """Appeals filed per month and department: filed, upheld, rejected, pending, upheld
    share; a department sees its own figures only."""
    session = db.session
    hotline = get_hotline()
    labels = Labels(session, lang())
    errors: dict[str, list[str]] = {}
    today = hotline.clock.now().astimezone(hotline.tz).date()
    first = _month((request.args.get("from") or "").strip(), errors) or date(today.year, 1, 1)
    last = _month((request.args.get("to") or "").strip(), errors) or date(
        today.year, today.month, 1
    )
    if not errors and first > last:
        errors["to"] = [_("Before the first month.")]
    context = {"labels": labels, "errors": errors, "first": first, "last": last}
    if errors:
        errors = {("from" if k == "month" else k): v for k, v in errors.items()}
        context["errors"] = errors
        return render_template("appeals/kpi.html", rows=None, **context), 400
    ids = [g.user.department_id] if g.user.role == Role.HANDLER else None
    rows = appeals.appeal_kpis(
        session, start=_period(first, hotline.tz)[0], end=_period(last, hotline.tz)[1],
        tz=hotline.tz, department_ids=ids,
    )  # fmt: skip
    return render_template("appeals/kpi.html", rows=rows, link=_kpi_link(labels), **context)


def _kpi_link(labels: Labels):
    """row, status -> the list of the appeals behind a figure."""

    def link(row: Any, status: str = "") -> str:
        department = labels.departments.get(row.department_id)
        return url_for(
            "appeals.index",
            department=department.code if department else "",
            month=row.month.strftime("%Y-%m"),
            **({"status": status} if status else {}),
        )

    return link


@bp.route("/appeals/settings", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def settings():
    """The appeal window in working days (administrators)."""
    session = db.session
    if request.method == "GET":
        row = appeals.appeal_settings(session)
        return render_template("appeals/settings.html", row=row, value=row.window_workdays,
                               errors={})  # fmt: skip
    value = request.form.get("window_workdays") or ""
    hotline = get_hotline()
    try:
        appeals.save_settings(
            session, window_workdays=value, by=g.user.username, now=hotline.clock.now(),
            lang=lang(),
        )  # fmt: skip
    except FormInvalid as exc:
        row = appeals.appeal_settings(session)
        return render_template(
            "appeals/settings.html", row=row, value=value, errors=exc.errors
        ), 400
    audit("appeal_settings.update", target_type="appeal_settings", target_id=1,
          window_workdays=int(value))  # fmt: skip
    flash(_("Appeal settings saved."), "success")
    return redirect(url_for("appeals.settings"), 303)


@bp.app_template_global("appeal_panel")
def appeal_panel(case: Case) -> dict[str, Any]:
    """The case page's appeals: the trail, and what this user may do (file, review)."""
    session = db.session
    hotline = get_hotline()
    now = hotline.clock.now()
    trail = appeals.case_appeals(session, case_id=case.id)
    fileable: list[tuple[str, str, datetime]] = []
    user = g.user
    if (
        user.role == Role.HANDLER
        and user.department_id is not None
        and case.lead_department_id == user.department_id
        and case.appeal_upheld_at is None
    ):
        pending = {a.ground for a in trail if a.status == AppealStatus.PENDING}
        for ground, occurred in appeals.ground_times(session, case, now=now).items():
            ends = appeals.window_end(hotline, session, occurred)
            if ground.value not in pending and now <= ends:
                fileable.append((ground.value, ground_label(ground.value), ends))
    return {
        "trail": trail,
        "fileable": fileable,
        "can_review": user.role in {str(r) for r in REVIEWERS},
        "status_label": status_label,
        "ground_label": ground_label,
        "names": _names(
            {a.filed_by for a in trail} | {a.decided_by for a in trail if a.decided_by}
        ),
    }


def _names(usernames: set[str]) -> dict[str, str]:
    from workflows.users.models import User

    if not usernames:
        return {}
    return dict(
        db.session.execute(
            db.select(User.username, User.display_name).where(User.username.in_(usernames))
        ).all()
    )
