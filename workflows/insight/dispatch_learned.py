"""What the pages and the API show of the dispatch model: its top three units for a case, or
why not (no model, a stale one, its units gone or inactive), beside the catalogue's unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from . import dispatch_model
from .dispatch_table import DispatchModel

#: why no suggestions are shown (the pages translate these)
NO_MODEL = "no_model"
STALE = "stale"
NO_UNITS = "no_units"
NOTHING_TO_GO_ON = "empty"


@dataclass
class Learned:
    """The model's suggestions (best first), or the reason there are none."""

    suggestions: list[dispatch_model.Suggestion] = field(default_factory=list)
    reason: str = ""
    model: DispatchModel | None = None


def learned(
    session: Session,
    *,
    description: str,
    category: str,
    area: str,
    now: datetime,
    max_age_days: float,
) -> Learned:
    """The active model's top three for (description, category, area), unless it is older
    than ``max_age_days`` (0: never stale) or there is nothing to go on."""
    model = dispatch_model.active(session)
    if model is None:
        return Learned(reason=NO_MODEL)
    if max_age_days and now - model.trained_at > timedelta(days=max_age_days):
        return Learned(reason=STALE, model=model)
    if not (description or "").strip() and not (category or "").strip():
        return Learned(reason=NOTHING_TO_GO_ON, model=model)
    found = dispatch_model.predict(session, description or "", category or "", area or "")
    if not found:
        return Learned(reason=NO_UNITS, model=model)
    return Learned(suggestions=found, model=model)
