"""The dispatch catalogue: category and area -> the department that usually handles it."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


class DispatchRule(Base):
    __tablename__ = "dispatch_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    #: a district department code, or "*" for any area
    area: Mapped[str] = mapped_column(String(32), default="*")
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    #: higher wins when several rules match
    priority: Mapped[int] = mapped_column(Integer, default=0)
