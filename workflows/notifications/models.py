"""A notification: a department is told that one of its cases needs it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId


class Notification(Base):
    """One message to a department about a case, delivered once per outbox key."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_department_read", "department_id", "read_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: the outbox message's key: a message handled twice still makes one notification
    key: Mapped[str] = mapped_column(String(255), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    #: dispatched, sign_overdue, reply_overdue, supervised
    kind: Mapped[str] = mapped_column(String(32))
    #: when the event happened (the step's time), not when the worker delivered it
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
