"""Departments: a tree of city, district and street units; platforms can dispatch."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    #: city, district or street
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    #: a dispatch platform (the city centre, a district platform) routes cases to units below
    is_platform: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the unit's duty phone and e-mail: alerts for the unit go to them (and to its handlers)
    duty_phone: Mapped[str] = mapped_column(String(32), default="")
    duty_email: Mapped[str] = mapped_column(String(254), default="")
    #: the unit's own system: alerts are POSTed to it as JSON, signed with ``webhook_secret``
    webhook_url: Mapped[str] = mapped_column(String(500), default="")
    webhook_secret: Mapped[str] = mapped_column(String(128), default="")
