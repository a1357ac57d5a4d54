"""The tables insight shares: the centre's dictionary of terms, and its areas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, JSONType


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
