"""The deadline policy: for each case type and urgency, the limits a case is held to.

A case copies its row at intake, so an edit applies to cases opened after it. A category row
(case type x urgency x category) overrides its default row for cases of that category; it is
listed under its default and can be added, edited and deleted. Default rows cannot be deleted.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import case, select

from engine.db import unit_of_work
from workflows.calendar.service import UNITS
from workflows.cases.enums import Urgency
from workflows.cases.types import LIMIT_FIELDS
from workflows.dispatch.service import known_categories
from workflows.policy.models import DeadlinePolicy
from workflows.policy.service import (
    PolicyConflict,
    create_category_policy,
    delete_category_policy,
    update_policy,
)

from ..cases.labels import Labels
from ..error_messages import translated
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from ..pagination import wants_csv
from ..sorting import Sortable
from . import bp
from .common import admin_only, audit, listing
from .forms import Form

#: the limits of a row, each a value (>= 1) and a unit: the department's deadlines, then the
#: clocks of every other human task (each task's own yellow and red, see docs/architecture.md)
LIMITS = tuple(LIMIT_FIELDS.values())
#: whole numbers of a row besides the limits: name -> (least, most)
COUNTS = {"max_returns": (0, 100), "callback_attempts": (1, 20)}
#: the citizens' SMS switches of a row (issue 16): the survey by SMS, and what its
#: "unsatisfied" answer does
SWITCHES = ("sms_survey", "sms_unsatisfied_reopens")


def _switch_labels() -> dict[str, str]:
    return {
        "sms_survey": _("SMS satisfaction survey (the citizen answers 1/2/3 by SMS)"),
        "sms_unsatisfied_reopens": _(
            "An unsatisfied SMS answer reopens the case (otherwise it closes, rated unsatisfied)"
        ),
    }


def _limit_labels() -> dict[str, str]:
    return {
        "sign": _("Sign for within"),
        "reply": _("Reply within"),
        "return": _("Return allowed within"),
        "extension_max": _("Longest extension"),
        "reopen": _("Reopened case: reply within"),
        "dispatch": _("Dispatch (and re-dispatch) within"),
        "review": _("Each review (return, extension, suspension, reply) within"),
        "callback": _("Call back within, from the reply"),
        "callback_span": _("Unreached callback attempts spread over at least"),
        "supervision": _("Answer a supervision order within"),
        "cohandle": _("Co-handling unit sends its part within"),
        "suspension_max": _("Longest suspension before resuming"),
    }


def _unit_labels() -> dict[str, str]:
    return {
        "workdays": _("working days"),
        "workhours": _("working hours"),
        "hours": _("hours"),
        "days": _("calendar days"),
    }


def _ranks():
    """The case types in the order the hotline declares them, the urgencies in theirs."""
    types = {code: i for i, code in enumerate(get_hotline().case_types.codes())}
    urgencies = {str(u): i for i, u in enumerate(Urgency)}
    return (
        case(types, value=DeadlinePolicy.case_type, else_=99),
        case(urgencies, value=DeadlinePolicy.urgency, else_=99),
    )


def _policy_sorts(type_rank, urgency_rank) -> dict[str, Sortable]:
    """The policy table's sortable columns (a few dozen rows); a limit sorts by its number,
    then its unit. Without ``sort``: by case type and urgency, each default row above its
    category rows."""
    sorts = {
        "case_type": Sortable((type_rank, DeadlinePolicy.case_type, DeadlinePolicy.category)),
        "urgency": Sortable((urgency_rank, DeadlinePolicy.urgency)),
        "category": Sortable((DeadlinePolicy.category,)),
    }
    for limit in LIMITS:
        columns = (
            getattr(DeadlinePolicy, f"{limit}_value"),
            getattr(DeadlinePolicy, f"{limit}_unit"),
        )
        sorts[limit] = Sortable(columns)
    sorts["warn_share"] = Sortable((DeadlinePolicy.warn_share,))
    sorts["callback_required"] = Sortable((DeadlinePolicy.callback_required,))
    sorts["review_required"] = Sortable((DeadlinePolicy.review_required,))
    for name in (*COUNTS, *SWITCHES):
        sorts[name] = Sortable((getattr(DeadlinePolicy, name),))
    return sorts


@bp.get("/policies")
@admin_only
def policies():
    type_rank, urgency_rank = _ranks()
    stmt = select(DeadlinePolicy).order_by(
        type_rank,
        urgency_rank,
        DeadlinePolicy.case_type,
        DeadlinePolicy.urgency,
        # the default row ("") first, its category rows under it
        DeadlinePolicy.category,
    )
    header = ["case_type", "urgency", "category"]
    for limit in LIMITS:
        header += [f"{limit}_value", f"{limit}_unit"]
    header += ["warn_share", "callback_required", "review_required", *COUNTS, *SWITCHES]
    page = listing(
        stmt,
        filename="deadline-policy.csv",
        header=header,
        row=lambda p: (
            [p.case_type, p.urgency, p.category]
            + [
                x
                for limit in LIMITS
                for x in (getattr(p, f"{limit}_value"), getattr(p, f"{limit}_unit"))
            ]
            + [p.warn_share, p.callback_required, p.review_required]
            + [getattr(p, name) for name in COUNTS]
            + [getattr(p, name) for name in SWITCHES]
        ),
        sorts=_policy_sorts(type_rank, urgency_rank),
        tie_breaker=(DeadlinePolicy.id,),
    )
    if wants_csv():
        return page
    return render_template(
        "admin/policies.html",
        page=page,
        limits=_limit_labels(),
        units=_unit_labels(),
        labels=Labels(db.session, lang()),
        LIMITS=LIMITS,
        switches=_switch_labels(),
    )


def _read(form: Form) -> dict:
    values: dict = {}
    for limit in LIMITS:
        values[f"{limit}_value"] = form.integer(f"{limit}_value", minimum=1, maximum=100_000)
        values[f"{limit}_unit"] = form.choice(f"{limit}_unit", UNITS)
    share = form.number("warn_share")
    if share is not None and not 0 < share <= 1:
        form.error("warn_share", _("A share of the reply time above 0 and at most 1, e.g. 0.8."))
    values["warn_share"] = share
    values["callback_required"] = form.flag("callback_required")
    values["review_required"] = form.flag("review_required")
    for name, (least, most) in COUNTS.items():
        values[name] = form.integer(name, minimum=least, maximum=most)
    for name in SWITCHES:
        values[name] = form.flag(name)
    return values


@bp.route("/policies/<int:policy_id>", methods=["GET", "POST"])
@admin_only
def policy_edit(policy_id: int):
    row = db.session.get(DeadlinePolicy, policy_id) or abort(404)
    if request.method == "GET":
        shown = {name: getattr(row, name) for name in _fields()}
        form = Form.of(shown)
        status = 200
    else:
        form = Form(request.form)
        values = _read(form)
        if form.ok:
            with unit_of_work(db.session):
                policy = update_policy(db.session, policy_id=policy_id, values=values)
                case_type, urgency = policy.case_type, policy.urgency
                audit(
                    "policy.update",
                    target_type="policy",
                    target_id=policy_id,
                    case_type=case_type,
                    urgency=urgency,
                    category=policy.category,
                    **values,
                )
            flash(
                _(
                    "Deadline policy for %(type)s / %(urgency)s saved; it applies to cases "
                    "opened from now on.",
                    type=_row_name(policy),
                    urgency=urgency,
                )
            )
            return redirect(url_for("admin.policies"))
        status = 400
    return render_template(
        "admin/policy_form.html",
        form=form,
        row=row,
        limits=_limit_labels(),
        units=_unit_labels(),
        labels=Labels(db.session, lang()),
        LIMITS=LIMITS,
        switches=_switch_labels(),
    ), status


def _fields() -> list[str]:
    names = [f"{limit}_{part}" for limit in LIMITS for part in ("value", "unit")]
    return names + ["warn_share", "callback_required", "review_required", *COUNTS, *SWITCHES]


def _row_name(row: DeadlinePolicy) -> str:
    """The case type, with the category of a category row: ``complaint (消费维权)``."""
    return f"{row.case_type} ({row.category})" if row.category else row.case_type


def _default_row(policy_id: int) -> DeadlinePolicy:
    row = db.session.get(DeadlinePolicy, policy_id)
    if row is None or row.category:
        abort(404)
    return row


@bp.route("/policies/<int:policy_id>/categories/new", methods=["GET", "POST"])
@admin_only
def policy_category_new(policy_id: int):
    """A category row under the default row ``policy_id``, starting from its limits."""
    base = _default_row(policy_id)
    categories = known_categories(db.session)
    if request.method == "GET":
        form = Form.of({name: getattr(base, name) for name in _fields()})
        status = 200
    else:
        form = Form(request.form)
        category = form.choice("category", categories)
        values = _read(form)
        if form.ok:
            try:
                with unit_of_work(db.session):
                    policy = create_category_policy(
                        db.session,
                        case_type=base.case_type,
                        urgency=base.urgency,
                        category=category or "",
                        values=values,
                    )
                    audit(
                        "policy.create",
                        target_type="policy",
                        target_id=policy.id,
                        case_type=policy.case_type,
                        urgency=policy.urgency,
                        category=policy.category,
                        **values,
                    )
            except PolicyConflict as exc:
                db.session.rollback()
                form.error(
                    exc.field,
                    translated(str(exc))
                    if exc.field != "category"
                    else _(
                        "%(type)s / %(urgency)s already has a row for %(category)s: edit it.",
                        type=base.case_type,
                        urgency=base.urgency,
                        category=category,
                    ),
                )
            else:
                flash(
                    _(
                        "Deadline policy for %(type)s / %(urgency)s saved; it applies to cases "
                        "opened from now on.",
                        type=_row_name(policy),
                        urgency=policy.urgency,
                    )
                )
                return redirect(url_for("admin.policies"))
        status = 400
    return render_template(
        "admin/policy_form.html",
        form=form,
        row=None,
        base=base,
        category_options=[(c, c) for c in categories],
        limits=_limit_labels(),
        units=_unit_labels(),
        labels=Labels(db.session, lang()),
        LIMITS=LIMITS,
        switches=_switch_labels(),
    ), status


@bp.post("/policies/<int:policy_id>/delete")
@admin_only
def policy_delete(policy_id: int):
    row = db.session.get(DeadlinePolicy, policy_id) or abort(404)
    if not row.category:
        flash(_("A default row cannot be deleted: every case of its type and urgency needs it."))
        return redirect(url_for("admin.policy_edit", policy_id=policy_id))
    with unit_of_work(db.session):
        policy = delete_category_policy(db.session, policy_id=policy_id)
        audit(
            "policy.delete",
            target_type="policy",
            target_id=policy_id,
            case_type=policy.case_type,
            urgency=policy.urgency,
            category=policy.category,
        )
    flash(
        _(
            "Deadline policy for %(type)s / %(urgency)s deleted; new cases of %(category)s "
            "get the default row.",
            type=_row_name(policy),
            urgency=policy.urgency,
            category=policy.category,
        )
    )
    return redirect(url_for("admin.policies"))
