"""One row per attached file; the bytes live in the file store (``storage.py``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId


class Attachment(Base):
    """A file attached to a case: where it came from, who added it, what it really is."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    #: intake, note, task, appeal, open311, api
    source: Mapped[str] = mapped_column(String(16))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    #: the name the uploader gave it (shown and offered on download; never a path)
    file_name: Mapped[str] = mapped_column(String(255))
    #: the type found in its bytes (never the name's extension or the browser's word)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(80))
    thumb_key: Mapped[str | None] = mapped_column(String(80), default=None)
    created_at: Mapped[datetime]
