"""Thin views for the evaluation: scorecards, the cases behind a figure, the scheme, bonus
items and the monthly bulletins. The centre (supervisors, leads, administrators) sees every
unit; a handler sees its own unit's scorecard, rank and cases, and the published bulletins."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from engine.db import unit_of_work
from workflows.cases.models import Case
from workflows.errors import FormInvalid
from workflows.evaluation import bulletins as bulletin_service
from workflows.evaluation.cases import LINKED, SIDES, figure_cases
from workflows.evaluation.documents import bulletin_pdf, bulletin_xlsx, h
from workflows.evaluation.models import ScoreBonus
from workflows.evaluation.scorecards import add_months, level_label, month_board
from workflows.evaluation.settings import (
    PENALTIES,
    WEIGHTED,
    save_scheme,
    scheme_for,
    scheme_history,
)
from workflows.users.models import Role

from ..cases.labels import Labels
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from ..pagination import paginate
from ..security import roles_required
from ..sorting import DESC, Sortable, apply_sort
from . import bp

CENTRE = (Role.SUPERVISOR, Role.LEAD, Role.ADMIN)
READERS = (*CENTRE, Role.HANDLER)
#: the count figures beside the rates: key -> (Chinese, English)
COUNTS = {
    "dispatched": ("派单量", "Dispatched"),
    "reopened": ("重办", "Reopened"),
    "supervision": ("督办单", "Supervision orders"),
}


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def _now():
    return get_hotline().clock.now()


def _last_month() -> date:
    today = _now().astimezone(_zone()).date()
    return add_months(today.replace(day=1), -1)


def _zone():
    from ..i18n import tz

    return tz()


def _month(raw: str | None) -> tuple[date | None, dict[str, list[str]]]:
    """A YYYY-MM month from the query string (last month when absent), or the field's error."""
    text = (raw or "").strip()
    if not text:
        return _last_month(), {}
    try:
        if len(text) != 7:
            raise ValueError
        return date.fromisoformat(text + "-01"), {}
    except ValueError:
        return None, {"month": [_("A month as YYYY-MM.")]}


def _own_department() -> int | None:
    """A handler's unit; None for the centre, who sees every unit."""
    return g.user.department_id if g.user.role == Role.HANDLER else None


def figure_label(key: str) -> str:
    if key in WEIGHTED:
        zh, en, _better = WEIGHTED[key]
    else:
        zh, en = COUNTS[key]
    return en if lang() == "en" else zh


def _helpers() -> dict[str, Any]:
    return {"level_label": lambda level: level_label(level, lang()), "figure_label": figure_label,
            "lang_code": lang(), "linked": LINKED, "weighted": WEIGHTED, "counts": COUNTS}  # fmt: skip


# --- scorecards --------------------------------------------------------------------------------


@bp.get("/evaluation/scorecards")
@roles_required(*READERS)
def scorecards():
    month, errors = _month(request.args.get("month"))
    if errors:
        return render_template("evaluation/scorecards.html", board=None, errors=errors,
                               month=request.args.get("month", ""), **_helpers()), 400  # fmt: skip
    board = month_board(db.session, month=month, as_of=_now(), tz=_tz())
    own = _own_department()
    levels = board.levels
    sizes = {level: sum(1 for c in cards if c.ranked) for level, cards in levels.items()}
    if own is not None:  # a handler: its own unit's card and rank, no other unit's figures
        levels = {
            lvl: [c for c in cards if c.department_id == own] for lvl, cards in levels.items()
        }
        levels = {lvl: cards for lvl, cards in levels.items() if cards}
    return render_template("evaluation/scorecards.html", board=board, levels=levels, sizes=sizes,
                           month=month.strftime("%Y-%m"), errors={}, own=own,
                           bonus_errors={}, bonus_values={}, **_helpers())  # fmt: skip


def _unit(code: str, labels: Labels):
    department = labels.department_by_code(code)
    own = _own_department()
    if department is None or (own is not None and department.id != own):
        abort(404)
    return department


@bp.get("/evaluation/scorecards/<code>")
@roles_required(*READERS)
def unit(code: str):
    labels = Labels(db.session, lang())
    department = _unit(code, labels)
    month, errors = _month(request.args.get("month"))
    if errors:
        abort(404)
    board = month_board(db.session, month=month, as_of=_now(), tz=_tz())
    card = board.card(department.id)
    if card is None:
        abort(404)
    bonuses = db.session.query(ScoreBonus).filter_by(month=month, department_id=department.id)
    # the co-handling figure's cases: the case list's, the month's created dates
    days = (month.isoformat(), (add_months(month, 1) - timedelta(days=1)).isoformat())
    return render_template("evaluation/unit.html", card=card, department=department,
                           month=month.strftime("%Y-%m"), scheme=board.scheme, days=days,
                           bonuses=bonuses.order_by(ScoreBonus.id).all(),
                           size=sum(1 for c in board.levels.get(card.level, []) if c.ranked),
                           **_helpers())  # fmt: skip


#: the sortable columns of a figure's cases (one unit's month); without ``sort``, the newest
#: first
FIGURE_CASE_SORTS = {
    "number": Sortable((Case.number,), first=DESC),
    "case_type": Sortable((Case.case_type,)),
    "status": Sortable((Case.status,)),
    "received": Sortable((Case.created_at,), first=DESC),
}


@bp.get("/evaluation/cases/<code>")
@roles_required(*READERS)
def cases(code: str):
    labels = Labels(db.session, lang())
    department = _unit(code, labels)
    month, errors = _month(request.args.get("month"))
    kpi = (request.args.get("kpi") or "dispatched").strip()
    side = (request.args.get("side") or "denominator").strip()
    if kpi not in LINKED:
        errors["kpi"] = [_("Not one of the choices.")]
    if side not in SIDES:
        errors["side"] = [_("Not one of the choices.")]
    context = {"labels": labels, "department": department, "kpi": kpi, "side": side,
               "errors": errors, **_helpers()}  # fmt: skip
    if errors:
        return render_template("evaluation/cases.html", page=None, month="", **context), 400
    stmt = figure_cases(month=month, department_id=department.id, kpi=kpi, side=side,
                        as_of=_now(), tz=_tz())  # fmt: skip
    stmt, sorting = apply_sort(stmt, FIGURE_CASE_SORTS, (Case.id,))
    page = paginate(db.session, stmt)
    page.sorting = sorting
    return render_template("evaluation/cases.html", page=page, month=month.strftime("%Y-%m"),
                           **context)  # fmt: skip


# --- the scheme and bonus items ----------------------------------------------------------------


def _scheme_values(scheme) -> dict[str, str]:
    values = {f"weight_{k}": f"{scheme.weights.get(k, 0.0):g}" for k in WEIGHTED}
    for k in PENALTIES:
        rule = scheme.penalties.get(k, {})
        values[f"penalty_{k}"] = f"{rule.get('points', 0.0):g}"
        values[f"cap_{k}"] = f"{rule.get('cap', 0.0):g}"
    values["bonus_cap"] = f"{scheme.bonus_cap:g}"
    values["min_cases"] = str(scheme.min_cases)
    values["effective_from"] = _now().astimezone(_zone()).strftime("%Y-%m")
    values["note"] = ""
    return values


def _scheme_page(values, errors, status=200):
    return render_template("evaluation/scheme.html", values=values, errors=errors,
                           history=scheme_history(db.session), penalties=PENALTIES,
                           **_helpers()), status  # fmt: skip


@bp.get("/evaluation/scheme")
@roles_required(Role.ADMIN)
def scheme():
    current = scheme_for(db.session, month=_now().astimezone(_zone()).date())
    return _scheme_page(_scheme_values(current), {})


@bp.post("/evaluation/scheme")
@roles_required(Role.ADMIN)
def save():
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        with unit_of_work(db.session):
            save_scheme(db.session, values=values, at=_now(), by=g.user.username, lang=lang())
    except FormInvalid as error:
        return _scheme_page(values, error.errors, 422)
    flash(_("The scoring scheme is saved."))
    return redirect(url_for("evaluation.scheme"), 303)


@bp.post("/evaluation/bonuses")
@roles_required(*CENTRE)
def add_bonus():
    labels = Labels(db.session, lang())
    values = {k: (request.form.get(k) or "").strip() for k in ("month", "department", "points",
                                                               "reason")}  # fmt: skip
    month, errors = _month(values["month"] or "bad")
    department = labels.department_by_code(values["department"])
    if department is None:
        errors["department"] = [_("No such department.")]
    try:
        points = float(values["points"])
        if not 0 < points <= 100:
            raise ValueError
    except ValueError:
        points = 0.0
        errors["points"] = [_("A number of points above 0, at most 100.")]
    if not values["reason"] or len(values["reason"]) > 200:
        errors["reason"] = [_("A reason of at most 200 characters.")]
    if errors:
        return render_template("evaluation/bonus_error.html", errors=errors, values=values,
                               **_helpers()), 422  # fmt: skip
    with unit_of_work(db.session):
        db.session.add(ScoreBonus(month=month, department_id=department.id, points=points,
                                  reason=values["reason"], created_at=_now(),
                                  created_by=g.user.username))  # fmt: skip
    flash(_("The bonus item is recorded."))
    return redirect(url_for("evaluation.unit", code=department.code, month=values["month"]), 303)


# --- bulletins ---------------------------------------------------------------------------------


@bp.get("/evaluation/bulletins")
@roles_required(*READERS)
def bulletins():
    return render_template("evaluation/bulletins.html",
                           rows=bulletin_service.published_bulletins(db.session),
                           last_month=_last_month().strftime("%Y-%m"),
                           centre=_own_department() is None and g.user.role != Role.HANDLER,
                           **_helpers())  # fmt: skip


def _for_reader(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A handler sees the rankings, and of the case lists only its own unit's cases."""
    own = _own_department()
    if own is None and g.user.role != Role.HANDLER:
        return snapshot
    shown = copy.deepcopy(snapshot)
    for key in ("overdue_cases", "reopened_cases"):
        shown[key] = [c for c in shown[key] if c["department_id"] == own]
    return shown


@bp.get("/evaluation/bulletins/<month>")
@roles_required(*READERS)
def bulletin(month: str):
    first, errors = _month(month)
    if errors:
        abort(404)
    row = bulletin_service.published(db.session, month=first)
    if row is None:
        if g.user.role == Role.HANDLER:
            abort(404)  # a draft is the centre's
        snapshot = bulletin_service.build_bulletin(db.session, month=first, as_of=_now(),
                                                   tz=_tz())  # fmt: skip
    else:
        snapshot = row.snapshot
    snapshot = _for_reader(snapshot)
    revisions = row.revisions if row is not None else None
    kind = request.args.get("format")
    name = f"bulletin-{snapshot['month']}"
    if kind == "xlsx":
        body = bulletin_xlsx(snapshot, lang(), draft=row is None, revisions=revisions)
        return _download(
            body,
            f"{name}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    if kind == "pdf":
        body = bulletin_pdf(snapshot, lang(), draft=row is None, revisions=revisions)
        return _download(body, f"{name}.pdf", "application/pdf")
    from workflows.evaluation.documents import best_worst_rows, ranking_rows, revision_lines

    return render_template("evaluation/bulletin.html", snapshot=snapshot, row=row,
                           rankings=ranking_rows(snapshot, lang()),
                           best_worst=best_worst_rows(snapshot, lang()),
                           revisions=revision_lines(revisions, lang()), h=h,
                           centre=g.user.role != Role.HANDLER, **_helpers())  # fmt: skip


def _download(body: bytes, filename: str, mimetype: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/evaluation/bulletins/<month>/publish")
@roles_required(*CENTRE)
def publish(month: str):
    first, errors = _month(month)
    if errors:
        abort(404)
    try:
        with unit_of_work(db.session):
            bulletin_service.publish(db.session, month=first, at=_now(), by=g.user.username,
                                     tz=_tz())  # fmt: skip
    except bulletin_service.BulletinError as error:
        message = {
            "the month is not over yet": _("The month is not over yet."),
        }.get(str(error), _("This month's bulletin is already published."))
        flash(message, "error")
        return redirect(url_for("evaluation.bulletin", month=month), 303)
    flash(_("The bulletin is published: its figures are frozen."))
    return redirect(url_for("evaluation.bulletin", month=month), 303)
