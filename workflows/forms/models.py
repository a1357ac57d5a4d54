"""Stored form versions: every save of a form is a new row, never an update."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


class FormVersion(Base):
    """One version of one form: the form-js JSON as saved, who saved it, when and why.

    ``schema`` is the text (not a JSON column) so that an export gives back the file as it
    was written; ``sha256`` is of its canonical form (sorted keys, no blanks), so a save
    that only reorders or reformats is recognised as unchanged."""

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    schema: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    #: "file" (seeded from forms/ by ``hotline init`` or a deploy) or "editor"
    source: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(120))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
