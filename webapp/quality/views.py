"""Thin views of the quality review: load, call ``workflows.quality``, render or redirect."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from engine.db import unit_of_work
from workflows.calls.models import Call
from workflows.cases.confidentiality import mask_address, mask_name, mask_phone, mask_text
from workflows.departments.models import Department
from workflows.errors import FormInvalid
from workflows.quality import reviews, sampling, sheets
from workflows.quality.models import ScoringSheet
from workflows.quality.months import month_of, parse_month, previous_month
from workflows.quality.stats import dispatcher_months
from workflows.users.models import Role

from ..audit.log import record
from ..cases.labels import Labels
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang, tz
from ..pagination import csv_response, wants_csv
from ..security import roles_required
from . import bp

#: who scores the samples and draws them
REVIEWERS = (Role.QA,)
#: who reads the samples, the report and the sheet
READERS = (Role.QA, Role.LEAD, Role.ADMIN)
#: who decides operators' disputes: the reviewer or a centre lead
DECIDERS = (Role.QA, Role.LEAD)
#: who edits the scoring sheet
SHEET_EDITORS = (Role.ADMIN,)


def _month() -> date:
    """The month asked for (``?month=YYYY-MM``), else the last month that has ended."""
    text = request.values.get("month")
    if text:
        try:
            return parse_month(text)
        except FormInvalid:
            flash(_("Month: write it as YYYY-MM, e.g. 2026-11."), "error")
    return previous_month(month_of(get_hotline().clock.now(), tz()))


def refused(code: str) -> str:
    return {
        "reviewed": _("This case is reviewed already: a correction goes through a dispute."),
        "voided": _("This review was voided: there is nothing to dispute."),
        "disputed": _("This review was disputed already."),
        "decided": _("This dispute was decided already."),
    }.get(code, code)


def messages(
    errors: dict[str, list[str]], sheet: ScoringSheet | None = None
) -> dict[str, list[str]]:
    """The service's field errors in the page's language."""
    items = {f"score_{i['key']}": i for i in (sheet.items if sheet else [])}
    fixed = {
        "month": _("Month: write it as YYYY-MM, e.g. 2026-11; a month is drawn once it has ended."),
        "size": _("Sample size: a whole number from 1 to %(n)s.", n=sampling.MAX_SAMPLE_SIZE),
        "comment": _("Comment: at most %(n)s characters.", n=reviews.COMMENT_MAX),
        "reason": _(
            "Reason: say why you dispute the review (at most %(n)s characters).",
            n=reviews.REASON_MAX,
        ),  # fmt: skip
        "decision": _("Decision: choose upheld or rejected."),
        "outcome": _(
            "Outcome: an upheld dispute corrects the scores (to other scores) or voids the review."
        ),  # fmt: skip
        "decision_reason": _(
            "Reason: give the reason for the decision (at most %(n)s characters).",
            n=reviews.REASON_MAX,
        ),  # fmt: skip
        "name": _("Name: the sheet needs a name of at most 120 characters."),
        "items": _("Items: the sheet needs 1 to %(n)s items.", n=sheets.MAX_ITEMS),
    }
    out = {}
    for field, given in errors.items():
        if field in items:
            item = items[field]
            out[field] = [_("%(item)s: a whole number from 0 to %(max)s.", item=item_label(item),
                            max=item["max_points"])]  # fmt: skip
        elif field.endswith("_key"):
            out[field] = [_("Key: lower-case letters, digits and _, starting with a letter; "
                            "each key once.")]  # fmt: skip
        elif field.endswith("_label") or field.endswith("_label_en"):
            out[field] = [_("Label: at most 60 characters (the Chinese label is required).")]
        elif field.endswith("_max_points"):
            out[field] = [_("Maximum points: a whole number from 1 to %(n)s.", n=sheets.MAX_POINTS)]
        else:
            out[field] = [fixed.get(field, " ".join(given))]
    return out


def item_label(item: dict[str, Any]) -> str:
    """An item's label in the page's language (its Chinese label when it has no English)."""
    return (item.get("label_en") or item["label"]) if lang() == "en" else item["label"]


@bp.app_context_processor
def quality_helpers() -> dict[str, object]:
    return {"item_label": item_label}


# -- the reviewer: samples, drawing, scoring -----------------------------------------------


@bp.get("/quality/samples")
@roles_required(*READERS)
def samples():
    month = _month()
    return _samples_page(month)


def _samples_page(month: date, *, errors=None, values=None, status: int = 200):
    return render_template(
        "quality/samples.html",
        month=month,
        rows=reviews.samples_of(db.session, month=month),
        draws=reviews.draws_of(db.session, month=month),
        reviewer=g.user.role in {str(r) for r in REVIEWERS},
        errors=errors or {},
        values=values or {"size": str(current_app.config["QUALITY_SAMPLE_SIZE"])},
    ), status


@bp.post("/quality/samples/draw")
@roles_required(*REVIEWERS)
def draw():
    values = {k: (request.form.get(k) or "").strip() for k in ("month", "size")}
    try:
        with unit_of_work(db.session):
            month, size = sampling.check_draw(values["month"], values["size"])
            results = sampling.draw_month(
                db.session, month=month, size=size, by=g.user.username,
                now=get_hotline().clock.now(), tz=tz(),
            )  # fmt: skip
            new = [r for r in results if r.new]
            record("quality.draw", target_type="quality_month", target_id=f"{month:%Y-%m}",
                   operators=len(new), cases=sum(len(r.case_ids) for r in new))  # fmt: skip
    except FormInvalid as exc:
        db.session.rollback()
        month = previous_month(month_of(get_hotline().clock.now(), tz()))
        return _samples_page(month, errors=messages(exc.errors), values=values, status=422)
    if new:
        flash(_("Drawn: %(n)s operators' samples.", n=len(new)), "success")
    else:
        flash(_("This month was drawn already: the stored samples are unchanged."), "info")
    return redirect(url_for("quality.samples", month=f"{month:%Y-%m}"), 303)


@bp.get("/quality/samples/<int:sample_id>")
@roles_required(*READERS)
def sample(sample_id: int):
    return _sample_page(sample_id)


def _sample_page(sample_id: int, *, errors=None, values=None, status: int = 200):
    row = reviews.get_sample(db.session, sample_id)  # NotFound: 404
    sheet = (
        db.session.get(ScoringSheet, row.review.sheet_id)
        if row.review
        else sheets.current_sheet(db.session) or _default_sheet()
    )
    case = row.case
    department = (
        db.session.get(Department, case.lead_department_id) if case.lead_department_id else None
    )
    calls = db.session.query(Call).filter(Call.case_id == case.id).order_by(Call.arrived_at).all()
    return render_template(
        "quality/sample.html",
        row=row,
        case=case,
        shown={
            "name": mask_name(case.caller_name),
            "phone": mask_phone(case.caller_phone),
            "address": mask_address(case.address),
            "description": mask_text(
                case.description,
                name=case.caller_name,
                phone=case.caller_phone,
                address=case.address,
            ),  # fmt: skip
        },
        department=department,
        labels=Labels(db.session, lang()),
        calls=calls,
        sheet=sheet,
        reviewer=g.user.role in {str(r) for r in REVIEWERS},
        decider=g.user.role in {str(r) for r in DECIDERS},
        errors=errors or {},
        values=values or {},
    ), status


def _default_sheet() -> ScoringSheet:
    """The default sheet as it will be stored at the first review (not stored by a read)."""
    return ScoringSheet(version=1, name=sheets.DEFAULT_NAME, items=sheets.DEFAULT_ITEMS)


@bp.post("/quality/samples/<int:sample_id>/review")
@roles_required(*REVIEWERS)
def review(sample_id: int):
    values = dict(request.form)
    try:
        with unit_of_work(db.session):
            done = reviews.submit_review(
                db.session, sample_id=sample_id, given=values, comment=values.get("comment", ""),
                reviewer=g.user.username, now=get_hotline().clock.now(),
            )  # fmt: skip
            record("quality.review", target_type="quality_review", target_id=done.id,
                   operator=done.operator, total=done.total)  # fmt: skip
    except FormInvalid as exc:
        db.session.rollback()
        sheet = sheets.current_sheet(db.session) or _default_sheet()
        return _sample_page(sample_id, errors=messages(exc.errors, sheet), values=values,
                            status=422)  # fmt: skip
    except (reviews.Refused, IntegrityError) as exc:  # IntegrityError: someone was first
        db.session.rollback()
        flash(refused(exc.code if isinstance(exc, reviews.Refused) else "reviewed"), "error")
        return _sample_page(sample_id, status=409)
    flash(_("Review saved."), "success")
    return redirect(url_for("quality.sample", sample_id=sample_id), 303)


# -- disputes -------------------------------------------------------------------------------


@bp.get("/quality/disputes")
@roles_required(*DECIDERS)
def disputes():
    return render_template("quality/disputes.html", rows=reviews.open_disputes(db.session))


@bp.post("/quality/disputes/<int:dispute_id>")
@roles_required(*DECIDERS)
def decide(dispute_id: int):
    values = dict(request.form)
    dispute, review = reviews.get_dispute(db.session, dispute_id)  # NotFound: 404
    sample_id = review.sample_id
    try:
        with unit_of_work(db.session):
            done = reviews.decide_dispute(
                db.session, dispute_id=dispute_id, decision=values.get("decision", ""),
                outcome=values.get("outcome", ""), given=values,
                reason=values.get("decision_reason", ""), by=g.user.username,
                now=get_hotline().clock.now(),
            )  # fmt: skip
            record("quality.dispute.decide", target_type="quality_dispute", target_id=dispute_id,
                   decision=done.status, outcome=done.outcome)  # fmt: skip
    except FormInvalid as exc:
        db.session.rollback()
        sheet = db.session.get(ScoringSheet, review.sheet_id)
        return _sample_page(sample_id, errors=messages(exc.errors, sheet), values=values,
                            status=422)  # fmt: skip
    except reviews.Refused as exc:
        db.session.rollback()
        flash(refused(exc.code), "error")
        return _sample_page(sample_id, status=409)
    flash(_("Dispute decided."), "success")
    return redirect(url_for("quality.sample", sample_id=sample_id), 303)


# -- the monthly report ---------------------------------------------------------------------


@bp.get("/quality/report")
@roles_required(*READERS)
def report():
    month = _month()
    rows = reviews.monthly_report(db.session, month=month, tz=tz())
    dispatchers = dispatcher_months(db.session, month=month, tz=tz())
    if wants_csv():
        record("quality.report.export", target_type="quality_month", target_id=f"{month:%Y-%m}")
        return csv_response(f"quality-{month:%Y-%m}.csv", csv_header(), csv_rows(rows))
    return render_template("quality/report.html", month=month, rows=rows, dispatchers=dispatchers)


def csv_header() -> list[str]:
    return [
        _("Rank"), _("Operator"), _("Name"), _("Reviews"), _("Average score"), _("Cases"),
        _("Answered at once"), _("Dispatched"), _("Returned as wrongly dispatched"),
        _("Re-dispatches"), _("Calls answered"), _("Average handling time (s)"),
    ]  # fmt: skip


def csv_rows(rows):
    for r in rows:
        s = r.stats
        aht = s.handling_average
        yield [
            r.rank or "", s.username, s.display_name, r.reviews,
            "" if r.average is None else r.average_shown, s.cases, s.answered_at_once,
            s.dispatched, s.returned, s.redispatches, s.calls,
            "" if aht is None else f"{aht:.1f}",
        ]  # fmt: skip


# -- the scoring sheet ----------------------------------------------------------------------


@bp.get("/quality/sheet")
@roles_required(*READERS)
def sheet():
    return _sheet_page()


def _sheet_page(*, errors=None, values=None, status: int = 200):
    current = sheets.current_sheet(db.session) or _default_sheet()
    rows = (
        values["rows"]
        if values
        else [dict(i, max_points=str(i["max_points"])) for i in current.items]
    )
    rows = rows + [{}] * max(0, min(sheets.MAX_ITEMS, len(rows) + 2) - len(rows))
    return render_template(
        "quality/sheet.html",
        current=current,
        name=values["name"] if values else current.name,
        rows=rows,
        editor=g.user.role in {str(r) for r in SHEET_EDITORS},
        errors=errors or {},
    ), status


@bp.post("/quality/sheet")
@roles_required(*SHEET_EDITORS)
def save_sheet():
    form = request.form
    rows = [
        {f: (form.get(f"item{i}_{f}") or "") for f in ("key", "label", "label_en", "max_points")}
        for i in range(sheets.MAX_ITEMS)
    ]
    name = form.get("name", "")
    try:
        with unit_of_work(db.session):
            before = sheets.current_sheet(db.session)
            saved = sheets.save_sheet(db.session, name=name, rows=rows, by=g.user.username,
                                      now=get_hotline().clock.now())  # fmt: skip
            if before is None or saved.id != before.id:
                record("quality.sheet.save", target_type="quality_sheet", target_id=saved.id,
                       version=saved.version)  # fmt: skip
    except FormInvalid as exc:
        db.session.rollback()
        return _sheet_page(errors=messages(exc.errors), values={"name": name, "rows": rows},
                           status=422)  # fmt: skip
    flash(_("Scoring sheet saved as version %(v)s; reviews already scored keep theirs.",
            v=saved.version), "success")  # fmt: skip
    return redirect(url_for("quality.sheet"), 303)


# -- an operator's own scores ---------------------------------------------------------------


@bp.get("/quality/mine")
@roles_required(Role.OPERATOR)
def mine():
    return _mine_page()


def _mine_page(*, errors=None, values=None, failed: int | None = None, status: int = 200):
    return render_template(
        "quality/mine.html",
        rows=reviews.reviews_of_operator(db.session, operator=g.user.username),
        errors=errors or {},
        values=values or {},
        failed=failed,
    ), status


@bp.post("/quality/reviews/<int:review_id>/dispute")
@roles_required(Role.OPERATOR)
def dispute(review_id: int):
    reason = request.form.get("reason", "")
    try:
        with unit_of_work(db.session):
            filed = reviews.file_dispute(db.session, review_id=review_id,
                                         operator=g.user.username, reason=reason,
                                         now=get_hotline().clock.now())  # fmt: skip
            record("quality.dispute", target_type="quality_review", target_id=review_id,
                   dispute=filed.id)  # fmt: skip
    except FormInvalid as exc:
        db.session.rollback()
        return _mine_page(errors=messages(exc.errors), values={"reason": reason},
                          failed=review_id, status=422)  # fmt: skip
    except (reviews.Refused, IntegrityError) as exc:  # IntegrityError: someone was first
        db.session.rollback()
        flash(refused(exc.code if isinstance(exc, reviews.Refused) else "disputed"), "error")
        return _mine_page(status=409)
    flash(_("Dispute filed: the reviewer or a centre lead will decide it."), "success")
    return redirect(url_for("quality.mine"), 303)
