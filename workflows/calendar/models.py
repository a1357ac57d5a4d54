"""Exceptions to the weekday rule: public holidays and weekend working days (调休)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


class CalendarDay(Base):
    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: "holiday" (a weekday off) or "workday" (a weekend day worked)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(120), default="")
    #: "holidays" when seeded from the holidays package, "admin" when set by an administrator
    source: Mapped[str] = mapped_column(String(16), default="admin")
    updated_at: Mapped[datetime]
