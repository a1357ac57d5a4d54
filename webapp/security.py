"""Who is signed in, what they may do, and how passwords are checked.

Passwords are hashed with scrypt (Werkzeug's default, a current memory-hard algorithm). Failed
sign-ins are slowed down per account: after three failures the account waits 2, 4, 8... up to
300 seconds before another attempt is even checked. Roles are enforced on every view with
``roles_required``; what a handler may see is enforced again in the queries of ``workflows``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import abort, g, redirect, request, session, url_for
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from engine.db import end_read
from workflows.departments.models import Department
from workflows.users.models import Role, User

from .extensions import db

FREE_FAILURES = 3
MAX_DELAY = timedelta(seconds=300)
#: a hash to check against when the user does not exist, so timing does not tell
_DUMMY_HASH = generate_password_hash("not a password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


class SignInRefused(Exception):
    def __init__(self, message: str, *, wait: timedelta | None = None) -> None:
        self.wait = wait
        super().__init__(message)


def authenticate(username: str, password: str, *, now: datetime) -> User:
    """The user, or SignInRefused (bad credentials, inactive, or still slowed down)."""
    user = db.session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        raise SignInRefused("wrong username or password")
    locked = user.locked_until is not None and user.locked_until > now
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= FREE_FAILURES:
            delay = min(MAX_DELAY, timedelta(seconds=2 ** (user.failed_logins - FREE_FAILURES + 1)))
            user.locked_until = now + delay
        db.session.commit()
        if locked or user.locked_until is not None and user.locked_until > now:
            raise SignInRefused("too many failed attempts", wait=user.locked_until - now)
        raise SignInRefused("wrong username or password")
    if locked:  # right password, but the account still has to wait
        raise SignInRefused("too many failed attempts", wait=user.locked_until - now)
    user.failed_logins = 0
    user.locked_until = None
    db.session.commit()
    return user


def sign_in(user: User) -> None:
    session.clear()
    session["user_id"] = user.id
    session.permanent = True


def sign_out() -> None:
    session.clear()


def load_current_user() -> None:
    g.user = None
    g.department = None
    user_id = session.get("user_id")
    if user_id is not None:
        user = db.session.get(User, user_id)
        if user is not None and user.active:
            g.user = user
            g.department = (
                db.session.get(Department, user.department_id) if user.department_id else None
            )
            end_read(db.session)  # a write's unit of work would otherwise read them again
        else:
            session.clear()


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
