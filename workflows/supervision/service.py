"""What the supervisors' lists ask of the tasks: which open cases have a ready task past its
own deadline (``human_tasks.due_at``), and which tasks those are."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.models import HumanTask, UTCDateTime

from ..cases.enums import OPEN
from ..cases.models import Case


def late_task_instances(as_of: datetime):
    """The instances with a ready task past its own ``due_at`` (from the index on
    ``(state, lane, due_at)``)."""
    return select(HumanTask.instance_id).where(
        HumanTask.state == "ready", HumanTask.due_at < literal(as_of, UTCDateTime())
    )


#: on PostgreSQL, up to this many late instances are read first and named in the list's
#: condition (each then found by the cases' unique index, beside the (status, reply_due)
#: index: PostgreSQL ORs the two); more than that, the condition keeps the subquery
NAMED_LATE = 2000


def task_overdue(as_of: datetime, session: Session | None = None) -> ColumnElement[bool]:
    """An open case with a ready task past its own deadline (dispatch, a review, an answer
    to a supervision order...), whatever its reply deadline says. Given a session on
    PostgreSQL, the late instances are read first when there are at most :data:`NAMED_LATE`
    of them: with the subquery it scanned every open case to test each (docs/benchmarks.md,
    "The loop without holes")."""
    instances: Any = late_task_instances(as_of)
    # SQLite plans the subquery well (and a list of ids worse): PostgreSQL only
    if session is not None and session.get_bind().dialect.name == "postgresql":
        # no DISTINCT: PostgreSQL then walked the (instance, state) index for the order
        # DISTINCT wants, instead of the (state, group, due) range the tasks are in
        rows = session.scalars(instances.limit(NAMED_LATE + 1)).all()
        if len(rows) <= NAMED_LATE:
            instances = sorted(set(rows))
    return and_(
        Case.status.in_(sorted(s.value for s in OPEN)),
        Case.instance_id.in_(instances),
    )


def earliest_due(session: Session | None = None) -> ColumnElement:
    """The case's earliest deadline: its reply's, or a ready task's own if sooner (a late
    dispatch has no reply deadline yet). Given a session on PostgreSQL, ``LEAST`` of the two
    (which skips a NULL, as the CASE does): the CASE names the task's subquery three times and
    an ORDER BY on it twice, so PostgreSQL ran it six times per listed case."""
    task_due = (
        select(HumanTask.due_at)
        .where(
            HumanTask.instance_id == Case.instance_id,
            HumanTask.state == "ready",
            HumanTask.due_at.is_not(None),
        )
        .order_by(HumanTask.due_at)
        .limit(1)
        .scalar_subquery()
    )
    if session is not None and session.get_bind().dialect.name == "postgresql":
        return func.least(task_due, Case.reply_due)
    sooner = and_(task_due.is_not(None), or_(Case.reply_due.is_(None), task_due < Case.reply_due))
    return case((sooner, task_due), else_=Case.reply_due)


#: instance ids per query of :func:`late_tasks` (a CSV export asks for up to 100,000 cases)
CHUNK = 1000


def late_tasks(
    session: Session, *, instance_ids: Collection[int], as_of: datetime
) -> dict[int, list[str]]:
    """instance id -> the steps of its ready tasks past their own deadline, soonest first."""
    ids = list(instance_ids)
    out: dict[int, list[str]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(HumanTask.instance_id, HumanTask.kind)
            .where(
                HumanTask.instance_id.in_(ids[start : start + CHUNK]),
                HumanTask.state == "ready",
                HumanTask.due_at < literal(as_of, UTCDateTime()),
            )
            .order_by(HumanTask.due_at, HumanTask.id)
        ).all()
        for instance_id, kind in rows:
            out.setdefault(instance_id, []).append(kind or "")
    return out
