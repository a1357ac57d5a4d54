"""Users: who may sign in, with which role, in which department; new passwords.

Password hashes are written here and never shown. A new password or deactivation ends every
session of the user; an administrator may also end them all, or reset a lost second factor.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select

from engine.db import unit_of_work
from workflows.departments.models import Department
from workflows.notifications import contacts
from workflows.notifications.notices import LANGS
from workflows.users import sessions as user_sessions
from workflows.users import totp
from workflows.users.models import Role, User
from workflows.users.service import create_user, update_user
from workflows.users.sign_in_models import SecondFactor

from ..cases.labels import department_name
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from ..pagination import wants_csv
from ..security import end_sessions, hash_password, password_problem
from ..sorting import Sortable
from . import bp
from .common import admin_only, audit, listing
from .forms import Form, lang_labels


def _role_labels() -> dict[str, str]:
    return {
        Role.OPERATOR: _("Operator"),
        Role.DISPATCHER: _("Dispatcher"),
        Role.HANDLER: _("Handler"),
        Role.SUPERVISOR: _("Supervisor"),
        Role.CALLBACK: _("Callback agent"),
        Role.LEAD: _("Centre lead"),
        Role.ADMIN: _("Administrator"),
        Role.AUDITOR: _("Auditor"),
        Role.QA: _("Quality reviewer"),
        Role.TELEPHONY: _("Phone system"),
    }


#: the users list's sortable columns (a few hundred users: any column sorts at once)
USER_SORTS = {
    "username": Sortable((User.username,)),
    "display_name": Sortable((User.display_name,)),
    "role": Sortable((User.role,)),
    "department": Sortable((Department.code,), nullable=True),
    "active": Sortable((User.active,)),
}


@bp.get("/users")
@admin_only
def users():
    q = (request.args.get("q") or "").strip()
    role = request.args.get("role") or ""
    stmt = (
        select(User, Department.code)
        .outerjoin(Department, Department.id == User.department_id)
        .order_by(User.username)
    )
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(or_(User.username.ilike(pattern), User.display_name.ilike(pattern)))
    if role in {str(r) for r in Role}:
        stmt = stmt.where(User.role == role)
    page = listing(
        stmt,
        filename="users.csv",
        header=["username", "display_name", "role", "department", "active", "created_at"],
        row=lambda r: [
            r.User.username,
            r.User.display_name,
            r.User.role,
            r.code or "",
            "yes" if r.User.active else "no",
            r.User.created_at.isoformat(),
        ],
        scalars=False,
        sorts=USER_SORTS,
        tie_breaker=(User.id,),
    )
    if wants_csv():
        return page
    return render_template(
        "admin/users.html",
        page=page,
        q=q,
        role=role,
        roles=_role_labels(),
        now=get_hotline().clock.now(),
        second_factor_ids=set(
            db.session.scalars(
                select(SecondFactor.user_id).where(SecondFactor.enabled_at.is_not(None))
            )
        ),
    )


def _department_options() -> list[tuple[str, str]]:
    rows = db.session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.code)
    )
    return [(str(d.id), f"{d.code} · {department_name(d, lang())}") for d in rows]


def _read(form: Form, current: User | None) -> dict:
    values: dict = {
        "display_name": form.text("display_name", required=True, max_length=120),
        "role": form.choice("role", [str(r) for r in Role]),
        "active": form.flag("active") if current is not None else True,
    }
    if current is None:
        values["username"] = form.code("username", max_length=64)
        if (
            values["username"]
            and db.session.scalars(
                select(User.id).where(User.username == values["username"])
            ).first()
        ):
            form.error("username", _("This username is taken."))
    department_raw = form.raw("department_id")
    department = None
    if department_raw:
        if department_raw not in {value for value, _label in _department_options()}:
            form.error("department_id", _("Choose an active department."))
        else:
            department = db.session.get(Department, int(department_raw))
    if values["role"] == Role.HANDLER and department is None and "department_id" not in form.errors:
        form.error("department_id", _("A handler must belong to a department."))
    values["department_id"] = department.id if department is not None else None
    # a form without a contact field (an older page, a script) leaves it as it is
    sent = form.data.keys()
    values["phone"] = form.contact("phone", contacts.phone) if "phone" in sent else None
    values["email"] = form.contact("email", contacts.email) if "email" in sent else None
    values["lang"] = form.choice("lang", LANGS) if "lang" in sent else None
    if current is None:
        values["phone"], values["email"] = values["phone"] or "", values["email"] or ""
        values["lang"] = values["lang"] or "zh"
    password = form.data.get("password") or ""
    form.values["password"] = ""  # never sent back to the browser
    if current is None and not password:
        form.error("password", _("Required."))
    elif password and (problem := password_problem(password)):
        form.error("password", problem)
    values["password"] = password
    if current is not None and current.id == g.user.id:
        if values["role"] and values["role"] != Role.ADMIN:
            form.error("role", _("You cannot take away your own administrator role."))
        if not values["active"]:
            form.error("active", _("You cannot deactivate your own account."))
    return values


def _user_actions(before: dict, values: dict) -> list[str]:
    """What an edit did, for the audit log: an update, and each sensitive change by name."""
    actions = ["user.update"]
    if values["role"] != before["role"]:
        actions.append("user.role")
    if before["active"] and not values["active"]:
        actions.append("user.deactivate")
    if values["password"]:
        actions.append("user.password")
    return actions


def _render(form: Form, row: User | None, status: int = 200):
    return render_template(
        "admin/user_form.html",
        form=form,
        row=row,
        roles=_role_labels(),
        departments=_department_options(),
        langs=lang_labels(),
        password_rule=password_problem(""),
        open_sessions=_open_sessions(row.id) if row else 0,
        second_factor=totp.is_enabled(db.session, user_id=row.id) if row else False,
    ), status


def _open_sessions(user_id: int) -> int:
    now = get_hotline().clock.now()
    config = current_app.config
    return len(
        user_sessions.open_sessions(
            db.session,
            user_id=user_id,
            seen_since=now - timedelta(minutes=float(config["SESSION_IDLE_MINUTES"])),
            created_since=now - timedelta(hours=float(config["SESSION_MAX_HOURS"])),
        )
    )


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def user_new():
    if request.method == "GET":
        return _render(Form.of({"role": Role.OPERATOR}), None)
    form = Form(request.form)
    values = _read(form, None)
    if not form.ok:
        return _render(form, None, 400)
    hotline = get_hotline()
    with unit_of_work(db.session):
        department = (
            db.session.get(Department, values["department_id"]) if values["department_id"] else None
        )
        create_user(
            db.session,
            username=values["username"],
            display_name=values["display_name"],
            role=values["role"],
            clock=hotline.clock,
            department=department,
            password_hash=hash_password(values["password"]),
            phone=values["phone"],
            email=values["email"],
            lang=values["lang"],
        )
        audit(
            "user.create",
            target_type="user",
            target_id=values["username"],
            username=values["username"],
            role=values["role"],
            department_id=values["department_id"],
            phone=values["phone"],
            email=values["email"],
            lang=values["lang"],
        )
    flash(_("User %(name)s created.", name=values["username"]))
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def user_edit(user_id: int):
    row = db.session.get(User, user_id) or abort(404)
    if request.method == "GET":
        form = Form.of(
            {
                "display_name": row.display_name,
                "role": row.role,
                "department_id": row.department_id,
                "active": row.active,
                "phone": row.phone,
                "email": row.email,
                "lang": row.lang or "zh",
            }
        )
        return _render(form, row)
    form = Form(request.form)
    values = _read(form, row)
    if not form.ok:
        return _render(form, row, 400)
    username = row.username
    was_active = row.active
    before = {
        "role": row.role,
        "active": row.active,
        "department_id": row.department_id,
        "phone": row.phone,
        "email": row.email,
        "lang": row.lang,
    }
    with unit_of_work(db.session):
        update_user(
            db.session,
            user_id=user_id,
            display_name=values["display_name"],
            role=values["role"],
            department_id=values["department_id"],
            active=values["active"],
            password_hash=hash_password(values["password"]) if values["password"] else None,
            phone=values["phone"],
            email=values["email"],
            lang=values["lang"],
        )
        for action in _user_actions(before, values):
            audit(
                action,
                target_type="user",
                target_id=user_id,
                username=username,
                before=before,
                role=values["role"],
                active=values["active"],
                department_id=values["department_id"],
                phone=values["phone"],
                email=values["email"],
                lang=values["lang"],
            )
    if was_active and not values["active"]:
        end_sessions(user_id, "deactivated")
    elif values["password"]:  # an administrator's own new password keeps this browser
        current = g.get("session_row")
        keep = current.id if current is not None and user_id == g.user.id else None
        end_sessions(user_id, "password_changed", keep_id=keep)
    flash(_("User %(name)s saved.", name=username))
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/sessions/end")
@admin_only
def user_end_sessions(user_id: int):
    row = db.session.get(User, user_id) or abort(404)
    ended = end_sessions(user_id, "revoked")
    audit(
        "user.end_sessions",
        target_type="user",
        target_id=user_id,
        username=row.username,
        sessions=ended,
    )
    flash(_("%(n)s sessions of %(name)s ended.", n=ended, name=row.username))
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/second-factor/reset")
@admin_only
def user_reset_second_factor(user_id: int):
    row = db.session.get(User, user_id) or abort(404)
    with unit_of_work(db.session):
        removed = totp.remove(db.session, user_id=user_id)
    if removed:
        end_sessions(user_id, "revoked")
    audit(
        "user.reset_second_factor",
        target_type="user",
        target_id=user_id,
        username=row.username,
        removed=removed,
    )
    flash(
        _(
            "The second factor of %(name)s is reset; they set up a new one at sign-in.",
            name=row.username,
        )
    )
    return redirect(url_for("admin.user_edit", user_id=user_id))
