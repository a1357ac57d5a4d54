"""Reads of a case's engine rows (tasks, timers, the event log, the instance's version) that the
task page, the case page and the API share, so that no view queries the engine's tables.

Plain functions taking the session; what a user may see is decided by ``service`` (the task
reads that take a ``user`` go through ``visible_cases``).
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from engine.events import EventKind
from engine.models import HumanTask, InstanceEvent, ProcessInstance, Timer

from ..users.models import User
from .models import Case
from .service import visible_cases

#: the completed task and its instance's ready tasks, read afresh (the engine writes task rows
#: with plain SQL, so objects already in the session would be stale); built once
_TASK_AND_READY = (
    select(HumanTask)
    .where(
        or_(
            HumanTask.task_id == bindparam("task_id"),
            and_(HumanTask.instance_id == bindparam("instance_id"), HumanTask.state == "ready"),
        )
    )
    .order_by(HumanTask.id)
    .execution_options(populate_existing=True)
)


@functools.lru_cache(maxsize=1024)
def _visible_task_stmt(role: str, department_id: int | None) -> Select:
    """The case list's own rule (``visible_cases``, which depends on nothing else) joined to
    the task, built once per (role, department) instead of once per request."""
    user = SimpleNamespace(role=role, department_id=department_id)
    return (
        visible_cases(None, user)
        .join(HumanTask, HumanTask.instance_id == Case.instance_id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.task_id == bindparam("task_id"))
        .with_only_columns(HumanTask, Case, ProcessInstance.version)
    )


def visible_task(
    session: Session, *, task_id: str, user: User
) -> tuple[HumanTask, Case, int] | None:
    """The task, its case and its instance's version, if ``user`` may see the case."""
    stmt = _visible_task_stmt(str(user.role), user.department_id)
    row = session.execute(stmt, {"task_id": task_id}).first()
    return None if row is None else (row.HumanTask, row.Case, row.version)


def task_with_case(session: Session, task_id: str) -> tuple[HumanTask, Case] | None:
    """The task and its case, whoever may see them (to say what became of a task)."""
    row = session.execute(
        select(HumanTask, Case)
        .join(Case, Case.instance_id == HumanTask.instance_id)
        .where(HumanTask.task_id == task_id)
    ).first()
    return None if row is None else (row.HumanTask, row.Case)


def task_and_ready(session: Session, *, task_id: str, instance_id: int) -> list[HumanTask]:
    """The task and the ready tasks of its instance, as stored now."""
    return list(session.scalars(_TASK_AND_READY, {"task_id": task_id, "instance_id": instance_id}))


def task_state(session: Session, task_id: str) -> str | None:
    """The task's state (ready, completed, cancelled), or None if there is no such task."""
    return session.scalar(select(HumanTask.state).where(HumanTask.task_id == task_id))


def instance_version(session: Session, instance_id: int | None) -> int | None:
    """The version counter of a case's workflow (the engine refuses a save made on another)."""
    if instance_id is None:
        return None
    return session.scalar(select(ProcessInstance.version).where(ProcessInstance.id == instance_id))


def input_kept(session: Session, task: HumanTask, *, after_event: int | None) -> bool:
    """Whether the engine logged input for ``task`` that it refused (``task.rejected``) after
    event ``after_event``: what a person typed when a deadline took the task first."""
    found = session.scalar(
        select(InstanceEvent.id)
        .where(
            InstanceEvent.instance_id == task.instance_id,
            InstanceEvent.kind == EventKind.TASK_REJECTED,
            InstanceEvent.element_id == task.element_id,
            InstanceEvent.id > (after_event or 0),
        )
        .limit(1)
    )
    return found is not None


def forms_and_steps_of_elements(
    session: Session, instance_id: int
) -> dict[str, tuple[str | None, str | None]]:
    """Element id -> (form key, step) of the user tasks the instance has reached."""
    return {
        element: (form_key, step)
        for element, form_key, step in session.execute(
            select(HumanTask.element_id, HumanTask.form_key, HumanTask.kind)
            .where(HumanTask.instance_id == instance_id)
            .distinct()
        )
    }


def element_markers(session: Session, instance_id: int) -> dict[str, list[str]]:
    """Element ids per marker of the case's diagram: done, current (a task waits there),
    waiting (a timer is armed there, or a service task waits for its connector). An element in several states shows the liveliest one:
    current over waiting over done (a loop can pass a task again)."""
    tasks = session.execute(
        select(HumanTask.element_id, HumanTask.state).where(HumanTask.instance_id == instance_id)
    ).all()
    timers = session.execute(
        select(Timer.element_id, Timer.status).where(Timer.instance_id == instance_id)
    ).all()
    logged = session.execute(
        select(InstanceEvent.element_id).where(
            InstanceEvent.instance_id == instance_id,
            InstanceEvent.kind.in_((EventKind.TASK_COMPLETED, EventKind.TIMER_FIRED)),
            InstanceEvent.element_id.is_not(None),
        )
    ).scalars()
    calls = session.execute(
        select(InstanceEvent.element_id, InstanceEvent.kind).where(
            InstanceEvent.instance_id == instance_id,
            InstanceEvent.kind.in_((EventKind.CONNECTOR_QUEUED, EventKind.CONNECTOR_DONE)),
            InstanceEvent.element_id.is_not(None),
        )
    ).all()
    # a service task waits for its connector from "queued" until "done" (a loop queues again)
    open_calls: dict[str, int] = {}
    for element, kind in calls:
        open_calls[element] = open_calls.get(element, 0) + (
            1 if kind == EventKind.CONNECTOR_QUEUED else -1
        )
    current = {element for element, state in tasks if state == "ready"}
    waiting = (
        {element for element, status in timers if status == "pending"}
        | {element for element, count in open_calls.items() if count > 0}
    ) - current
    done = (
        (
            {element for element, state in tasks if state == "completed"}
            | {element for element, status in timers if status == "fired"}
            | set(logged)
            | {element for element, count in open_calls.items() if count <= 0}
        )
        - current
        - waiting
    )
    return {"done": sorted(done), "current": sorted(current), "waiting": sorted(waiting)}
