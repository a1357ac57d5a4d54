"""Who is signed in, what they may do, and how passwords are checked.

Passwords are hashed with scrypt (Werkzeug's default, a current memory-hard algorithm). Every
attempt is first checked against the throttle (``workflows/users/throttle.py``, counts in the
database, shared by all processes): a throttled attempt is refused with the wait before any
hash is computed, and a process runs at most ``SIGNIN_CONCURRENT_HASHES`` hashes at once.
Unknown user names cost what real ones do (a dummy hash, the same failure row).

A sign-in is a row of ``user_sessions``; the cookie carries only its random id. Each request
checks the row: ended (logout, password change, deactivation, an administrator), idle longer
than ``SESSION_IDLE_MINUTES`` or older than ``SESSION_MAX_HOURS`` sends the browser to sign in
again. A user with a second factor (TOTP) is only half signed in after the password; a role in
``TOTP_REQUIRED_ROLES`` without one must enrol before reaching any page. Roles are enforced on
every view with ``roles_required``; what a handler may see is enforced again in the queries of
``workflows``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from engine.db import end_read, unit_of_work
from workflows.departments.models import Department
from workflows.users import sessions, throttle, totp
from workflows.users.models import Role, User
from workflows.users.service import SYSTEM_USERNAMES, by_username
from workflows.users.sign_in_models import SessionStage, UserSession

from . import signals
from .extensions import db
from .hotline import get_hotline

#: a hash to check against when the user does not exist, so timing does not tell
_DUMMY_HASH = generate_password_hash("not a password")
#: last_seen_at is written at most this often (idle expiry is this coarse)
TOUCH_EVERY = timedelta(seconds=60)
#: wrong codes in one half-signed-in session before it ends (the password is asked again)
CODE_FAILURES_ALLOWED = 5
#: sessions ended or unused this long ago are deleted
KEEP_SESSIONS = timedelta(days=30)
#: recently signed in from an address: that address is spared the per-account limit
KNOWN_ADDRESS = timedelta(days=30)
#: what a half-signed-in browser may open
PENDING_ENDPOINTS = {
    "auth.login",
    "auth.login_code",
    "auth.enrol",
    "auth.logout",
    "auth.language",
    "static",
}


def hash_password(password: str) -> str:
    return generate_password_hash(password)


class SignInRefused(Exception):
    """``wait`` set: throttled (429); ``busy``: too many checks at once (503)."""

    def __init__(self, message: str, *, wait: timedelta | None = None, busy: bool = False):
        self.wait = wait
        self.busy = busy
        super().__init__(message)


# -- password policy ------------------------------------------------------------------------


def password_problem(password: str) -> str | None:
    """What is wrong with ``password`` as a new password (translated), or None."""
    config = current_app.config
    length = int(config["PASSWORD_MIN_LENGTH"])
    wanted = min(4, int(config["PASSWORD_CLASSES"]))
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if len(password) < length or classes < wanted:
        return _(
            "At least %(length)s characters, with at least %(classes)s of: lower case, "
            "upper case, digits, other characters.",
            length=length,
            classes=wanted,
        )
    return None


# -- checking passwords ---------------------------------------------------------------------


def limits() -> throttle.Limits:
    config = current_app.config
    return throttle.Limits(
        window=timedelta(minutes=float(config["SIGNIN_WINDOW_MINUTES"])),
        free_failures=int(config["SIGNIN_FREE_FAILURES"]),
        max_delay=timedelta(seconds=float(config["SIGNIN_MAX_DELAY_SECONDS"])),
        per_address=int(config["SIGNIN_ADDRESS_FAILURES"]),
        per_account=int(config["SIGNIN_ACCOUNT_FAILURES"]),
        password_accounts=int(config["SIGNIN_PASSWORD_ACCOUNTS"]),
    )


def client_address() -> str:
    return (request.remote_addr or "-")[:64]


def password_key(password: str) -> str:
    """A keyed HMAC of a password tried: the same for the same password, useless without
    the secret key, and short (128 bits) so it is no hash of record."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, password.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


def _hash_slots() -> threading.BoundedSemaphore:
    slots = current_app.extensions.get("hotline_hash_slots")
    if slots is None:
        slots = current_app.extensions.setdefault(
            "hotline_hash_slots",
            threading.BoundedSemaphore(max(1, int(current_app.config["SIGNIN_CONCURRENT_HASHES"]))),
        )
    return slots


def _check_hash(stored: str, password: str) -> bool:
    slots = _hash_slots()
    if not slots.acquire(blocking=False):
        raise SignInRefused("too many sign-ins at once", wait=timedelta(seconds=1), busy=True)
    try:
        return check_password_hash(stored, password)
    finally:
        slots.release()


def sign_in_failed_signal(username: str, reason: str) -> None:
    """Announce a refused attempt (webapp/signals.py)."""
    signals.sign_in_failed.send(
        current_app._get_current_object(), username=username, ip=client_address(), reason=reason
    )


def _refuse(username: str, reason: str, exc: SignInRefused) -> SignInRefused:
    sign_in_failed_signal(username, reason)
    return exc


def authenticate(username: str, password: str, *, now: datetime) -> User:
    """The user, or SignInRefused (bad credentials, inactive, throttled or busy)."""
    address = client_address()
    key = password_key(password)
    user = by_username(db.session, username) if username else None
    known = sessions.signed_in_from(
        db.session, user_id=user.id if user else 0, address=address, since=now - KNOWN_ADDRESS
    )
    wait = throttle.wait_before_attempt(
        db.session,
        username=username,
        address=address,
        password_key=key,
        known_address=known,
        now=now,
        limits=limits(),
    )
    if wait is not None:
        raise _refuse(username, "throttled", SignInRefused("too many failed attempts", wait=wait))
    # a system user (the SMS callbacks') never signs in, even if a password was set on it
    # and neither does the phone system's (a telephony user only holds an API token)
    usable = (
        user is not None
        and bool(user.password_hash)
        and user.username not in SYSTEM_USERNAMES
        and user.role != Role.TELEPHONY
    )
    try:
        right = _check_hash(user.password_hash if usable else _DUMMY_HASH, password) and usable
    except SignInRefused as exc:
        raise _refuse(username, "throttled", exc) from None
    if right and user.active:
        with unit_of_work(db.session):
            throttle.forget_failures(db.session, username=username, address=address)
        return user
    with unit_of_work(db.session):
        throttle.record_failure(
            db.session,
            username=username,
            address=address,
            password_key=None if right else key,
            now=now,
            limits=limits(),
        )
    reason = "inactive" if right else "wrong"
    wait = throttle.wait_before_attempt(
        db.session,
        username=username,
        address=address,
        password_key=None,
        known_address=known,
        now=now,
        limits=limits(),
    )
    if wait is not None:
        raise _refuse(username, reason, SignInRefused("too many failed attempts", wait=wait))
    raise _refuse(username, reason, SignInRefused("wrong username or password"))


# -- sessions -------------------------------------------------------------------------------


def required_roles() -> set[str]:
    raw = str(current_app.config.get("TOTP_REQUIRED_ROLES") or "")
    return {part.strip() for part in raw.split(",") if part.strip()}


def stage_for(user: User) -> str:
    """Where a right password leaves the user: code, enrolment, or signed in."""
    if totp.is_enabled(db.session, user_id=user.id):
        return SessionStage.CODE
    if user.role in required_roles():
        return SessionStage.ENROL
    return SessionStage.SIGNED_IN


def sign_in(user: User) -> str:
    """Start a session for ``user`` after the right password; the stage it is at."""
    now = get_hotline().clock.now()
    stage = stage_for(user)
    previous = g.get("session_row")
    if previous is not None:  # signing in again in this browser replaces its session
        end_sessions(previous.user_id, "logout", only_id=previous.id)
    with unit_of_work(db.session):
        sessions.prune_sessions(db.session, before=now - KEEP_SESSIONS)
        token, _row = sessions.start_session(
            db.session,
            user_id=user.id,
            stage=stage,
            address=client_address(),
            user_agent=request.headers.get("User-Agent", ""),
            now=now,
        )
    lang = session.get("lang")
    session.clear()
    session["sid"] = token
    if lang:
        session["lang"] = lang
    session.permanent = True
    if stage == SessionStage.SIGNED_IN:
        signals.signed_in.send(current_app._get_current_object(), user=user, ip=client_address())
    return stage


def complete_sign_in(row: UserSession, user: User) -> None:
    """The second factor is right (or set up): the half-signed-in session becomes a sign-in."""
    with unit_of_work(db.session):
        current = db.session.get(UserSession, row.id)
        current.stage = SessionStage.SIGNED_IN
        current.last_seen_at = get_hotline().clock.now()
    signals.signed_in.send(current_app._get_current_object(), user=user, ip=client_address())


def end_sessions(
    user_id: int, reason: str, *, only_id: int | None = None, keep_id: int | None = None
) -> int:
    """End sessions of ``user_id`` (see ``workflows.users.sessions.end_sessions``) and say so."""
    with unit_of_work(db.session):
        ended = sessions.end_sessions(
            db.session,
            user_id=user_id,
            reason=reason,
            now=get_hotline().clock.now(),
            only_id=only_id,
            keep_id=keep_id,
        )
    if ended:
        signals.sessions_ended.send(
            current_app._get_current_object(), user_id=user_id, reason=reason, sessions=ended
        )
    return ended


def _forget_session() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def sign_out() -> None:
    row = g.get("session_row")
    if row is not None:
        end_sessions(row.user_id, "logout", only_id=row.id)
    _forget_session()


def current_session() -> UserSession | None:
    """This browser's session row (signed in or half signed in), or None."""
    return g.get("session_row")


def _ended_message(reason: str) -> str:
    if reason == "idle":
        return _("You were signed out after a period of inactivity. Please sign in again.")
    if reason == "expired":
        return _("Your session has reached its maximum length. Please sign in again.")
    return _("Your session has ended. Please sign in again.")


def _expiry(row: UserSession, user: User | None, now: datetime) -> str | None:
    config = current_app.config
    if user is None or not user.active:
        return "deactivated"
    if now - row.created_at >= timedelta(hours=float(config["SESSION_MAX_HOURS"])):
        return "expired"
    if now - row.last_seen_at >= timedelta(minutes=float(config["SESSION_IDLE_MINUTES"])):
        return "idle"
    return None


def load_current_user():
    """``before_request``: g.user from the session row, or none; a half-signed-in browser
    is sent to the code or enrolment page."""
    g.user = None
    g.department = None
    g.session_row = None
    token = session.get("sid")
    if not isinstance(token, str):
        if "user_id" in session:  # a cookie from before server-side sessions
            _forget_session()
        return None
    found = sessions.find_session_with_user(db.session, token=token)
    row, user, department = found if found is not None else (None, None, None)
    if row is None or row.ended_at is not None:
        _forget_session()
        flash(_ended_message(row.end_reason if row else ""))
        return None
    now = get_hotline().clock.now()
    reason = _expiry(row, user, now)
    if reason is not None:
        end_sessions(row.user_id, reason, only_id=row.id)
        _forget_session()
        flash(_ended_message(reason))
        return None
    if now - row.last_seen_at >= TOUCH_EVERY and not unattended():
        with unit_of_work(db.session):
            db.session.get(UserSession, row.id).last_seen_at = now
        user = db.session.get(User, row.user_id)
        department = db.session.get(Department, user.department_id) if user.department_id else None
    g.session_row = row
    if row.stage != SessionStage.SIGNED_IN:
        if request.endpoint in PENDING_ENDPOINTS or request.blueprint in ("api", "open311"):
            return None
        target = "auth.login_code" if row.stage == SessionStage.CODE else "auth.enrol"
        return redirect(url_for(target))
    g.user = user
    g.department = department
    end_read(db.session)  # a write's unit of work would otherwise read them again
    return None


def unattended() -> bool:
    """A request an open page makes by itself (the bell's poll, a live list fetched again):
    it does not count as use, so a tab left open still ends its session when idle."""
    return request.endpoint == "notifications.poll" or request.headers.get("X-Live") == "1"


def current_user() -> User:
    return g.user


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def roles_required(*roles: Role | str) -> Callable:
    """Signed in, and with one of ``roles`` (403 otherwise)."""
    allowed = {str(r) for r in roles}

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("user") is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if g.user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed  # type: ignore[attr-defined]
        return wrapped

    return decorator
