"""Writing the audit log from the web app: the signed-in user and their address as the actor,
the request's unit of work as the transaction; and the sign-in signals' listeners.

``record`` joins the unit of work that is open (the change it records), so a refused change
leaves no row and a committed one cannot lose it; outside a unit of work (a page that only
shows) it opens its own.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context, request

from engine.db import end_read, in_unit_of_work, unit_of_work
from workflows.audit.service import SYSTEM_ACTOR, Actor, append
from workflows.users.models import User

from .. import signals
from ..extensions import db
from ..hotline import get_hotline


def _address() -> str:
    return (request.remote_addr or "") if has_request_context() else ""


def current_actor() -> Actor:
    user = g.get("user") if has_request_context() else None
    if user is None:
        return Actor(SYSTEM_ACTOR, None, _address())
    return Actor(user.username, user.id, _address())


def record(
    action: str,
    *,
    target_type: str = "",
    target_id: str | int | None = "",
    case_number: str = "",
    actor: Actor | None = None,
    **detail: Any,
) -> None:
    """One audit row for what the signed-in user just did (or is about to be shown)."""
    session = db.session
    values = {
        "at": get_hotline().clock.now(),
        "actor": actor or current_actor(),
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "case_number": case_number,
        "detail": detail,
    }
    if in_unit_of_work(session):
        append(session, **values)
        return
    end_read(session)
    with unit_of_work(session):
        append(session, **values)


def _sign_in_failed(sender, *, username: str, ip: str, reason: str, **_: Any) -> None:
    record(
        "session.sign_in_failed",
        target_type="user",
        target_id=username[:64],
        actor=Actor(username[:120] or "-", None, ip or ""),
        reason=reason,
    )


def _signed_in(sender, *, user, ip: str, **_: Any) -> None:
    record(
        "session.sign_in",
        target_type="user",
        target_id=user.id,
        actor=Actor(user.username, user.id, ip or ""),
    )


def _sessions_ended(sender, *, user_id: int, reason: str, sessions: int = 1, **_: Any) -> None:
    # the user's own sign-out (or an idle or expired session): the actor is the user; an
    # administrator's change that ended them is recorded as the administrator's
    actor = current_actor()
    if actor.user_id is None or reason in ("logout", "idle", "expired"):
        user = db.session.get(User, user_id)
        actor = Actor(user.username if user else f"user:{user_id}", user_id, _address())
    record(
        "session.end",
        target_type="user",
        target_id=user_id,
        actor=actor,
        reason=reason,
        sessions=sessions,
    )


def init_app(app: Flask) -> None:
    # weak=False: the listeners are module functions, kept for the app's life anyway
    signals.sign_in_failed.connect(_sign_in_failed, sender=app, weak=False)
    signals.signed_in.connect(_signed_in, sender=app, weak=False)
    signals.sessions_ended.connect(_sessions_ended, sender=app, weak=False)
