"""The dispatch catalogue: which department a category in an area usually goes to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..departments.models import Department
from .models import DispatchRule


def suggest_department(session: Session, *, category: str, area: str = "") -> Department | None:
    """The best rule for (category, area): an area-specific rule beats "*", then priority."""
    rows = session.execute(
        select(DispatchRule, Department)
        .join(Department, Department.id == DispatchRule.department_id)
        .where(
            DispatchRule.category == category,
            DispatchRule.area.in_([area or "*", "*"]),
            Department.active.is_(True),
        )
    ).all()
    if not rows:
        return None
    rows.sort(key=lambda r: (r[0].area != "*", r[0].priority), reverse=True)
    return rows[0][1]


def categories(session: Session) -> list[str]:
    """Every category the catalogue knows, sorted."""
    return sorted(set(session.scalars(select(DispatchRule.category))))
