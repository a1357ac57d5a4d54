"""Claiming a task: one person of the group says "I am on it"; the others see who.

A claim does not widen who may act: the task must still be one the user may act on
(``service.get_task_for``). While it is claimed, only the claimant completes it
(``flows.complete_task`` checks), and only the claimant releases it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import unit_of_work
from engine.errors import ConflictError
from engine.models import HumanTask

from ..errors import Forbidden
from ..events import CaseEventKind
from ..users.models import User
from .models import Case
from .ordering import task_order
from .service import get_task_for
from .task_due import where_due_state


def claim_task(
    session: Session, *, task_id: str, user: User, clock: Clock, runtime
) -> tuple[HumanTask, Case]:
    """Claim a ready task for ``user`` (claiming one's own claim again changes nothing)."""
    with unit_of_work(session):
        task, case = get_task_for(session, task_id=task_id, user=user)
        if task.assignee == user.username:
            return task, case
        done = session.execute(
            update(HumanTask)
            .where(
                HumanTask.id == task.id,
                HumanTask.state == "ready",
                HumanTask.assignee.is_(None),
            )
            .values(assignee=user.username)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not done:
            session.refresh(task)
            raise ConflictError(
                f"task {task.name!r} of case {case.number} is already claimed by {task.assignee}",
                what_happened=f"claimed by {task.assignee}",
            )
        runtime.record_event(
            session,
            task.instance_id,
            CaseEventKind.TASK_CLAIMED,
            actor=user.username,
            element_id=task.element_id,
            payload={"case": case.number, "task_id": task.task_id, "at": clock.now().isoformat()},
        )
        session.refresh(task)
    return task, case


def release_task(session: Session, *, task_id: str, user: User, runtime) -> tuple[HumanTask, Case]:
    """Give a claimed task back to its group (only the claimant may)."""
    with unit_of_work(session):
        task, case = get_task_for(session, task_id=task_id, user=user)
        if task.assignee is None:
            return task, case
        if task.assignee != user.username:
            raise Forbidden(f"task {task.name!r} is claimed by {task.assignee}, not by you")
        previous = task.assignee
        task.assignee = None
        runtime.record_event(
            session,
            task.instance_id,
            CaseEventKind.TASK_RELEASED,
            actor=user.username,
            element_id=task.element_id,
            payload={"case": case.number, "task_id": task.task_id, "claimed_by": previous},
        )
        session.flush()
    return task, case


def _claimed(
    stmt: Select,
    user: User,
    step: str | None,
    element: str | None,
    due_state: str | None,
    now: datetime | None,
) -> Select:
    stmt = stmt.join(Case, Case.instance_id == HumanTask.instance_id).where(
        HumanTask.state == "ready", HumanTask.assignee == user.username
    )
    if step:
        stmt = stmt.where(HumanTask.kind == step)
    if element:
        stmt = stmt.where(HumanTask.element_id == element)
    return where_due_state(stmt, due_state, now)


def claimed_tasks(
    session: Session,
    *,
    user: User,
    step: str | None = None,
    element: str | None = None,
    due_state: str | None = None,
    now: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[tuple[HumanTask, Case]]:
    """Ready tasks ``user`` has claimed, in the inbox's order, with their cases."""
    stmt = _claimed(select(HumanTask, Case), user, step, element, due_state, now).order_by(
        *task_order()
    )
    return [(t, c) for t, c in session.execute(stmt.limit(limit).offset(offset)).all()]


def claimed_count(
    session: Session,
    *,
    user: User,
    step: str | None = None,
    element: str | None = None,
    due_state: str | None = None,
    now: datetime | None = None,
) -> int:
    """How many tasks :func:`claimed_tasks` pages through."""
    stmt = _claimed(
        select(func.count()).select_from(HumanTask), user, step, element, due_state, now
    )
    return session.scalar(stmt) or 0
