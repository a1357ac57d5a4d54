"""Thin views: sign in (password, then the second factor if any), sign out, switch language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine.db import unit_of_work
from workflows.audit.service import Actor
from workflows.users import throttle, totp
from workflows.users.models import User
from workflows.users.sign_in_models import SessionStage, UserSession

from ..audit.log import record
from ..extensions import db
from ..hotline import get_hotline
from ..security import (
    CODE_FAILURES_ALLOWED,
    SignInRefused,
    authenticate,
    client_address,
    complete_sign_in,
    current_session,
    end_sessions,
    limits,
    sign_in,
    sign_in_failed_signal,
    sign_out,
)
from . import bp
from .qr import enrolment_qr

LANGUAGES = ("zh", "en")


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("home.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return url_for("home.index")
    return target


def refusal(exc: SignInRefused) -> tuple[str, int, dict[str, str]]:
    """The message, status and headers of a refused attempt."""
    if exc.wait is None:
        return _("Wrong username or password."), 401, {}
    seconds = max(1, int(exc.wait.total_seconds() + 0.999))
    headers = {"Retry-After": str(seconds)}
    if exc.busy:
        return _("The server is busy signing others in: try again in a moment."), 503, headers
    return (
        _("Too many failed attempts: try again in %(seconds)s seconds.", seconds=seconds),
        429,
        headers,
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.get("user") is not None and request.method == "GET":
        return redirect(url_for("home.index"))
    error = None
    status = 200
    headers: dict[str, str] = {}
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        try:
            user = authenticate(username, password, now=get_hotline().clock.now())
        except SignInRefused as exc:
            error, status, headers = refusal(exc)
        else:
            next_page = _safe_next(request.form.get("next"))
            stage = sign_in(user)
            if stage == SessionStage.SIGNED_IN:
                return redirect(next_page)
            session["next"] = next_page
            return redirect(
                url_for("auth.login_code" if stage == SessionStage.CODE else "auth.enrol")
            )
    # a refused sign-in keeps the user name typed (never the password)
    username = (request.form.get("username") or "").strip() if request.method == "POST" else ""
    page = render_template(
        "auth/login.html", error=error, next=request.values.get("next", ""), username=username
    )
    return page, status, headers


def _pending(stage: str) -> tuple[UserSession, User] | None:
    row = current_session()
    if row is None or row.stage != stage:
        return None
    return row, db.session.get(User, row.user_id)


def _finish(row: UserSession, user: User):
    complete_sign_in(row, user)
    return redirect(_safe_next(session.pop("next", None)))


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    pending = _pending(SessionStage.CODE)
    if pending is None:
        return redirect(url_for("auth.login"))
    row, user = pending
    if request.method == "GET":
        return render_template("auth/login_code.html", error=None)
    now = get_hotline().clock.now()
    address = client_address()
    wait = throttle.wait_before_attempt(
        db.session,
        username=user.username,
        address=address,
        password_key=None,
        known_address=True,  # the password was right: only this address is slowed down
        now=now,
        limits=limits(),
    )
    if wait is not None:
        sign_in_failed_signal(user.username, "throttled")
        error, status, headers = refusal(SignInRefused("throttled", wait=wait))
        return render_template("auth/login_code.html", error=error), status, headers
    with unit_of_work(db.session):
        right = totp.verify(
            db.session, user_id=user.id, code=request.form.get("code") or "", now=now
        )
        if not right:
            throttle.record_failure(
                db.session,
                username=user.username,
                address=address,
                password_key=None,
                now=now,
                limits=limits(),
            )
            current = db.session.get(UserSession, row.id)
            current.code_failures += 1
            failures = current.code_failures
    if right:
        return _finish(row, user)
    sign_in_failed_signal(user.username, "second_factor")
    if failures >= CODE_FAILURES_ALLOWED:
        end_sessions(user.id, "second_factor", only_id=row.id)
        sign_out()
        flash(_("Too many wrong codes: please sign in again."))
        return redirect(url_for("auth.login"))
    error = _("Wrong code. Type the 6 digits your authenticator app shows now.")
    return render_template("auth/login_code.html", error=error), 401


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol():
    """Right after the password, for a role that must have a second factor and has none."""
    pending = _pending(SessionStage.ENROL)
    if pending is None:
        return redirect(url_for("auth.login"))
    row, user = pending
    if request.method == "GET":
        with unit_of_work(db.session):
            factor = totp.begin_enrolment(db.session, user_id=user.id)
        return _enrol_page(factor, user, required=True)
    now = get_hotline().clock.now()
    with unit_of_work(db.session):
        codes = totp.confirm_enrolment(
            db.session, user_id=user.id, code=request.form.get("code") or "", now=now
        )
        if codes is not None:  # not signed in yet: the actor is who is enrolling
            record(
                "user.second_factor_on",
                target_type="user",
                target_id=user.id,
                actor=Actor(user.username, user.id, request.remote_addr or ""),
            )
    factor = totp.factor(db.session, user_id=user.id)
    if codes is None or factor is None:
        if factor is None:
            return redirect(url_for("auth.enrol"))
        return _enrol_page(factor, user, required=True, error=True), 400
    complete_sign_in(row, user)
    return render_template(
        "auth/recovery_codes.html", codes=codes, next=_safe_next(session.pop("next", None))
    )


def _enrol_page(factor, user: User, *, required: bool, error: bool = False):
    from workflows.users.totp import provisioning_uri

    uri = provisioning_uri(factor, username=user.username)
    return render_template(
        "auth/totp_enrol.html",
        secret=factor.secret,
        qr=enrolment_qr(uri),
        required=required,
        error=_("Wrong code: check the phone's time and type the code shown now.")
        if error
        else None,
        action=url_for("auth.enrol") if required else url_for("auth.account_totp"),
    )


@bp.post("/logout")
def logout():
    sign_out()
    flash(_("You are signed out."))
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))
