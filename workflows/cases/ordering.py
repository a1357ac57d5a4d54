"""The one order of every queue and inbox: urgency first, then the task's or case's own due time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case

from engine.models import HumanTask

from .enums import Urgency
from .models import Case

#: critical before urgent before normal; an unknown code (a type's own) after them
URGENCY_RANK = {str(Urgency.CRITICAL): 0, str(Urgency.URGENT): 1, str(Urgency.NORMAL): 2}


def urgency_rank() -> Any:
    """``cases.urgency`` as a sort key. A CASE expression, not a stored rank: the lists sort
    the rows their filters (state, lane, group, status) already narrowed through their indexes,
    so the key costs a comparison per row and no column to keep in step."""
    return case(URGENCY_RANK, value=Case.urgency, else_=len(URGENCY_RANK))


def task_order() -> tuple[Any, ...]:
    """Ready tasks: urgency, then the task's own due time (soonest first, tasks without one
    after those with one), then oldest first."""
    return (
        urgency_rank(),
        HumanTask.due_at.is_(None),
        HumanTask.due_at,
        HumanTask.created_at,
        HumanTask.id,
    )


def case_order(due: Any) -> tuple[Any, ...]:
    """Cases in a supervisor's list: urgency, then ``due`` (soonest first, none last), then
    oldest first."""
    return (urgency_rank(), due.is_(None), due, Case.created_at, Case.id)
