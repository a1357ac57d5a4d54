"""API tokens: create (shown once), authenticate by hash, list and revoke.

A token is ``hl_`` plus 43 URL-safe characters from :func:`secrets.token_urlsafe` (256 random
bits), so a plain SHA-256 is enough to store it: nothing is gained by a slow hash when the
secret cannot be guessed, and a lookup by hash is one indexed query per request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import unit_of_work
from engine.errors import NotFound

from ..departments.models import Department
from ..errors import Forbidden, FormInvalid
from ..users.models import Role, User
from ..users.service import SYSTEM_USERNAMES
from .models import ApiToken

PREFIX = "hl_"
MAX_NAME = 120
#: how stale ``last_used_at`` may get before a request writes it again (one write per minute
#: per token at most, instead of one per request)
TOUCH_EVERY = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session, *, user: User, name: str, clock: Clock, created_by: User | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user`` (by the user, or by an administrator): the row and the token,
    which is never shown again."""
    name = (name or "").strip()
    if not name:
        raise FormInvalid({"name": ["Give the token a name (what uses it)."]})
    if len(name) > MAX_NAME:
        raise FormInvalid({"name": [f"At most {MAX_NAME} characters."]})
    by = created_by or user
    if by.id != user.id and by.role != Role.ADMIN:
        raise Forbidden(f"{by.username} may not create tokens for {user.username}")
    if not user.active:
        raise FormInvalid({"user": [f"{user.username} is not active."]})
    token = PREFIX + secrets.token_urlsafe(32)
    with unit_of_work(session):
        row = ApiToken(
            user_id=user.id,
            name=name,
            token_hash=hash_token(token),
            prefix=token[: len(PREFIX) + 6],
            created_at=clock.now(),
            created_by=by.username,
        )
        session.add(row)
        session.flush()
    return row, token


def authenticate(
    session: Session, *, token: str, clock: Clock
) -> tuple[User, Department | None] | None:
    """The active user a live token belongs to, with the user's department, or None. Notes
    when it was last used."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    # the department in the same query: one statement per request instead of two
    row = session.execute(
        select(ApiToken, User, Department)
        .join(User, User.id == ApiToken.user_id)
        .outerjoin(Department, Department.id == User.department_id)
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    found, user, department = row
    if found.revoked_at is not None or not user.active or user.username in SYSTEM_USERNAMES:
        return None
    now = clock.now()
    if found.last_used_at is None or now - found.last_used_at >= TOUCH_EVERY:
        token_id = found.id
        with unit_of_work(session):
            fresh = session.get(ApiToken, token_id)
            if fresh is not None:
                fresh.last_used_at = now
        user = session.get(User, user.id)
        department = session.get(Department, user.department_id) if user.department_id else None
    return user, department


def tokens_of(session: Session, *, viewer: User | None, username: str | None = None) -> Select:
    """The tokens a user may see, newest first: their own, or (administrators, and the
    command line with ``viewer=None``) anyone's, or ``username``'s."""
    stmt = select(ApiToken, User).join(User, User.id == ApiToken.user_id)
    if viewer is not None and viewer.role != Role.ADMIN:
        stmt = stmt.where(ApiToken.user_id == viewer.id)
    elif username:
        stmt = stmt.where(User.username == username)
    return stmt.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())


def revoke_token(session: Session, *, token_id: int, by: User | None, clock: Clock) -> ApiToken:
    """Revoke a token (its owner or an administrator; ``by=None`` is the command line).
    Revoking twice changes nothing."""
    with unit_of_work(session):
        row = session.get(ApiToken, token_id)
        if row is None or (by is not None and by.role != Role.ADMIN and row.user_id != by.id):
            raise NotFound(f"token {token_id} does not exist")
        if row.revoked_at is None:
            row.revoked_at = clock.now()
            row.revoked_by = by.username if by is not None else "cli"
        session.flush()
    return row
