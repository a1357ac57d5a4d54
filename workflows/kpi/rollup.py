"""The KPI rollup: per local day, lead department and case type, the sums of the settled
cases' counts, recounted by the worker for the days marked dirty; and the read plan that
answers a period from it plus a live count of what it does not hold.

A period read in the centre's zone splits into the whole local days, answered from the rollup
unless dirty, and, counted live from the cases with the same conditions: the partial days at
its edges, the dirty days, and every open case created in it (about 1.4% of the cases). The
parts never share a case and every KPI is a count, so their sums are the live figures exactly,
at any moment: a change marks its day in its own transaction (``models._mark_changed_days``).
Why settled cases' counts do not depend on the reading time: ``models``' docstring.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    TIMESTAMP,
    Date,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from engine.db import unit_of_work
from workflows.cases.models import Case

from .models import (
    OPEN_VALUES,
    ROLLUP_TZ,
    SUM_COLUMNS,
    KpiDayRollup,
    KpiDirtyDay,
    day_span,
    local_day,
    mark_dirty,
)

R = KpiDayRollup.__table__
#: above this share of dirty days in a period, the live query alone is cheaper
MAX_DIRTY_SHARE = 0.5
_live_only: ContextVar[bool] = ContextVar("kpi_live_only", default=False)


@contextmanager
def live_only() -> Iterator[None]:
    """Within the block, every KPI is counted from the cases alone (tests compare the two)."""
    token = _live_only.set(True)
    try:
        yield
    finally:
        _live_only.reset(token)


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How a period ``[start, end)`` is answered: rollup rows for the whole days
    ``[first, stop)`` except ``dirty``; live counts for the settled cases in ``live_ranges``
    and for every open case in the period."""

    start: datetime
    end: datetime
    first: date
    stop: date
    dirty: tuple[date, ...]
    live_ranges: tuple[tuple[datetime, datetime], ...]


def plan(session: Session, *, start: datetime, end: datetime, tz: str) -> Plan | None:
    """The rollup's plan for the period, or None when it cannot help (another zone, no whole
    day, too many dirty days, or :func:`live_only`)."""
    if _live_only.get() or tz != ROLLUP_TZ or start >= end:
        return None
    first = local_day(start)
    if day_span(first)[0] < start:
        first += timedelta(days=1)
    stop = local_day(end)  # the first day not whole (or the day starting at end)
    if stop <= first:
        return None
    dirty = tuple(
        session.scalars(
            select(KpiDirtyDay.day)
            .where(KpiDirtyDay.day >= first, KpiDirtyDay.day < stop)
            .order_by(KpiDirtyDay.day)
        )
    )
    return _planned(start, end, first, stop, set(dirty))


def with_dirty(p: Plan, days: set[date]) -> Plan | None:
    """The plan with more dirty days (marked after it read them)."""
    return _planned(p.start, p.end, p.first, p.stop, set(p.dirty) | days)


def _planned(
    start: datetime, end: datetime, first: date, stop: date, dirty: set[date]
) -> Plan | None:
    if len(dirty) > MAX_DIRTY_SHARE * (stop - first).days:
        return None
    ranges: list[tuple[datetime, datetime]] = []
    edges = [(start, day_span(first)[0]), (day_span(stop)[0], end)]
    for lo, hi in [edges[0], *(day_span(d) for d in sorted(dirty)), edges[1]]:
        if lo >= hi:
            continue
        if ranges and ranges[-1][1] == lo:  # consecutive days: one range
            ranges[-1] = (ranges[-1][0], hi)
        else:
            ranges.append((lo, hi))
    return Plan(start, end, first, stop, tuple(sorted(dirty)), tuple(ranges))


def open_condition() -> ColumnElement[bool]:
    return Case.status.in_(sorted(OPEN_VALUES))


def settled_condition() -> ColumnElement[bool]:
    return Case.status.not_in(sorted(OPEN_VALUES))


def live_parts(p: Plan) -> list[tuple[datetime, datetime, ColumnElement[bool]]]:
    """The live counts of a plan, as (from, until, condition): the open cases of the period,
    and the settled cases of each live range, a part each, bounded by the range alone (SQLite
    takes one pair of bounds on ``created_at`` for its index; given the period's too, it read
    the whole year's index for each range: 4.2 s with 30 dirty days at a million cases)."""
    parts = [(p.start, p.end, open_condition())]
    parts += [(lo, hi, settled_condition()) for lo, hi in p.live_ranges]
    return parts


def day_bucket(dialect: str, bucket: str, column) -> ColumnElement:
    """The first day of the bucket of a local date column: a date (PostgreSQL) or ISO text
    (SQLite), as ``buckets.bucket_start`` gives for ``created_at``."""
    if bucket == "day":
        return column
    if dialect == "postgresql":
        # a timestamp without zone: date_trunc of a date would go through the session's zone
        truncated = func.date_trunc(literal_column(f"'{bucket}'"), cast(column, TIMESTAMP))
        return cast(truncated, Date)
    modifiers = {"week": ("-6 days", "weekday 1"), "month": ("start of month",)}[bucket]
    return func.date(column, *[literal_column(f"'{m}'") for m in modifiers])


def _dirty_now(p: Plan) -> Select:
    return select(KpiDirtyDay.day).where(KpiDirtyDay.day >= p.first, KpiDirtyDay.day < p.stop)


def rollup_where(p: Plan) -> list[ColumnElement[bool]]:
    """The plan's clean days: neither dirty when it was made (they are counted live) nor
    dirty now, in the statement's own snapshot."""
    conditions = [R.c.day >= p.first, R.c.day < p.stop, R.c.day.not_in(_dirty_now(p))]
    if p.dirty:
        conditions.append(R.c.day.not_in(list(p.dirty)))
    return conditions


def dirty_probe(p: Plan, names: list[str], *, zeros: list[str]) -> Select:
    """Rows of ``names`` (NULL, or 0 for ``zeros``) and ``dirty_day``: the days dirty now that
    the plan does not count live (the statement must then run again with them)."""
    columns = [(literal(0) if name in zeros else null()).label(name) for name in names]
    stmt = _dirty_now(p).with_only_columns(*columns, KpiDirtyDay.day.label("dirty_day"))
    if p.dirty:
        stmt = stmt.where(KpiDirtyDay.day.not_in(list(p.dirty)))
    return stmt


# --- recounting --------------------------------------------------------------------------------


def recount_day(session: Session, day: date, *, as_of: datetime) -> bool:
    """Recounts one dirty day in the session's transaction (the caller commits); False if it
    was not dirty (any more). The mark goes first: a step marking the day meanwhile waits for
    this transaction (PostgreSQL) or cannot write at all (SQLite), so the recount that follows
    sees every change made before the mark was taken away."""
    from .service import rollup_aggregates

    gone = session.execute(delete(KpiDirtyDay).where(KpiDirtyDay.day == day)).rowcount
    if not gone:
        return False
    session.execute(delete(KpiDayRollup).where(R.c.day == day))
    lo, hi = day_span(day)
    aggregates = rollup_aggregates(as_of)
    counted = (
        select(
            literal(day, Date),
            Case.lead_department_id,
            Case.case_type,
            *(expression for _name, expression in aggregates),
        )
        .where(Case.created_at >= lo, Case.created_at < hi, settled_condition())
        .group_by(Case.lead_department_id, Case.case_type)
    )
    names = ["day", "department_id", "case_type", *(name for name, _ in aggregates)]
    session.execute(insert(R).from_select(names, counted))
    return True


def dirty_days(session: Session, *, limit: int | None = None) -> list[date]:
    stmt = select(KpiDirtyDay.day).order_by(KpiDirtyDay.day)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def recount_dirty(
    session_factory: Callable[[], Session],
    *,
    as_of: datetime,
    max_days: int | None = None,
    max_seconds: float | None = None,
) -> int:
    """Recounts dirty days, one transaction each, oldest first; how many were recounted.
    Stops after ``max_days`` days or ``max_seconds`` (a tick of the worker)."""
    done, started = 0, _time.monotonic()
    while max_days is None or done < max_days:
        if max_seconds is not None and _time.monotonic() - started > max_seconds:
            break
        with session_factory() as session, unit_of_work(session):
            days = dirty_days(session, limit=1)
            if not days:
                break
            done += recount_day(session, days[0], as_of=as_of)
    return done


def mark_all(session: Session) -> int:
    """Marks every local day from the first case's to the last's (the caller commits)."""
    low, high = session.execute(select(func.min(Case.created_at), func.max(Case.created_at))).one()
    if low is None:
        return 0
    first, last = local_day(low), local_day(high)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    for i in range(0, len(days), 500):
        mark_dirty(session.connection(), days[i : i + 500])
    return len(days)


def rebuild(session_factory: Callable[[], Session], *, as_of: datetime) -> int:
    """Marks every day and recounts them all (after a bulk load outside the ORM, say)."""
    with session_factory() as session, unit_of_work(session):
        session.execute(delete(KpiDayRollup))
        mark_all(session)
    return recount_dirty(session_factory, as_of=as_of)


def differences(session: Session, *, as_of: datetime, days: list[date]) -> list[date]:
    """Of ``days`` (not dirty), those whose rollup rows differ from a recount from the cases."""
    from .service import rollup_aggregates

    aggregates = rollup_aggregates(as_of)
    out = []
    dirty = set(dirty_days(session))
    for day in days:
        if day in dirty:
            continue
        lo, hi = day_span(day)
        live = session.execute(
            select(Case.lead_department_id, Case.case_type, *(e for _n, e in aggregates))
            .where(Case.created_at >= lo, Case.created_at < hi, settled_condition())
            .group_by(Case.lead_department_id, Case.case_type)
        ).all()
        stored = session.execute(
            select(R.c.department_id, R.c.case_type, *(R.c[n] for n in SUM_COLUMNS)).where(
                R.c.day == day
            )
        ).all()
        if sorted(map(_key, live)) != sorted(map(_key, stored)):
            out.append(day)
    return out


def _key(row) -> tuple:
    return tuple(-1 if v is None else (v if isinstance(v, str) else int(v)) for v in row)


class RollupJob:
    """The worker's periodic recount: ``tick()`` is cheap to call after every sweep; it works
    at most every ``every`` seconds, for at most ``budget`` seconds."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        clock,
        every: float = 60.0,
        budget: float = 5.0,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.every = timedelta(seconds=every)
        self.budget = budget
        self._last: datetime | None = None

    def run(self) -> int:
        """Every dirty day now (``hotline worker --until-idle``)."""
        self._last = self.clock.now()
        return recount_dirty(self.session_factory, as_of=self._last)

    def tick(self) -> int:
        now = self.clock.now()
        if self._last is not None and now - self._last < self.every:
            return 0
        self._last = now
        return recount_dirty(self.session_factory, as_of=now, max_seconds=self.budget)
