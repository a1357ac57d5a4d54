"""The table of the dispatch models learned from history (workflows/insight/dispatch_model.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, JSONType


class DispatchModel(Base):
    """One training: when, by whom, on how many closed cases, its holdout figures, and the
    fitted pipeline (joblib bytes). One row is ``active``: the one the pages and the API ask."""

    __tablename__ = "dispatch_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trained_at: Mapped[datetime]
    trained_by: Mapped[str] = mapped_column(String(64), default="")
    #: the closed cases it learned from (training and holdout together)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    model: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
