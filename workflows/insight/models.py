"""The tables insight shares: the centre's dictionary of terms, and its areas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId, JSONType


class Term(Base):
    """A word of the centre's dictionary, kept by administrators: a place name or a term the
    segmenter must keep whole (``place``, ``term``), or a word never counted (``stop``)."""

    __tablename__ = "insight_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(40), unique=True)
    #: place, term or stop (``TERM_KINDS``)
    kind: Mapped[str] = mapped_column(String(8))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]


TERM_KINDS = ("place", "term", "stop")


class Area(Base):
    """An area cases come from (``cases.area``: a district's code): its name, its population
    (for cases per 10,000 residents) and its boundary (a GeoJSON geometry, Polygon or
    MultiPolygon in longitude/latitude, from a file the centre uploads)."""

    __tablename__ = "insight_areas"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    name_en: Mapped[str] = mapped_column(String(120), default="")
    population: Mapped[int | None] = mapped_column(Integer)
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    updated_at: Mapped[datetime]


class Wave(Base):
    """A hot-topic wave (热点): a word of the descriptions, a category, or a category in one
    area, far above its usual count (``workflows/insight/waves.py`` detects them)."""

    __tablename__ = "insight_waves"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: word, category or category_area (``WAVE_KINDS``)
    kind: Mapped[str] = mapped_column(String(16))
    #: the word, the category, or ``category|area``
    key: Mapped[str] = mapped_column(String(200), index=True)
    #: what pages show: the key, then the other flagged keys of the same cases
    label: Mapped[str] = mapped_column(String(300), default="")
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    #: open or ended
    status: Mapped[str] = mapped_column(String(8), default="open", index=True)
    peak_count: Mapped[int] = mapped_column(Integer, default=0)
    #: the usual count of a window when it opened
    baseline: Mapped[float] = mapped_column(Float, default=0.0)
    #: the knowledge-base article every intake page shows while the wave is open
    pinned_article_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_articles.id"))
    #: the tag its cases were last tagged with in bulk
    tag: Mapped[str] = mapped_column(String(40), default="")


WAVE_KINDS = ("word", "category", "category_area")


class CaseTag(Base):
    """A tag on a case (e.g. every case of a wave, tagged in bulk from the wave's page)."""

    __tablename__ = "case_tags"
    __table_args__ = (UniqueConstraint("case_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id"), index=True)
    tag: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
