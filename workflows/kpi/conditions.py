"""KPI conditions that other lists share, so that a filter and the KPI it stands for count the
same cases (the case list's "overdue" filter and the overdue rate's numerator)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, literal, or_
from sqlalchemy.sql.elements import ColumnElement

from engine.models import UTCDateTime
from workflows.cases.enums import CaseStatus
from workflows.cases.models import Case


def dispatched() -> ColumnElement[bool]:
    """Dispatched to a department at least once, and not merged into another case."""
    return and_(Case.status != CaseStatus.MERGED.value, Case.dispatched_at.is_not(None))


def case_clock(as_of: datetime) -> ColumnElement:
    """``as_of``, or ``paused_at`` if earlier for a suspended case: its clock is not running."""
    now = literal(as_of, UTCDateTime())
    return case(
        (and_(Case.status == CaseStatus.SUSPENDED.value, Case.paused_at < now), Case.paused_at),
        else_=now,
    )


def overdue_case(as_of: datetime) -> ColumnElement[bool]:
    """Overdue as the overdue rate counts it (docs/kpis.md): dispatched with a reply deadline,
    and replied (or closed without a reply) after it, or not replied and past it at
    ``as_of``. Never NULL, so that its negation is every other case."""
    reply = func.coalesce(Case.replied_at, Case.closed_at)
    return and_(
        dispatched(),
        Case.reply_due.is_not(None),
        or_(
            and_(reply.is_not(None), reply > Case.reply_due),
            and_(reply.is_(None), Case.reply_due < case_clock(as_of)),
        ),
    )
