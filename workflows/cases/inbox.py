"""Inbox counts for paging: how many ready tasks ``service.inbox`` would list, in total and
per step, under the same lane and department conditions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from engine.db import serial_reads
from engine.models import HumanTask

from ..departments.models import Department
from ..users.models import User
from .models import Case
from .task_due import where_due_state


def _ready_for(
    stmt: Select,
    session: Session,
    *,
    user: User,
    lane: str | None,
    due_state: str | None,
    now: datetime | None,
) -> Select:
    """The conditions of :func:`workflows.cases.service.inbox` (keep the two in step)."""
    serial_reads(session)  # as the inbox: a few thousand rows, no parallel worker
    department = session.get(Department, user.department_id) if user.department_id else None
    stmt = stmt.join(Case, Case.instance_id == HumanTask.instance_id).where(
        HumanTask.state == "ready", HumanTask.lane == (lane or user.role)
    )
    if department is not None:
        stmt = stmt.where(
            or_(HumanTask.candidate_group.is_(None), HumanTask.candidate_group == department.code)
        )
    else:
        stmt = stmt.where(HumanTask.candidate_group.is_(None))
    return where_due_state(stmt, due_state, now)


def inbox_count(
    session: Session,
    *,
    user: User,
    lane: str | None = None,
    step: str | None = None,
    element: str | None = None,
    due_state: str | None = None,
    now: datetime | None = None,
) -> int:
    """How many tasks ``inbox(...)`` with the same arguments lists over all its pages."""
    stmt = _ready_for(
        select(func.count()).select_from(HumanTask),
        session,
        user=user,
        lane=lane,
        due_state=due_state,
        now=now,
    )
    if step:
        stmt = stmt.where(HumanTask.kind == step)
    if element:
        stmt = stmt.where(HumanTask.element_id == element)
    return session.scalar(stmt) or 0


def inbox_counts(
    session: Session,
    *,
    user: User,
    lane: str | None = None,
    due_state: str | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Ready tasks per step (``{"dispatch": 3, "review_return": 1}``) in one query; tasks
    that name no step are not counted."""
    stmt = _ready_for(
        select(HumanTask.kind, func.count()).select_from(HumanTask),
        session,
        user=user,
        lane=lane,
        due_state=due_state,
        now=now,
    ).group_by(HumanTask.kind)
    return {step: count for step, count in session.execute(stmt).all() if step is not None}
