"""The bell: a person's in-app notifications, read and marked read (only their own rows).

Every read here filters on ``user_id`` first and is served by ``ix_notifications_user_read``
(user_id, read_at, id): the unread count the bell shows on every page reads at most
:data:`BELL_CAP` index entries, however many notifications a person has piled up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, literal_column, select, update
from sqlalchemy.orm import Session

from engine.db import unit_of_work

from ..cases.models import Case
from .models import Notification
from .notices import Notice

#: the bell counts this far and shows "99+" past it (a count that stops reading early)
BELL_CAP = 100


def add(
    session: Session,
    *,
    user_id: int,
    case_id: int | None,
    kind: Notice | str,
    text: str,
    at: datetime,
    key: str,
) -> Notification:
    """One notification for one person (a key already written makes nothing new)."""
    found = session.scalar(select(Notification).where(Notification.key == key))
    if found is not None:
        return found
    row = Notification(
        key=key,
        user_id=user_id,
        case_id=case_id,
        kind=str(kind),
        text=text,
        created_at=at,
        delivered_at=at,
    )
    session.add(row)
    session.flush()
    return row


def unread_count(session: Session, *, user_id: int, cap: int = BELL_CAP) -> int:
    """How many of the person's notifications are unread, counted up to ``cap``."""
    first = (
        select(literal_column("1"))
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .limit(cap)
    )
    return session.scalar(select(func.count()).select_from(first.subquery())) or 0


def listing(*, user_id: int, unread_only: bool = False) -> Select:
    """The person's notifications with their case's number, newest first (for a page)."""
    stmt = (
        select(Notification, Case.number)
        .outerjoin(Case, Case.id == Notification.case_id)
        .where(Notification.user_id == user_id)
    )
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt.order_by(Notification.id.desc())


def own(session: Session, *, user_id: int, notification_id: int) -> Notification | None:
    """One of the person's notifications; another person's is None, as if it did not exist."""
    row = session.get(Notification, notification_id)
    return row if row is not None and row.user_id == user_id else None


def case_number(session: Session, *, case_id: int) -> str | None:
    return session.scalar(select(Case.number).where(Case.id == case_id))


def mark_read(session: Session, *, user_id: int, notification_id: int, now: datetime) -> bool:
    """Mark one of the person's notifications read (already read: unchanged); False when it
    is not theirs."""
    with unit_of_work(session):
        row = own(session, user_id=user_id, notification_id=notification_id)
        if row is None:
            return False
        if row.read_at is None:
            row.read_at = now
    return True


def mark_all_read(session: Session, *, user_id: int, now: datetime) -> int:
    """Mark every unread notification of the person read; how many were."""
    with unit_of_work(session):
        result = session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)


def version(session: Session, *, user_id: int) -> str:
    """A token that changes when the person's list changes: a new notification (the newest
    unread id: one seek at the end of the index's unread range) or one read (the count)."""
    newest = session.scalar(
        select(func.max(Notification.id)).where(
            Notification.user_id == user_id, Notification.read_at.is_(None)
        )
    )
    return f"{newest or 0}.{unread_count(session, user_id=user_id)}"
