"""A task's own deadline state (normal, yellow, red), for every list that shows tasks.

A human task's deadline is its own (``human_tasks.due_at``, the engine's projection of the
task's red timer: ``task_overdue`` of its clock, or the department deadlines of sign-for and
handling). Red once that time has passed; yellow once its clock's warning fired (a
``task.warning`` event on the task since it opened) or, for the handling task, whose clock
is the case's reply deadline, once the case's yellow time (``cases.warn_at``) has passed.
The rule is written once in SQL, for the filters (:func:`due_state`, so that a count and a
page agree), and once for rows already read (:func:`state_of`, one query for the warnings of
a whole page); tests/workflows/test_task_clocks.py holds the two together at every moment it
looks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, or_, select
from sqlalchemy.orm import Session

from engine.models import HumanTask, InstanceEvent

from ..events import CaseEventKind
from .enums import DueState
from .models import Case


def _own_warning() -> Any:
    """Whether the task's own clock warned since the task opened (a ``task.warning`` event)."""
    ev = InstanceEvent
    return exists().where(
        ev.instance_id == HumanTask.instance_id,
        ev.kind == str(CaseEventKind.TASK_WARNING),
        ev.payload["task"].as_string() == HumanTask.element_id,
        ev.at >= HumanTask.created_at,
    )


def _reply_clock_warned(now: datetime) -> Any:
    """Whether the task runs on the case's reply deadline whose yellow time has come."""
    return and_(
        HumanTask.due_at == Case.reply_due,
        Case.warn_at.is_not(None),
        Case.warn_at <= now,
    )


def due_state(now: datetime) -> Any:
    """The task's deadline state as a SQL expression over ``HumanTask`` joined with its
    ``Case`` (the filters); :func:`state_of` is the same rule for rows already read."""
    finished = case(
        (
            and_(HumanTask.due_at.is_not(None), HumanTask.completed_at > HumanTask.due_at),
            str(DueState.RED),
        ),
        else_=str(DueState.NORMAL),
    )
    return case(
        (HumanTask.state != "ready", finished),
        (and_(HumanTask.due_at.is_not(None), HumanTask.due_at <= now), str(DueState.RED)),
        (or_(_own_warning(), _reply_clock_warned(now)), str(DueState.YELLOW)),
        else_=str(DueState.NORMAL),
    )


def state_of(task: HumanTask, case: Case, *, now: datetime, warned: bool) -> str:
    """The deadline state of one task (see the module docstring); ``warned``: whether its
    own clock warned since it opened (:func:`warned_tasks`)."""
    due = task.due_at
    if task.state != "ready":
        late = due is not None and task.completed_at is not None and task.completed_at > due
        return str(DueState.RED if late else DueState.NORMAL)
    if due is not None and due <= now:
        return str(DueState.RED)
    reply_clock = due is not None and due == case.reply_due
    if warned or (reply_clock and case.warn_at is not None and case.warn_at <= now):
        return str(DueState.YELLOW)
    return str(DueState.NORMAL)


def warned_tasks(session: Session, tasks: Iterable[HumanTask]) -> set[str]:
    """The ids of those of ``tasks`` whose own clock warned since they opened."""
    ids = [t.id for t in tasks]
    if not ids:
        return set()
    stmt = select(HumanTask.task_id).where(HumanTask.id.in_(ids), _own_warning())
    return set(session.scalars(stmt))


def due_states(
    session: Session, rows: Sequence[tuple[HumanTask, Case]], *, now: datetime
) -> dict[str, str]:
    """task id -> deadline state (``normal``, ``yellow``, ``red``) of (task, case) rows, as
    the lists hold them: one read of the warnings for all of them."""
    warned = warned_tasks(session, (t for t, _ in rows))
    return {t.task_id: state_of(t, c, now=now, warned=t.task_id in warned) for t, c in rows}


def where_due_state(stmt: Any, state: str | None, now: datetime | None) -> Any:
    """``stmt`` (over ``HumanTask`` joined with ``Case``) narrowed to tasks in ``state``."""
    if not state:
        return stmt
    if now is None:
        raise TypeError("filtering tasks on their deadline state needs the time (now)")
    return stmt.where(due_state(now) == state)
