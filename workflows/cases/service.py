"""Case data access: numbers, what a user may see and act on, inboxes.

Plain functions taking the session. Department isolation lives in these queries: a handler's
queries only ever return its department's cases and tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from engine.db import is_postgres, serial_reads
from engine.errors import NotFound
from engine.models import HumanTask

from ..departments.models import Department
from ..errors import DomainError, Forbidden
from ..users.models import Role, User
from .confidentiality import hide_from_search, is_centre
from .models import CallbackAttempt, Case, CaseCounter, CaseDepartment
from .ordering import task_order
from .phones import canonical_phone
from .task_due import where_due_state


def next_case_number(session: Session, *, now_local: datetime) -> str:
    """``YYYYMMDD`` + a five-digit daily sequence, taken inside the caller's transaction."""
    day = now_local.strftime("%Y%m%d")
    counter = session.get(CaseCounter, day, with_for_update=True)
    if counter is None:
        counter = CaseCounter(day=day, value=0)
        session.add(counter)
    counter.value += 1
    session.flush()
    return f"{day}{counter.value:05d}"


def can_act(user: User, task: HumanTask, user_department: Department | None) -> bool:
    """A task is for the users whose role is its lane and, if it has a group, whose
    department's code is that group."""
    if not user.active or task.state != "ready":
        return False
    if task.lane and task.lane != user.role:
        return False
    if task.candidate_group:
        return user_department is not None and user_department.code == task.candidate_group
    return True


def _user_department(session: Session, user: User) -> Department | None:
    return session.get(Department, user.department_id) if user.department_id else None


def get_task_for(
    session: Session,
    *,
    task_id: str,
    user: User,
    found: tuple[HumanTask, Case] | None = None,
) -> tuple[HumanTask, Case]:
    """A ready task the user may act on, and its case (NotFound / Forbidden otherwise).

    ``found``: the task and its case as the caller read them in this same transaction (the
    API does, to answer 404/409 first); they are checked, not read again."""
    row = (
        found
        or session.execute(
            select(HumanTask, Case)
            .join(Case, Case.instance_id == HumanTask.instance_id)
            .where(HumanTask.task_id == task_id)
        ).first()
    )
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    task, case = row
    if task.state != "ready":
        raise DomainError(f"task {task.name!r} is {task.state}, not waiting any more")
    if not can_act(user, task, _user_department(session, user)):
        raise Forbidden(f"{user.username} may not act on {task.name!r} of case {case.number}")
    return task, case


# -- queries (department isolation lives here) ----------------------------------------------


def visible_cases(session: Session, user: User) -> Select:
    """A query over the cases this user may see: handlers see only their department's."""
    stmt = select(Case)
    if user.role == Role.HANDLER:
        if user.department_id is None:
            return stmt.where(False)
        stmt = stmt.where(
            exists().where(
                and_(
                    CaseDepartment.case_id == Case.id,
                    CaseDepartment.department_id == user.department_id,
                )
            )
        )
    return stmt


def get_case(session: Session, *, number: str, user: User) -> Case:
    """A case the user may see (NotFound otherwise: another department's case does not
    exist for a handler)."""
    case = session.scalars(visible_cases(session, user).where(Case.number == number)).first()
    if case is None:
        raise NotFound(f"case {number} does not exist")
    return case


def earlier_cases_by_phone(
    session: Session, *, phone: str, user: User, limit: int = 10
) -> list[Case]:
    """The caller's earlier cases, newest first (operators see them at intake), however the
    number is written."""
    phone = canonical_phone(phone)
    if not phone:
        return []
    centre = is_centre(user, _user_department(session, user))
    return list(
        session.scalars(
            hide_from_search(visible_cases(session, user), centre=centre)
            .where(Case.caller_phone == phone)
            .order_by(Case.created_at.desc())
            .limit(limit)
        )
    )


def inbox(
    session: Session,
    *,
    user: User,
    lane: str | None = None,
    step: str | None = None,
    element: str | None = None,
    due_state: str | None = None,
    now: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
    order: Sequence[Any] | None = None,
) -> list[tuple[HumanTask, Case]]:
    """Ready tasks this user may act on, most urgent first, then soonest task deadline
    (:func:`~workflows.cases.ordering.task_order`), or in ``order`` (a column the list was
    sorted by, ending with a unique one), with their cases; only
    those of one step (a :class:`~workflows.cases.steps.Step`) or one diagram element when
    asked, or in one deadline state of their own at ``now``
    (:mod:`~workflows.cases.task_due`)."""
    serial_reads(session)  # a unit's few thousand ready tasks: no parallel worker
    department = _user_department(session, user)
    # PostgreSQL: the page's task ids first, then their rows (a "deferred join"). Ordering
    # all of a unit's ready tasks by their case's urgency carried every case's whole row
    # through the sort (3,437 of them for 25 at a million cases); ids alone take about half
    # the time (docs/benchmarks.md, "PostgreSQL at the targets"). SQLite keeps one query.
    deferred = is_postgres(session)
    stmt = (
        select(*((HumanTask.id,) if deferred else (HumanTask, Case)))
        .join(Case, Case.instance_id == HumanTask.instance_id)
        .where(HumanTask.state == "ready", HumanTask.lane == (lane or user.role))
    )
    if department is not None:
        stmt = stmt.where(
            or_(HumanTask.candidate_group.is_(None), HumanTask.candidate_group == department.code)
        )
    else:
        stmt = stmt.where(HumanTask.candidate_group.is_(None))
    if step:
        stmt = stmt.where(HumanTask.kind == step)
    if element:
        stmt = stmt.where(HumanTask.element_id == element)
    stmt = where_due_state(stmt, due_state, now)
    ordering = tuple(order) if order else task_order()
    stmt = stmt.order_by(*ordering).limit(limit).offset(offset)
    if deferred:
        stmt = (
            select(HumanTask, Case)
            .join(Case, Case.instance_id == HumanTask.instance_id)
            .where(HumanTask.id.in_(stmt))
            .order_by(*ordering)  # ends with the task's id: the same order exactly
        )
    return [(t, c) for t, c in session.execute(stmt).all()]


def callback_attempts(session: Session, *, case_ids: list[int]) -> dict[int, list[CallbackAttempt]]:
    """The callback attempts of the cases, oldest first, by case id (one query)."""
    found: dict[int, list[CallbackAttempt]] = {}
    if not case_ids:
        return found
    for attempt in session.scalars(
        select(CallbackAttempt)
        .where(CallbackAttempt.case_id.in_(case_ids))
        .order_by(CallbackAttempt.case_id, CallbackAttempt.at, CallbackAttempt.id)
    ):
        found.setdefault(attempt.case_id, []).append(attempt)
    return found
