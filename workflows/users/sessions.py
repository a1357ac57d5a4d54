"""Server-side sessions: start, find, touch and end the sign-ins of a browser.

The cookie carries a random id; the table keeps its SHA-256, the user, and when it was
started, last seen and ended (with why). Ending is a write here, so a copied cookie is
refused after logout, a password change or deactivation, by every web process.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from .sign_in_models import UserSession


def token_hash(token: str) -> str:
    """The stored form of a session id."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session, *, user_id: int, stage: str, address: str, user_agent: str, now: datetime
) -> tuple[str, UserSession]:
    """A new session of ``user_id`` and the random id for its cookie (shown only here)."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=token_hash(token),
        user_id=user_id,
        stage=stage,
        created_at=now,
        last_seen_at=now,
        address=address[:64],
        user_agent=user_agent[:255],
        code_failures=0,
    )
    session.add(row)
    session.flush()
    return token, row


def find_session(session: Session, *, token: str) -> UserSession | None:
    """The session whose cookie carries ``token`` (ended or not), or None."""
    return session.scalars(
        select(UserSession).where(UserSession.token_hash == token_hash(token))
    ).first()


def find_session_with_user(session: Session, *, token: str) -> tuple | None:
    """``(session row, user, department or None)`` for ``token``, or None: :func:`find_session`
    with its user and the user's department read in the same query (one round trip per request
    instead of three). The caller keeps the three: the identity map holds only weak
    references, so a row nobody holds would be read again by the next ``session.get``."""
    from ..departments.models import Department
    from .models import User

    row = session.execute(
        select(UserSession, User, Department)
        .join(User, User.id == UserSession.user_id)
        .outerjoin(Department, Department.id == User.department_id)
        .where(UserSession.token_hash == token_hash(token))
    ).first()
    return tuple(row) if row is not None else None


def end_sessions(
    session: Session,
    *,
    user_id: int,
    reason: str,
    now: datetime,
    only_id: int | None = None,
    keep_id: int | None = None,
) -> int:
    """End the user's open sessions (one with ``only_id``, all but ``keep_id``); how many."""
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    if only_id is not None:
        stmt = stmt.where(UserSession.id == only_id)
    if keep_id is not None:
        stmt = stmt.where(UserSession.id != keep_id)
    return session.execute(stmt, execution_options={"synchronize_session": "fetch"}).rowcount


def open_sessions(
    session: Session, *, user_id: int, seen_since: datetime, created_since: datetime
) -> list[UserSession]:
    """The user's sessions still usable: not ended, not idle, not too old; newest first."""
    return list(
        session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at >= seen_since,
                UserSession.created_at >= created_since,
            )
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def signed_in_from(session: Session, *, user_id: int, address: str, since: datetime) -> bool:
    """Whether the user completed a sign-in from ``address`` since ``since``."""
    return (
        session.scalars(
            select(UserSession.id)
            .where(
                UserSession.user_id == user_id,
                UserSession.address == address[:64],
                UserSession.created_at >= since,
                UserSession.stage == "signed_in",
            )
            .limit(1)
        ).first()
        is not None
    )


def prune_sessions(session: Session, *, before: datetime) -> int:
    """Delete sessions ended, or last seen, before ``before``; how many."""
    stmt = delete(UserSession).where(
        or_(UserSession.ended_at < before, UserSession.last_seen_at < before)
    )
    return session.execute(stmt).rowcount
