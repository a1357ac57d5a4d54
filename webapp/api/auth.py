"""Who is calling the API: a bearer token, never the session cookie (the API is exempt from
CSRF, so a cookie must not be enough), with the pages' roles and department rules.

Failed token checks are counted per client address; after ``FAILURES_ALLOWED`` in
``WINDOW`` the address gets 429 with ``Retry-After`` until the window has passed. The count
is per process (tokens carry 256 random bits, so this only keeps log noise and load down).
"""

from __future__ import annotations

import functools
from collections import OrderedDict, deque
from datetime import datetime, timedelta

from flask import current_app, g, request
from flask_smorest import abort

from engine.db import end_read
from workflows.api import tokens
from workflows.users.models import Role

from ..extensions import db
from ..hotline import get_hotline

FAILURES_ALLOWED = 10
WINDOW = timedelta(minutes=1)
MAX_ADDRESSES = 10_000
#: what the roles that do not work on cases may use: a phone system's token (role telephony)
#: the calls API and who it is; an auditor's (who reads the audit log on its pages) and a
#: quality reviewer's (who reviews sampled cases on the quality pages) who it is.
#: Every other role's reach is each view's own (``roles``) and the case rules.
OUTSIDE_CASES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    Role.TELEPHONY: (frozenset({"api-calls"}), frozenset({"api-reference.Me"})),
    Role.AUDITOR: (frozenset(), frozenset({"api-reference.Me"})),
    Role.QA: (frozenset(), frozenset({"api-reference.Me"})),
}


class FailureThrottle:
    """Failures per key in a sliding window (bounded memory: the oldest keys go first)."""

    def __init__(self, allowed: int = FAILURES_ALLOWED, window: timedelta = WINDOW) -> None:
        self.allowed = allowed
        self.window = window
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()

    def wait(self, key: str, now: datetime) -> timedelta | None:
        """How long ``key`` must wait before it may try again, or None."""
        times = self._failures.get(key)
        if not times:
            return None
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.allowed:
            return None
        return self.window - (now - times[0])

    def fail(self, key: str, now: datetime) -> None:
        times = self._failures.setdefault(key, deque())
        self._failures.move_to_end(key)
        times.append(now)
        while len(times) > self.allowed:
            times.popleft()
        while len(self._failures) > MAX_ADDRESSES:
            self._failures.popitem(last=False)


def throttle() -> FailureThrottle:
    return current_app.extensions.setdefault("hotline_auth_throttle", FailureThrottle())


def refuse_if_throttled(key: str) -> None:
    wait = throttle().wait(key, get_hotline().clock.now())
    if wait is not None:
        seconds = max(1, int(wait.total_seconds() + 0.999))
        abort(
            429,
            message=f"Too many failed attempts from this address: try again in {seconds} s.",
            headers={"Retry-After": str(seconds)},
        )


def authenticate() -> None:
    """``before_request`` of the API: g.user from the bearer token, or 401/429."""
    g.user = None
    g.department = None
    address = request.remote_addr or "-"
    refuse_if_throttled(address)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        abort(401, message="Send an API token: Authorization: Bearer <token>.")
    found = tokens.authenticate(db.session, token=token, clock=get_hotline().clock)
    if found is None:
        throttle().fail(address, get_hotline().clock.now())
        abort(401, message="The API token is unknown, revoked, or its user is inactive.")
    g.user, g.department = found
    reach = OUTSIDE_CASES.get(g.user.role)
    if reach is not None and not (request.blueprint in reach[0] or request.endpoint in reach[1]):
        if g.user.role == Role.TELEPHONY:
            abort(403, message="A telephony token sends call events and reads calls, nothing else.")
        abort(403, message=f"Your role ({g.user.role}) does not work on cases through the API.")
    end_read(db.session)  # a write's unit of work would otherwise read them again


def require(*roles: Role) -> None:
    """403 unless the token's user has one of ``roles``."""
    if g.user.role not in {str(r) for r in roles}:
        allowed = ", ".join(str(r) for r in roles)
        abort(403, message=f"Your role ({g.user.role}) may not do this; it is for: {allowed}.")


def roles(*allowed: Role):
    """``require(*allowed)`` before anything else of the view (arguments included): a role
    that may not gets 403, not a validation error about a request it may not make."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            require(*allowed)
            return view(*args, **kwargs)

        return wrapped

    return decorator
