"""The signed-in user's own account: change the password, see and end sessions, set up or
remove the second factor, and (``preferences.py``) how they are told of their work.

Changing one's own password keeps this browser signed in and ends every other session (the
person at this browser just proved they know both passwords).
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.db import unit_of_work
from workflows.users import sessions, totp
from workflows.users.service import set_password
from workflows.users.sign_in_models import UserSession

from ..audit.log import record
from ..extensions import db
from ..hotline import get_hotline
from ..security import (
    SignInRefused,
    authenticate,
    current_session,
    end_sessions,
    hash_password,
    login_required,
    password_problem,
    required_roles,
    sign_out,
)
from . import bp, preferences
from .views import _enrol_page, refusal


def _open_sessions() -> list[UserSession]:
    now = get_hotline().clock.now()
    config = current_app.config
    return sessions.open_sessions(
        db.session,
        user_id=g.user.id,
        seen_since=now - timedelta(minutes=float(config["SESSION_IDLE_MINUTES"])),
        created_since=now - timedelta(hours=float(config["SESSION_MAX_HOURS"])),
    )


def _page(
    errors: dict[str, str] | None = None,
    status: int = 200,
    headers=None,
    contact_values: dict[str, str] | None = None,
):
    factor = totp.factor(db.session, user_id=g.user.id)
    enabled = factor is not None and factor.enabled_at is not None
    page = render_template(
        "auth/account.html",
        errors=errors or {},
        sessions=_open_sessions(),
        current=current_session(),
        totp_enabled=enabled,
        recovery_left=totp.recovery_codes_left(factor) if enabled else 0,
        totp_required=g.user.role in required_roles(),
        **preferences.context(g.user, contact_values),
    )
    return page, status, headers or {}


@bp.get("/account")
@login_required
def account():
    return _page()


@bp.post("/account/password")
@login_required
def account_password():
    current = request.form.get("current_password") or ""
    new = request.form.get("new_password") or ""
    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = _("Required.")
    problem = password_problem(new)
    if problem:
        errors["new_password"] = problem
    elif new != (request.form.get("confirm_password") or ""):
        errors["confirm_password"] = _("The two new passwords differ.")
    if errors:
        return _page(errors, 400)
    try:
        authenticate(g.user.username, current, now=get_hotline().clock.now())
    except SignInRefused as exc:
        message, status, headers = refusal(exc)
        if status == 401:
            message = _("The current password is wrong.")
        return _page({"current_password": message}, 400 if status == 401 else status, headers)
    with unit_of_work(db.session):
        set_password(db.session, user_id=g.user.id, password_hash=hash_password(new))
        record("user.password", target_type="user", target_id=g.user.id, username=g.user.username)
    row = current_session()
    end_sessions(g.user.id, "password_changed", keep_id=row.id if row else None)
    flash(_("Your password is changed; your other sessions are ended."))
    return redirect(url_for("auth.account"))


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def account_end_session(session_id: int):
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != g.user.id:
        abort(404)
    current = current_session()
    end_sessions(g.user.id, "revoked", only_id=session_id)
    if current is not None and current.id == session_id:
        sign_out()
        return redirect(url_for("auth.login"))
    flash(_("The session is ended."))
    return redirect(url_for("auth.account"))


@bp.post("/account/sessions/end-others")
@login_required
def account_end_others():
    current = current_session()
    ended = end_sessions(g.user.id, "revoked", keep_id=current.id if current else None)
    flash(_("%(n)s other sessions ended.", n=ended))
    return redirect(url_for("auth.account"))


@bp.route("/account/totp", methods=["GET", "POST"])
@login_required
def account_totp():
    if totp.is_enabled(db.session, user_id=g.user.id):
        return redirect(url_for("auth.account"))
    if request.method == "GET":
        with unit_of_work(db.session):
            factor = totp.begin_enrolment(db.session, user_id=g.user.id)
        return _enrol_page(factor, g.user, required=False)
    with unit_of_work(db.session):
        codes = totp.confirm_enrolment(
            db.session,
            user_id=g.user.id,
            code=request.form.get("code") or "",
            now=get_hotline().clock.now(),
        )
        if codes is not None:
            record("user.second_factor_on", target_type="user", target_id=g.user.id)
    factor = totp.factor(db.session, user_id=g.user.id)
    if codes is None:
        if factor is None:
            return redirect(url_for("auth.account_totp"))
        return _enrol_page(factor, g.user, required=False, error=True), 400
    return render_template("auth/recovery_codes.html", codes=codes, next=url_for("auth.account"))


@bp.post("/account/totp/disable")
@login_required
def account_totp_disable():
    if g.user.role in required_roles():
        flash(_("Your role must sign in with a second factor; it cannot be removed."), "error")
        return redirect(url_for("auth.account"))
    with unit_of_work(db.session):
        right = totp.verify(
            db.session,
            user_id=g.user.id,
            code=request.form.get("code") or "",
            now=get_hotline().clock.now(),
        )
        if right:
            totp.remove(db.session, user_id=g.user.id)
            record("user.second_factor_off", target_type="user", target_id=g.user.id)
    if not right:
        return _page({"code": _("Wrong code: the second factor is still on.")}, 400)
    flash(_("The second factor is removed."))
    return redirect(url_for("auth.account"))
