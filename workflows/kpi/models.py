"""The KPI rollup's tables (per local day of the settled cases' sums) and the flush hook that
marks a day dirty in the same transaction as any change that can move its figures.

Why settled cases only: for a closed or merged case no KPI depends on the moment the figures are
read. In ``service._rates`` the reading time (``as_of``) enters only through ``past_due``
(``reply_due < _clock(as_of)``), and ``_clock`` differs from ``as_of`` only for a suspended
(open) case. ``past_due`` is read in two places: the on-time closure denominator
(``dispatched AND (closed OR past_due)``: true for a closed case whatever ``past_due`` is; false
for a merged one, never dispatched in the KPIs' sense) and the overdue numerator
(``reply IS NULL AND past_due``, ``reply = coalesce(replied_at, closed_at)``: never reached for
a closed case, whose ``closed_at`` the one closing path, ``cases.listener._close``, always sets;
and ``with_due`` leaves merged cases out). So a settled case's row of counts is fixed until
the case itself changes, and a change marks its day here.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    event,
    inspect,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.models import Base, BigId, HumanTask
from workflows.calendar.service import DEFAULT_TZ
from workflows.cases.enums import OPEN
from workflows.cases.models import KPI_COLUMNS, Case

#: the centre's zone the days are cut in; a request in another zone reads the cases live
ROLLUP_TZ = DEFAULT_TZ
ROLLUP_ZONE = ZoneInfo(ROLLUP_TZ)
OPEN_VALUES = frozenset(s.value for s in OPEN)
#: every rate of ``service.RATE_KPIS`` has a numerator ``<name>_n`` and denominator ``<name>_d``
RATE_NAMES = (
    "closure",
    "on_time_sign_for",
    "on_time_closure",
    "first_contact_resolution",
    "callback",
    "not_reached",
    "satisfaction",
    "resolution",
    "returned",
    "extended",
    "reopened",
    "overdue",
)
#: the summed columns, in the order of ``service``'s aggregates (then the supervision orders)
SUM_COLUMNS = (
    "cases",
    "dispatched",
    *(f"{name}_{part}" for name in RATE_NAMES for part in ("n", "d")),
    "supervision_orders",
)
#: the case columns the rollup's counts read: a change to one of them may move a day
WATCHED = frozenset((*KPI_COLUMNS, "created_at", "appeal_upheld_at", "supervision_order_count"))


kpi_day_rollups = Table(
    "kpi_day_rollups",
    Base.metadata,
    Column("id", BigId, primary_key=True),
    Column("day", Date, nullable=False),
    #: the lead department; None: never dispatched
    Column("department_id", Integer, nullable=True),
    Column("case_type", String(40), nullable=False),
    *(Column(name, BigInteger, nullable=False, server_default="0") for name in SUM_COLUMNS),
    Index("ix_kpi_day_rollups_day", "day", "department_id", "case_type"),
)


class KpiDayRollup(Base):
    """Sums of the KPI counts of the settled cases created on one local day, per lead
    department and case type (one integer column per name in :data:`SUM_COLUMNS`)."""

    __table__ = kpi_day_rollups


class KpiDirtyDay(Base):
    """A local day whose rollup rows may be out of date: read live until the worker recounts."""

    __tablename__ = "kpi_dirty_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: changes marked since the mark was set (an upsert counts them)
    marks: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


#: The co-handling figure per month (``service.cohandling_by_month``) reads, for the period's
#: co-handling tasks, their case's creation time: both sides from an index alone (0.54 s ->
#: 0.23 s for a year at a million cases on PostgreSQL; docs/evaluation-rollup.md).
COHANDLING_TASK_COLUMNS = ("created_at", "instance_id", "candidate_group", "state", "due_at",
                           "completed_at")  # fmt: skip
ix_human_tasks_cohandle = Index(
    "ix_human_tasks_cohandle",
    *(HumanTask.__table__.c[name] for name in COHANDLING_TASK_COLUMNS),
    postgresql_where=HumanTask.__table__.c.kind == "cohandle",
    sqlite_where=HumanTask.__table__.c.kind == "cohandle",
)
ix_cases_instance_created = Index(
    "ix_cases_instance_created", Case.__table__.c.instance_id, Case.__table__.c.created_at
)


def local_day(at: datetime) -> date:
    return at.astimezone(ROLLUP_ZONE).date()


def day_span(day: date) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of ``day``, aware."""
    first = datetime.combine(day, time(), ROLLUP_ZONE)
    return first, datetime.combine(day + timedelta(days=1), time(), ROLLUP_ZONE)


def mark_dirty(connection, days: set[date] | list[date]) -> None:
    """Marks ``days``; an existing mark is refreshed (an upsert, not DO NOTHING).

    On PostgreSQL the update takes the mark's row lock until this transaction ends, so the
    worker's ``DELETE`` of the mark (the first statement of a recount) waits for this
    transaction, and its recount then sees this transaction's changes. With DO NOTHING an
    existing mark is not locked: the worker could delete it and recount before this
    transaction commits, and the change would be in neither the rollup nor a mark.
    """
    if not days:
        return
    table = KpiDirtyDay.__table__
    dialect = connection.dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    rows = [{"day": d, "marks": 1} for d in sorted(days)]  # sorted: locks in one order
    stmt = module.insert(table).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.day], set_={"marks": table.c.marks + 1}
    )
    connection.execute(stmt)


def _settled(status) -> bool:
    return status is not None and str(status) not in OPEN_VALUES


def _before_after(state, key: str) -> tuple[list, object, bool]:
    """(values before this flush, value now, whether the value before is known) of one
    attribute; it is not when the attribute was set without being loaded (expired after a
    commit, say)."""
    history = state.attrs[key].history
    before = list(history.deleted) or list(history.unchanged)
    now = (history.added or history.unchanged or [None])[0]
    return before, now, bool(history.deleted or history.unchanged)


def _days_of(session: Session) -> set[date]:
    days: set[date] = set()
    for obj in session.new:
        if isinstance(obj, Case) and _settled(obj.status) and obj.created_at is not None:
            days.add(local_day(obj.created_at))
    for obj in session.deleted:
        if isinstance(obj, Case):
            days |= _stored_day(session, obj, settled_only=True)
    for obj in session.dirty:
        if not isinstance(obj, Case):
            continue
        state = inspect(obj)
        if not any(state.attrs[key].history.has_changes() for key in WATCHED):
            continue
        status_before, status_now, status_known = _before_after(state, "status")
        created_before, created_now, created_known = _before_after(state, "created_at")
        if not (status_known and created_known):
            # the stored row still holds the values before this flush (before_flush)
            stored = (
                session.connection()
                .execute(select(Case.status, Case.created_at).where(Case.id == obj.id))
                .first()
            )
            if stored is not None:
                status_before = status_before if status_known else [stored[0]]
                created_before = created_before if created_known else [stored[1]]
        # open before and after: the case is read live, the rollup holds nothing of it
        if not (_settled(status_now) or any(_settled(s) for s in status_before)):
            continue
        days |= {local_day(at) for at in (*created_before, created_now) if at is not None}
    return days


def _stored_day(session: Session, obj: Case, *, settled_only: bool) -> set[date]:
    stored = (
        session.connection()
        .execute(select(Case.status, Case.created_at).where(Case.id == obj.id))
        .first()
    )
    if stored is None or (settled_only and not _settled(stored[0])):
        return set()
    return {local_day(stored[1])}


@event.listens_for(Session, "before_flush")
def _mark_changed_days(session: Session, _context, _instances) -> None:
    # before the flush: the stored rows still hold the values the changes replace
    days = _days_of(session)
    if days:
        mark_dirty(session.connection(), days)
