"""Open311 tables: the channels allowed to submit requests, and what each request brought
that the case row has no column for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId


class Channel(Base):
    """A web form, app or partner system with its own api_key (only the SHA-256 is kept)."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    #: read every case as a request (a city dashboard), not only the ones it submitted
    read_all: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Open311Request(Base):
    """A case submitted through Open311: its token and the fields beyond the intake form."""

    __tablename__ = "open311_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), unique=True, index=True
    )
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    token: Mapped[str] = mapped_column(String(36), unique=True)
    service_code: Mapped[str] = mapped_column(String(64))
    address_id: Mapped[str] = mapped_column(String(120), default="")
    zipcode: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    device_id: Mapped[str] = mapped_column(String(120), default="")
    account_id: Mapped[str] = mapped_column(String(120), default="")
    media_url: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime]
