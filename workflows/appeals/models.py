"""The appeals (申诉) of departments about their cases, and the centre's appeal settings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId


class Ground(StrEnum):
    """What a department appeals about (one pending appeal per case and ground)."""

    RATING = "rating"  # 评价: the citizen's satisfaction or resolution rating
    OVERDUE = "overdue"  # 超期: replied or still unreplied past reply_due, or signed for late
    REOPEN = "reopen"  # 重办


class AppealStatus(StrEnum):
    PENDING = "pending"  # 待审核
    UPHELD = "upheld"  # 申诉成立
    REJECTED = "rejected"  # 申诉驳回


class Appeal(Base):
    """One appeal: filed by a handler of the case's lead department, decided by the centre."""

    __tablename__ = "appeals"
    __table_args__ = (
        # the review queue (pending first, oldest first) and the KPIs' period
        Index("ix_appeals_status_filed", "status", "filed_at"),
        Index("ix_appeals_department_filed", "department_id", "filed_at"),
        # one pending appeal per (case, ground): the database says so too (two handlers filing
        # at once), on SQLite and PostgreSQL alike
        Index(
            "ux_appeals_pending",
            "case_id",
            "ground",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    #: the case's lead department when the appeal was filed
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    ground: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[datetime]
    #: when the thing appealed happened (the rating, the moment it became overdue, the reopen):
    #: the window of working days counts from it
    occurred_at: Mapped[datetime]
    #: the last moment the appeal could be filed (``occurred_at`` + the window)
    window_ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=AppealStatus.PENDING.value)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")


class AppealSettings(Base):
    """The centre's appeal rules, one row (id 1), edited by administrators."""

    __tablename__ = "appeal_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: working days after the thing appealed within which a department may appeal
    window_workdays: Mapped[int] = mapped_column(Integer, default=5)
    updated_at: Mapped[datetime | None]
    updated_by: Mapped[str] = mapped_column(String(64), default="")
