"""Notifications: the outbox handler that delivers them, and the reads of a department's."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.outbox import Message

from .models import Notification

#: the outbox topic of notifications to departments
TOPIC = "notify.department"


class NotificationKind(StrEnum):
    DISPATCHED = "dispatched"  # a case was dispatched to the department: sign for it
    SIGN_OVERDUE = "sign_overdue"  # nobody signed for it in time
    REPLY_OVERDUE = "reply_overdue"  # the reply deadline passed
    SUPERVISED = "supervised"  # a supervisor is chasing the case


class Deliverer:
    """The outbox handler of :data:`TOPIC`: one notification row per message key."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def __call__(self, session: Session, message: Message) -> None:
        # A message is handled again when a worker died before marking it done (its effect
        # here rolled back with it) or when its lease expired under a slow worker (its
        # effect may have committed): the key says whether it did.
        if session.scalar(select(Notification.id).where(Notification.key == message.key)):
            return
        payload = message.payload
        session.add(
            Notification(
                key=message.key,
                department_id=int(payload["department_id"]),
                case_id=int(payload["case_id"]),
                kind=NotificationKind(payload["kind"]),
                created_at=datetime.fromisoformat(payload["at"]),
                delivered_at=self.clock.now(),
            )
        )
        session.flush()


def unread(session: Session, *, department_id: int, limit: int = 50) -> list[Notification]:
    """A department's unread notifications, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.department_id == department_id, Notification.read_at.is_(None))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )
