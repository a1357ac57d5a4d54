"""The evaluation's tables: the scoring schemes (kept as history), the centre's bonus items and
the published bulletins with their frozen figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, JSONType


class ScoringScheme(Base):
    """One version of the scoring scheme. A month is scored by the version in force on its
    first day: the latest ``effective_from`` not after it (the latest saved, on a tie)."""

    __tablename__ = "evaluation_schemes"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the first month (its 1st) this version scores
    effective_from: Mapped[date] = mapped_column(Date, index=True)
    #: KPI -> weight (points at a 100% rate)
    weights: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: penalty item -> {"points": points off per case or order, "cap": most points off}
    penalties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: the most bonus points a unit gets in a month
    bonus_cap: Mapped[float] = mapped_column(Float, default=0.0)
    #: dispatched cases below which a unit is listed but not ranked
    min_cases: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64), default="")


class ScoreBonus(Base):
    """A bonus item the centre enters for a unit's month, with its reason."""

    __tablename__ = "evaluation_bonuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64), default="")


class Bulletin(Base):
    """A published monthly bulletin: its figures frozen in ``snapshot`` when published; an
    upheld appeal revises one unit's row and is listed in ``revisions``."""

    __tablename__ = "evaluation_bulletins"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, unique=True)
    published_at: Mapped[datetime]
    published_by: Mapped[str] = mapped_column(String(64), default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: {"items": [{"at", "case_id", "department_id", "before", "after"}, ...]}
    revisions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    revised_at: Mapped[datetime | None]
