"""The quality review's tables: scoring sheets (versioned), monthly samples, reviews, disputes.

A sheet is never edited in place: saving it writes a new version, and every review points at
the version it was scored on, so a changed sheet never rewrites an old score.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId, JSONType


class ScoringSheet(Base):
    """One version of the centre's scoring sheet: items with their maximum points."""

    __tablename__ = "quality_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(120))
    #: [{"key": ..., "label": 中文, "label_en": ..., "max_points": int}, ...] in order
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64), default="")


class SampleDraw(Base):
    """That an operator's month was drawn, how many were asked and how many cases there were:
    drawing the month again finds this row and changes nothing."""

    __tablename__ = "quality_draws"
    __table_args__ = (UniqueConstraint("month", "operator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the 1st of the local month
    month: Mapped[date] = mapped_column(Date)
    operator: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    drawn_at: Mapped[datetime]
    drawn_by: Mapped[str] = mapped_column(String(64))


class SampledCase(Base):
    """One case of an operator's monthly sample."""

    __tablename__ = "quality_samples"
    __table_args__ = (
        UniqueConstraint("month", "operator", "case_id"),
        Index("ix_quality_samples_operator", "operator", "month"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("quality_draws.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)
    operator: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    #: the order the draw picked it in (1, 2, ...)
    position: Mapped[int] = mapped_column(Integer)


class Review(Base):
    """A reviewer's scores of one sampled case, on the sheet version it was scored on."""

    __tablename__ = "quality_reviews"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sample_id: Mapped[int] = mapped_column(
        ForeignKey("quality_samples.id", ondelete="CASCADE"), unique=True
    )
    sheet_id: Mapped[int] = mapped_column(ForeignKey("quality_sheets.id"))
    month: Mapped[date] = mapped_column(Date)
    operator: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    reviewer: Mapped[str] = mapped_column(String(64))
    #: item key -> points given
    scores: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    total: Mapped[int] = mapped_column(Integer)
    max_total: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    #: scored, or voided (an upheld dispute took it out of the report)
    status: Mapped[str] = mapped_column(String(16), default="scored")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Dispute(Base):
    """An operator's dispute of a review, and how it was decided: the trail of a review."""

    __tablename__ = "quality_disputes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("quality_reviews.id", ondelete="CASCADE"), unique=True
    )
    operator: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime]
    #: open, upheld or rejected
    status: Mapped[str] = mapped_column(String(16), default="open")
    #: when upheld: corrected (new scores) or voided (the review leaves the report)
    outcome: Mapped[str] = mapped_column(String(16), default="")
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    #: the scores and total before and after a correction
    scores_before: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    scores_after: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
