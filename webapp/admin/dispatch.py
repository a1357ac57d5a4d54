"""The dispatch catalogue: which department a category in an area usually goes to."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from engine.db import unit_of_work
from workflows.departments.models import Department
from workflows.dispatch.models import DispatchRule
from workflows.dispatch.service import create_rule, delete_rule, known_categories, update_rule

from ..cases.labels import department_name
from ..extensions import db
from ..i18n import lang
from ..pagination import wants_csv
from ..sorting import DESC, Sortable
from . import bp
from .common import admin_only, audit, listing
from .forms import Form


def _department_name_column():
    """The department's name in the page's language (its English name, if it has one)."""
    if lang() == "en":
        return func.coalesce(func.nullif(Department.name_en, ""), Department.name).label("name")
    return Department.name


@bp.get("/dispatch")
@admin_only
def dispatch_rules():
    category = (request.args.get("category") or "").strip()
    stmt = (
        select(DispatchRule, Department.code, _department_name_column())
        .join(Department, Department.id == DispatchRule.department_id)
        .order_by(DispatchRule.category, DispatchRule.area, DispatchRule.priority.desc())
    )
    if category:
        stmt = stmt.where(DispatchRule.category == category)
    page = listing(
        stmt,
        filename="dispatch-catalogue.csv",
        header=["category", "area", "department", "priority"],
        row=lambda r: [
            r.DispatchRule.category,
            r.DispatchRule.area,
            r.code,
            r.DispatchRule.priority,
        ],
        scalars=False,
        sorts={
            "category": Sortable((DispatchRule.category,)),
            "area": Sortable((DispatchRule.area,)),
            "department": Sortable((Department.code,)),
            "priority": Sortable((DispatchRule.priority,), first=DESC),
        },
        tie_breaker=(DispatchRule.id,),
    )
    if wants_csv():
        return page
    categories = known_categories(db.session)
    return render_template(
        "admin/dispatch.html", page=page, category=category, categories=categories
    )


def _departments() -> list[Department]:
    return list(
        db.session.scalars(
            select(Department).where(Department.active.is_(True)).order_by(Department.code)
        )
    )


def _read(form: Form) -> dict:
    departments = _departments()
    values = {
        "category": form.text("category", required=True, max_length=64),
        "priority": form.integer("priority", minimum=-1000, maximum=1000),
    }
    area = form.text("area", max_length=32) or "*"
    form.values["area"] = area
    if area != "*" and area not in {d.code for d in departments}:
        form.error("area", _('"*" for any area, or the code of an active department.'))
    values["area"] = area
    department = form.choice("department_id", [str(d.id) for d in departments])
    values["department_id"] = int(department) if department else None
    return values


def _render(form: Form, row: DispatchRule | None, status: int = 200):
    return render_template(
        "admin/dispatch_form.html",
        form=form,
        row=row,
        departments=[
            (str(d.id), f"{d.code} · {department_name(d, lang())}") for d in _departments()
        ],
        areas=[d.code for d in _departments() if d.level == "district"],
        categories=known_categories(db.session),
    ), status


@bp.route("/dispatch/new", methods=["GET", "POST"])
@admin_only
def dispatch_rule_new():
    if request.method == "GET":
        return _render(Form.of({"area": "*", "priority": 0}), None)
    form = Form(request.form)
    values = _read(form)
    if not form.ok:
        return _render(form, None, 400)
    with unit_of_work(db.session):
        rule = create_rule(db.session, **values)
        audit("dispatch_rule.create", target_type="dispatch_rule", target_id=rule.id, **values)
    flash(_("Rule for %(category)s saved.", category=values["category"]))
    return redirect(url_for("admin.dispatch_rules"))


@bp.route("/dispatch/<int:rule_id>", methods=["GET", "POST"])
@admin_only
def dispatch_rule_edit(rule_id: int):
    row = db.session.get(DispatchRule, rule_id) or abort(404)
    if request.method == "GET":
        form = Form.of(
            {
                "category": row.category,
                "area": row.area,
                "department_id": row.department_id,
                "priority": row.priority,
            }
        )
        return _render(form, row)
    form = Form(request.form)
    values = _read(form)
    if not form.ok:
        return _render(form, row, 400)
    with unit_of_work(db.session):
        update_rule(db.session, rule_id=rule_id, **values)
        audit("dispatch_rule.update", target_type="dispatch_rule", target_id=rule_id, **values)
    flash(_("Rule for %(category)s saved.", category=values["category"]))
    return redirect(url_for("admin.dispatch_rules"))


@bp.post("/dispatch/<int:rule_id>/delete")
@admin_only
def dispatch_rule_delete(rule_id: int):
    with unit_of_work(db.session):
        category = delete_rule(db.session, rule_id=rule_id)  # NotFound: 404
        audit(
            "dispatch_rule.delete",
            target_type="dispatch_rule",
            target_id=rule_id,
            category=category,
        )
    flash(_("Rule for %(category)s deleted.", category=category))
    return redirect(url_for("admin.dispatch_rules"))
