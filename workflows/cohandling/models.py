"""A co-handling unit's part: what it sent the lead department, by its own deadline or late."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId


class CohandlingPart(Base):
    """One answered co-handling task (step ``cohandle``): written in the step that completes
    it, so the lead's reply form, the case page and the API read it without the workflow."""

    __tablename__ = "cohandling_parts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    #: the engine's task id of the co-handling task answered (one part per task)
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    answered_at: Mapped[datetime]
    #: the task's own deadline (from the policy's ``cohandle`` limit)
    due_at: Mapped[datetime | None]
    #: answered by ``due_at`` (a task without a deadline is always on time)
    on_time: Mapped[bool] = mapped_column(Boolean)
