"""The dispatch catalogue: which department a category in an area usually goes to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import unit_of_work
from engine.errors import NotFound

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
    rows.sort(key=lambda r: (r.DispatchRule.area != "*", r.DispatchRule.priority), reverse=True)
    return rows[0].Department


def categories(session: Session) -> list[str]:
    """Every category the catalogue knows, sorted."""
    return sorted(set(session.scalars(select(DispatchRule.category))))


def create_rule(
    session: Session, *, category: str, area: str, department_id: int, priority: int
) -> DispatchRule:
    """A new catalogue row: calls of ``category`` in ``area`` ("*": any) go to the department."""
    with unit_of_work(session):
        rule = DispatchRule(
            category=category, area=area, department_id=department_id, priority=priority
        )
        session.add(rule)
    return rule


def update_rule(
    session: Session, *, rule_id: int, category: str, area: str, department_id: int, priority: int
) -> DispatchRule:
    """Change a catalogue row; NotFound if there is no such row."""
    with unit_of_work(session):
        rule = session.get(DispatchRule, rule_id)
        if rule is None:
            raise NotFound(f"dispatch rule {rule_id} does not exist")
        rule.category, rule.area = category, area
        rule.department_id, rule.priority = department_id, priority
    return rule


def delete_rule(session: Session, *, rule_id: int) -> str:
    """Remove a catalogue row; its category is returned. NotFound if there is no such row."""
    with unit_of_work(session):
        rule = session.get(DispatchRule, rule_id)
        if rule is None:
            raise NotFound(f"dispatch rule {rule_id} does not exist")
        category = rule.category
        session.delete(rule)
    return category


def known_categories(session: Session) -> list[str]:
    """Every category the catalogue has a row for, sorted (for suggesting while typing)."""
    return sorted(set(session.scalars(select(DispatchRule.category))))
