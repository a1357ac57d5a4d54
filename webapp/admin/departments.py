"""Departments: the tree of city, district and street units, and which of them dispatch."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from engine.db import unit_of_work
from workflows.departments.models import Department
from workflows.departments.service import create_department, update_department
from workflows.notifications import contacts

from ..cases.labels import department_name
from ..extensions import db
from ..i18n import lang
from ..pagination import wants_csv
from ..sorting import DESC, Sortable
from . import bp
from .common import admin_only, audit, listing
from .forms import Form

LEVELS = ("city", "district", "street")


def _level_labels() -> dict[str, str]:
    return {"city": _("City"), "district": _("District"), "street": _("Street")}


@bp.get("/departments")
@admin_only
def departments():
    parent = aliased(Department)
    q = (request.args.get("q") or "").strip()
    stmt = (
        select(Department, parent.code.label("parent_code"))
        .outerjoin(parent, parent.id == Department.parent_id)
        .order_by(Department.code)
    )
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(
            or_(
                Department.code.ilike(pattern),
                Department.name.ilike(pattern),
                Department.name_en.ilike(pattern),
            )
        )
    page = listing(
        stmt,
        sorts={
            "code": Sortable((Department.code,)),
            "name": Sortable((Department.name,)),
            "name_en": Sortable((Department.name_en,)),
            "level": Sortable((Department.level,)),
            "parent": Sortable((parent.code,), nullable=True),
            "platform": Sortable((Department.is_platform,), first=DESC),
            "active": Sortable((Department.active,)),
        },
        tie_breaker=(Department.id,),
        filename="departments.csv",
        header=[
            "code",
            "name",
            "name_en",
            "level",
            "parent",
            "platform",
            "active",
            "duty_phone",
            "duty_email",
            "webhook_url",
        ],  # fmt: skip
        row=lambda r: [
            r.Department.code,
            r.Department.name,
            r.Department.name_en,
            r.Department.level,
            r.parent_code or "",
            "yes" if r.Department.is_platform else "no",
            "yes" if r.Department.active else "no",
            r.Department.duty_phone,
            r.Department.duty_email,
            r.Department.webhook_url,
        ],
        scalars=False,
    )
    if wants_csv():
        return page
    return render_template("admin/departments.html", page=page, q=q, levels=_level_labels())


def _parent_options(exclude: Department | None) -> list[tuple[str, str]]:
    rows = db.session.scalars(select(Department).order_by(Department.code)).all()
    banned = _subtree_ids(rows, exclude.id) if exclude is not None else set()
    return [
        (str(d.id), f"{d.code} · {department_name(d, lang())}") for d in rows if d.id not in banned
    ]


def _subtree_ids(rows: list[Department], root: int) -> set[int]:
    """The department and every unit below it (a parent cannot come from there)."""
    children: dict[int | None, list[int]] = {}
    for d in rows:
        children.setdefault(d.parent_id, []).append(d.id)
    found, stack = set(), [root]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def _read(form: Form, current: Department | None) -> dict:
    values = {
        "code": form.code("code"),
        "name": form.text("name", required=True, max_length=120),
        "name_en": form.text("name_en", max_length=120),
        "level": form.choice("level", LEVELS),
        "is_platform": form.flag("is_platform"),
        "active": form.flag("active"),
    }
    parent_raw = form.raw("parent_id")
    values["parent_id"] = None
    if parent_raw:
        allowed = {value for value, _label in _parent_options(current)}
        if parent_raw not in allowed:
            form.error("parent_id", _("A department cannot sit below itself or its own units."))
        else:
            values["parent_id"] = int(parent_raw)
    # a form without the contact fields (an older page, a script) leaves them as they are
    if "duty_phone" in form.data or current is None:
        values["duty_phone"] = form.contact("duty_phone", contacts.phone)
        values["duty_email"] = form.contact("duty_email", contacts.email)
        values["webhook_url"] = form.contact("webhook_url", contacts.webhook_url)
        values["webhook_secret"] = _secret(form, current, values["webhook_url"])
    else:
        values.update(duty_phone=None, duty_email=None, webhook_url=None, webhook_secret=None)
    if values["code"]:
        clash = db.session.scalars(
            select(Department.id).where(Department.code == values["code"])
        ).first()
        if clash is not None and (current is None or clash != current.id):
            form.error("code", _("Another department already has this code."))
    return values


def _secret(form: Form, current: Department | None, url: str) -> str | None:
    """The webhook secret to store, or None to keep the current one. Typed, generated (shown
    once after saving), or cleared; a webhook URL with no secret gets a generated one."""
    typed = form.contact("webhook_secret", contacts.webhook_secret)
    form.values["webhook_secret"] = ""  # never sent back to the browser
    action = form.choice("webhook_secret_action", ("keep", "generate", "clear"), required=False)
    if typed:
        return typed
    if action == "generate":
        return contacts.new_webhook_secret()
    if action == "clear":
        return ""
    has_secret = current is not None and bool(current.webhook_secret)
    if url and not has_secret and "webhook_secret" not in form.errors:
        return contacts.new_webhook_secret()
    return None if current is not None else ""


def _audited(values: dict, current: Department | None) -> dict:
    """The audit row's details: the secret only as "changed"."""
    shown = {k: v for k, v in values.items() if k != "webhook_secret"}
    secret = values["webhook_secret"]
    shown["webhook_secret_changed"] = secret is not None and secret != (
        current.webhook_secret if current is not None else ""
    )
    return shown


def _saved(values: dict, generated: bool, message: str):
    """After saving: back to the list, or a page showing a generated secret once."""
    if generated:
        return render_template(
            "admin/department_secret.html", code=values["code"], secret=values["webhook_secret"]
        )
    flash(message)
    return redirect(url_for("admin.departments"))


def _render(form: Form, row: Department | None, status: int = 200):
    return render_template(
        "admin/department_form.html",
        form=form,
        row=row,
        parents=_parent_options(row),
        levels=_level_labels(),
        secret_shown=contacts.masked_secret(row.webhook_secret) if row else "",
    ), status


@bp.route("/departments/new", methods=["GET", "POST"])
@admin_only
def department_new():
    if request.method == "GET":
        return _render(Form.of({"level": "street", "active": True}), None)
    form = Form(request.form)
    values = _read(form, None)
    if not form.ok:
        return _render(form, None, 400)
    generated = bool(values["webhook_secret"]) and not form.data.get("webhook_secret")
    details = _audited(values, None)
    with unit_of_work(db.session):
        create_department(db.session, **values)
        audit("department.create", target_type="department", target_id=values["code"], **details)
    return _saved(values, generated, _("Department %(code)s created.", code=values["code"]))


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@admin_only
def department_edit(department_id: int):
    row = db.session.get(Department, department_id) or abort(404)
    if request.method == "GET":
        form = Form.of(
            {
                "code": row.code,
                "name": row.name,
                "name_en": row.name_en,
                "level": row.level,
                "parent_id": row.parent_id,
                "is_platform": row.is_platform,
                "active": row.active,
                "duty_phone": row.duty_phone,
                "duty_email": row.duty_email,
                "webhook_url": row.webhook_url,
            }
        )
        return _render(form, row)
    form = Form(request.form)
    values = _read(form, row)
    if not form.ok:
        return _render(form, row, 400)
    details = _audited(values, row)
    generated = (
        details["webhook_secret_changed"]
        and bool(values["webhook_secret"])
        and not form.data.get("webhook_secret")
    )
    with unit_of_work(db.session):
        update_department(db.session, department_id=department_id, **values)
        audit("department.update", target_type="department", target_id=department_id, **details)
    return _saved(values, generated, _("Department %(code)s saved.", code=values["code"]))
