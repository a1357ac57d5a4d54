"""Supervisor KPIs: one SQL query of conditional aggregates per call, on SQLite and PostgreSQL.

Every rate is a numerator and a denominator counted over the cases *created* in ``[start, end)``
(as the supervisor reads "March's cases"), with the numerator always a subset of the denominator.
Merged duplicates (status ``merged``) count in ``cases`` and nowhere else.

What each KPI counts is stated once, in ``docs/kpis.md``; the dashboard's legend shows the same
words (:data:`KPI_NAMES`), and :func:`_rates` is their SQL.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import (
    Date,
    Select,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.models import UTCDateTime
from workflows.calendar.service import DEFAULT_TZ
from workflows.cases.enums import OPEN, CaseStatus, IntakeOutcome, Outcome, Satisfaction
from workflows.cases.models import Case
from workflows.cases.ordering import case_order
from workflows.departments.models import Department
from workflows.supervision.service import earliest_due, task_overdue

from .buckets import BUCKETS, Bucket, as_date, bucket_start, bucket_starts, zone_named
from .conditions import case_clock, dispatched, overdue_case

GroupKey = Literal["department", "case_type"]
GROUP_KEYS: tuple[GroupKey, ...] = ("department", "case_type")


@dataclass(frozen=True)
class KpiLabel:
    zh: str
    en: str
    #: what the KPI counts, for the dashboard's legend (docs/kpis.md says the same)
    definition_zh: str = ""
    definition_en: str = ""

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def definition(self, lang: str) -> str:
        return self.definition_en if lang == "en" else self.definition_zh


#: Every KPI in display order; the first two are counts, the rest are :class:`Ratio` values.
KPI_NAMES: dict[str, KpiLabel] = {
    "cases": KpiLabel(
        "工单量", "Cases", "期间受理的全部工单（含被合并的重复件）。",
        "Every case recorded in the period, merged duplicates included.",
    ),
    "dispatched": KpiLabel(
        "派单量", "Dispatched", "已派单的工单（不含被合并的）。",
        "Cases dispatched to a department (merged duplicates excluded).",
    ),
    "closure": KpiLabel(
        "办结率", "Closure rate", "已办结 / 受理（不含被合并的重复件）。",
        "Closed / received (merged duplicates excluded).",
    ),
    "on_time_sign_for": KpiLabel(
        "按时签收率", "On-time sign-for rate", "在签收时限内签收 / 已派单。",
        "Signed for by the sign-for deadline / dispatched.",
    ),
    "on_time_closure": KpiLabel(
        "按时办结率", "On-time closure rate",
        "在答复时限（含批准的延期）内办结 / 已派单且已办结或已过时限。",
        "Closed by the reply deadline (approved extensions count) / dispatched and closed or "
        "past the deadline.",
    ),
    "first_contact_resolution": KpiLabel(
        "一次办结率", "First-contact resolution rate",
        "当场解答，或派单后办结且未重办、未超期答复、未升级（签收或答复）/ 受理（不含不予受理"
        "与被合并的）。",
        "Answered at intake, or dispatched and closed without a reopen, a late reply or an "
        "escalation (sign-for or reply) / received (not accepted and merged excluded).",
    ),
    "callback": KpiLabel(
        "回访率", "Callback rate",
        "回访成功（联系上或拒绝评价）/ 经过回访的已办结工单（需回访且流程有回访步骤）。",
        "Callbacks made (reached, or rating declined) / closed cases that went through a "
        "callback (callback required and the diagram has a callback step).",
    ),
    "not_reached": KpiLabel(
        "未联系上率", "Not-reached rate",
        "因多次回访未联系上市民而办结 / 经过回访的已办结工单。",
        "Closed because the citizen was not reached after the callback attempts / closed "
        "cases that went through a callback.",
    ),
    "satisfaction": KpiLabel(
        "满意率", "Satisfaction rate", "满意与基本满意 / 有评价的（不含被合并的）。",
        "Satisfied and basically satisfied / rated (merged excluded).",
    ),
    "resolution": KpiLabel(
        "解决率", "Resolution rate", "评价为已解决 / 有此评价的（不含被合并的）。",
        "Rated resolved / rated resolved or unresolved (merged excluded).",
    ),
    "returned": KpiLabel(
        "退单率", "Return rate", "至少退单一次 / 已派单。",
        "Returned at least once / dispatched.",
    ),
    "extended": KpiLabel(
        "延期率", "Extension rate", "至少延期一次 / 已派单。",
        "Extended at least once / dispatched.",
    ),
    "reopened": KpiLabel(
        "重办率", "Reopen rate", "至少重办一次 / 已派单且已办结。",
        "Reopened at least once / dispatched and closed.",
    ),
    "overdue": KpiLabel(
        "超期率", "Overdue rate",
        "答复（或无答复时的办结）晚于答复时限，或尚未答复且已过时限 / 有答复时限的已派单。",
        "Replied (or closed without a reply) after the reply deadline, or not replied and past "
        "it / dispatched with a reply deadline.",
    ),
}  # fmt: skip
COUNT_KPIS = ("cases", "dispatched")
RATE_KPIS = tuple(name for name in KPI_NAMES if name not in COUNT_KPIS)
#: the co-handling figure on the case list (``kpi=cohandling``): a rate per co-handling unit,
#: not a column of the dashboard's tables, so its cases need the unit too
#: (``department=CODE&department_role=co``; :func:`cohandling_condition`)
COHANDLING_KPI = "cohandling"
COHANDLING_LABEL = KpiLabel(
    "协办按时反馈率", "On-time co-handling rate",
    "按时限送出的协办意见 / 已送出的协办意见，以及已过时限尚未送出的。",
    "Parts sent by their own deadline / parts sent, or still unsent past it.",
)  # fmt: skip


@dataclass(frozen=True)
class Ratio:
    numerator: int
    denominator: int
    #: numerator / denominator, or None when there is nothing to divide by
    rate: float | None = field(init=False)

    def __post_init__(self) -> None:
        rate = self.numerator / self.denominator if self.denominator else None
        object.__setattr__(self, "rate", rate)


@dataclass(frozen=True)
class KpiRow:
    """One group's KPIs. A key the call did not group by is None.

    Grouped by department, the cases never dispatched form the group ``department_id=None``.
    """

    department_id: int | None
    department_name: str | None
    department_name_en: str | None
    case_type: str | None
    #: first local day of the bucket (a Monday for weeks, the 1st for months)
    bucket: date | None
    cases: int
    dispatched: int
    closure: Ratio
    on_time_sign_for: Ratio
    on_time_closure: Ratio
    first_contact_resolution: Ratio
    callback: Ratio
    not_reached: Ratio
    satisfaction: Ratio
    resolution: Ratio
    returned: Ratio
    extended: Ratio
    reopened: Ratio
    overdue: Ratio

    def value(self, name: str) -> int | Ratio:
        if name not in KPI_NAMES:
            raise KeyError(name)
        return getattr(self, name)

    @classmethod
    def empty(cls, **keys: object) -> KpiRow:
        values: dict[str, object] = dict.fromkeys(
            ("department_id", "department_name", "department_name_en", "case_type", "bucket")
        )
        values.update(keys)
        values.update(dict.fromkeys(COUNT_KPIS, 0))
        values.update({name: Ratio(0, 0) for name in RATE_KPIS})
        return cls(**values)  # type: ignore[arg-type]


def compute_kpis(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    group_by: Sequence[GroupKey] = ("department",),
    bucket: Bucket | None = None,
    tz: str = DEFAULT_TZ,
    department_ids: Collection[int] | None = None,
    case_types: Collection[str] | None = None,
) -> list[KpiRow]:
    """KPIs of the cases created in ``[start, end)``, grouped, in one query (see module doc)."""
    _check_aware(start=start, end=end, as_of=as_of)
    unknown = set(group_by) - set(GROUP_KEYS)
    if unknown:
        raise ValueError(f"cannot group by {sorted(unknown)}; choose from {GROUP_KEYS}")
    if bucket is not None and bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}; choose from {BUCKETS}")
    rows = []
    for row in grouped_counts(
        session,
        start=start,
        end=end,
        as_of=as_of,
        group_by=group_by,
        bucket=bucket,
        tz=tz,
        department_ids=department_ids,
        case_types=case_types,
    ):
        values: dict[str, object] = {name: row[name] for name in COUNT_KPIS}
        values.update({name: Ratio(row[f"{name}__n"], row[f"{name}__d"]) for name in RATE_KPIS})
        for key in ("department_id", "department_name", "department_name_en", "case_type"):
            values[key] = row.get(key)
        values["bucket"] = as_date(row.get("bucket"))
        rows.append(KpiRow(**values))  # type: ignore[arg-type]
    return rows


#: the labels of the grouped counts (``<rate>__n``/``__d``) -> the rollup's columns
_LABELS = {
    "cases": "cases",
    "dispatched": "dispatched",
    **{f"{name}__{part}": f"{name}_{part}" for name in RATE_KPIS for part in ("n", "d")},
    "supervision_orders": "supervision_orders",
}
_KEYS = ("department_id", "department_name", "department_name_en", "case_type", "bucket")


def grouped_counts(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    group_by: Sequence[GroupKey],
    bucket: Bucket | None,
    tz: str,
    department_ids: Collection[int] | None,
    case_types: Collection[str] | None,
    orders: bool = False,
) -> list[dict[str, object]]:
    """The counts behind :func:`compute_kpis` (and, with ``orders``, the supervision orders),
    one dict per group: from the rollup and live counts where the rollup can answer
    (``rollup.plan``), else from the one live query, ordered by bucket, department, case type."""
    from . import rollup

    zone = zone_named(tz)
    args = (session, group_by, bucket, zone, start, end, department_ids, case_types, orders)
    p = rollup.plan(session, start=start, end=end, tz=tz)
    # One statement (one snapshot, on PostgreSQL too), which also returns the days marked
    # dirty since the plan read them: then the plan takes them in and the statement runs again.
    for _attempt in range(3):
        if p is None:
            break
        parts = [_rollup_select(*args, plan=p)] + [
            _live_select(*args, as_of=as_of, only=condition, within=(lo, hi), ordered=False)
            for lo, hi, condition in rollup.live_parts(p)
        ]
        names = [column.name for column in parts[0].selected_columns]
        tagged = [part.add_columns(cast(null(), Date).label("dirty_day")) for part in parts]
        probe = rollup.dirty_probe(p, names, zeros=_sum_labels(orders))
        rows = session.execute(union_all(*tagged, probe)).mappings().all()
        newly = {as_date(row["dirty_day"]) for row in rows if row["dirty_day"] is not None}
        if not newly:
            return _merged(rows, keyed=bool(group_by or bucket), orders=orders)
        p = rollup.with_dirty(p, newly)
    return [dict(row) for row in session.execute(_live_select(*args, as_of=as_of)).mappings()]


def _merged(rows, *, keyed: bool, orders: bool) -> list[dict[str, object]]:
    """The parts' rows summed per group (no two parts share a case), ordered by bucket,
    department, case type (nulls last), as the live query orders them."""
    merged: dict[tuple, dict[str, object]] = {}
    if not keyed:  # one row, as the live query's, even with no case
        merged[()] = dict.fromkeys(_KEYS) | dict.fromkeys(_sum_labels(orders), 0)
    for row in rows:
        key = tuple(_key_value(k, row.get(k)) for k in ("bucket", "department_id", "case_type"))
        key = key if keyed else ()
        target = merged.get(key)
        if target is None:
            target = merged[key] = {k: row.get(k) for k in _KEYS}
            target["bucket"] = as_date(row.get("bucket"))  # type: ignore[arg-type]
            target.update(dict.fromkeys(_sum_labels(orders), 0))
        for label in _sum_labels(orders):
            target[label] += int(row[label] or 0)  # type: ignore[operator]
    return [merged[k] for k in sorted(merged, key=lambda k: tuple(map(_nulls_last, k)))]


def _key_value(name: str, value: object) -> object:
    return as_date(value) if name == "bucket" else value  # type: ignore[arg-type]


def _sum_labels(orders: bool) -> list[str]:
    return [label for label in _LABELS if orders or label != "supervision_orders"]


def _key_columns(
    session: Session, group_by, bucket, zone, start, end, *, department, case_type, day
) -> list[ColumnElement]:
    keys: list[ColumnElement] = []
    if "department" in group_by:
        keys += [
            department.label("department_id"),
            Department.name.label("department_name"),
            Department.name_en.label("department_name_en"),
        ]
    if "case_type" in group_by:
        keys.append(case_type.label("case_type"))
    if bucket is not None:
        dialect = session.get_bind().dialect.name
        keys.append(day(dialect, bucket).label("bucket"))
    return keys


def _live_select(
    session, group_by, bucket, zone, start, end, department_ids, case_types, orders,
    *, as_of: datetime, only: ColumnElement[bool] | None = None,
    within: tuple[datetime, datetime] | None = None, ordered: bool = True,
) -> Select:  # fmt: skip
    """The live query: every count of the cases created in the period (and ``only``)."""
    keys = _key_columns(
        session, group_by, bucket, zone, start, end,
        department=Case.lead_department_id, case_type=Case.case_type,
        day=lambda dialect, b: bucket_start(dialect, b, zone, start, end),
    )  # fmt: skip
    aggregates = [expression.label(_label(name)) for name, expression in _aggregates(as_of, orders)]
    stmt = select(*keys, *aggregates).select_from(Case)
    if "department" in group_by:
        stmt = stmt.outerjoin(Department, Department.id == Case.lead_department_id)
    # ``within``: a part of the period, its only bounds on created_at (see rollup.live_parts)
    lo, hi = within or (start, end)
    stmt = _filtered(stmt, lo, hi, department_ids, case_types)
    if only is not None:
        stmt = stmt.where(only)
    if keys:
        stmt = stmt.group_by(*keys)
        if ordered:
            stmt = stmt.order_by(*_ordering(keys))
    return stmt


def _rollup_select(
    session, group_by, bucket, zone, start, end, department_ids, case_types, orders, *, plan
) -> Select:
    """The rollup's sums over the plan's clean whole days."""
    from . import rollup

    table = rollup.R
    keys = _key_columns(
        session, group_by, bucket, zone, start, end,
        department=table.c.department_id, case_type=table.c.case_type,
        day=lambda dialect, b: rollup.day_bucket(dialect, b, table.c.day),
    )  # fmt: skip
    sums = [
        func.coalesce(func.sum(table.c[column]), 0).label(label)
        for label, column in _LABELS.items()
        if label in _sum_labels(orders)
    ]
    stmt = select(*keys, *sums).select_from(table).where(*rollup.rollup_where(plan))
    if "department" in group_by:
        stmt = stmt.outerjoin(Department, Department.id == table.c.department_id)
    if department_ids is not None:
        stmt = stmt.where(table.c.department_id.in_(list(department_ids)))
    if case_types is not None:
        stmt = stmt.where(table.c.case_type.in_(list(case_types)))
    if keys:
        stmt = stmt.group_by(*keys)
    return stmt


def _label(name: str) -> str:
    """A rollup column's name -> its label in the grouped counts."""
    return {column: label for label, column in _LABELS.items()}[name]


def _aggregates(as_of: datetime, orders: bool) -> list[tuple[str, ColumnElement]]:
    """(rollup column, its count over the selected cases), in the rollup's column order."""
    out: list[tuple[str, ColumnElement]] = [
        ("cases", func.count()),
        ("dispatched", _count(_dispatched())),
    ]
    for name, (numerator, denominator) in _rates(as_of).items():
        out += [(f"{name}_n", _count(numerator)), (f"{name}_d", _count(denominator))]
    if orders:
        out.append(("supervision_orders", func.coalesce(func.sum(Case.supervision_order_count), 0)))
    return out


def rollup_aggregates(as_of: datetime) -> list[tuple[str, ColumnElement]]:
    """What the rollup stores per (day, department, case type): every count of the KPIs and
    the supervision orders (the recount's SELECT list)."""
    return _aggregates(as_of, orders=True)


def kpi_trend(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    bucket: Bucket = "day",
    tz: str = DEFAULT_TZ,
    department_ids: Collection[int] | None = None,
    case_types: Collection[str] | None = None,
) -> list[KpiRow]:
    """The selection's KPIs per local day, week or month, empty buckets included (for charts)."""
    found = {
        row.bucket: row
        for row in compute_kpis(
            session,
            start=start,
            end=end,
            as_of=as_of,
            group_by=(),
            bucket=bucket,
            tz=tz,
            department_ids=department_ids,
            case_types=case_types,
        )
    }
    return [
        found.get(first) or KpiRow.empty(bucket=first)
        for first in bucket_starts(bucket, zone_named(tz), start, end)
    ]


def overdue_now(
    session: Session,
    *,
    as_of: datetime,
    department_ids: Collection[int] | None = None,
    limit: int = 50,
    offset: int = 0,
    order: Sequence[Any] | None = None,
) -> list[Case]:
    """Open dispatched cases with no reply and past ``reply_due``, and open cases with a ready
    task past its own deadline (a late dispatch, say): the most urgent first, then the most
    overdue (by the earliest of the two deadlines); or in ``order`` (a column the list was
    sorted by, ending with a unique one)."""
    _check_aware(as_of=as_of)
    stmt = (
        select(Case)
        .where(_overdue_now(as_of, department_ids, session))
        .order_by(*(order or case_order(earliest_due(session))))
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt))


def count_overdue_now(
    session: Session, *, as_of: datetime, department_ids: Collection[int] | None = None
) -> int:
    """How many cases :func:`overdue_now` pages through."""
    _check_aware(as_of=as_of)
    # on SQLite the subquery form (no session): a count reads no rows; on PostgreSQL the form
    # of the list (see _overdue_now)
    pg = session.get_bind().dialect.name == "postgresql"
    condition = _overdue_now(as_of, department_ids, session if pg else None)
    stmt = select(func.count()).select_from(Case).where(condition)
    return session.scalar(stmt) or 0


# --- the predicates ----------------------------------------------------------------------------


def _dispatched() -> ColumnElement[bool]:
    return dispatched()


def _clock(as_of: datetime) -> ColumnElement:
    """``as_of``, or ``paused_at`` if earlier for a suspended case: its clock is not running."""
    return case_clock(as_of)


def _rates(as_of: datetime) -> dict[str, tuple[ColumnElement[bool], ColumnElement[bool]]]:
    """KPI name -> (numerator, denominator) conditions, in :data:`RATE_KPIS` order; the
    definitions are docs/kpis.md's."""
    live = Case.status != CaseStatus.MERGED.value
    received = and_(live, Case.outcome != Outcome.MERGED.value)
    closed = Case.status == CaseStatus.CLOSED.value
    dispatched = _dispatched()
    past_due = Case.reply_due < _clock(as_of)
    with_due = and_(dispatched, Case.reply_due.is_not(None))
    reply = func.coalesce(Case.replied_at, Case.closed_at)
    closed_dispatched = and_(dispatched, closed)
    # closed cases the workflow called back: every attempt at a callback step sets callback_at
    called_back = and_(
        closed, Case.callback_required.is_(True), Case.callback_at.is_not(None), received
    )
    not_reached = Case.outcome == Outcome.NOT_REACHED.value
    rates = {
        "closure": (and_(received, closed), received),
        "on_time_sign_for": (and_(dispatched, Case.signed_at <= Case.sign_due), dispatched),
        "on_time_closure": (
            and_(closed_dispatched, Case.closed_at <= Case.reply_due),
            and_(dispatched, or_(closed, past_due)),
        ),
        "first_contact_resolution": (
            and_(
                received,
                or_(
                    Case.intake_outcome == IntakeOutcome.ANSWERED.value,
                    and_(
                        Case.intake_outcome == IntakeOutcome.DISPATCH.value,
                        closed,
                        Case.reopen_count == 0,
                        or_(Case.reply_due.is_(None), reply <= Case.reply_due),
                        Case.escalated.is_(False),
                        Case.sign_escalated.is_(False),
                    ),
                ),
            ),
            and_(received, Case.intake_outcome != IntakeOutcome.NOT_ACCEPTED.value),
        ),
        "callback": (and_(called_back, ~not_reached), called_back),
        "not_reached": (and_(called_back, not_reached), called_back),
        "satisfaction": (
            and_(
                live,
                Case.satisfaction.in_(
                    [Satisfaction.SATISFIED.value, Satisfaction.BASICALLY_SATISFIED.value]
                ),
            ),
            and_(live, Case.satisfaction.is_not(None)),
        ),
        "resolution": (
            and_(live, Case.resolved.is_(True)),
            and_(live, Case.resolved.is_not(None)),
        ),
        "returned": (and_(dispatched, Case.return_count > 0), dispatched),
        "extended": (and_(dispatched, Case.extension_count > 0), dispatched),
        "reopened": (and_(closed_dispatched, Case.reopen_count > 0), closed_dispatched),
        "overdue": (overdue_case(as_of), with_due),
    }
    # a case whose appeal (申诉) was upheld leaves every rate, numerator and denominator alike
    kept = Case.appeal_upheld_at.is_(None)
    return {name: (and_(n, kept), and_(d, kept)) for name, (n, d) in rates.items()}


#: which side of a rate a figure is: its numerator or its denominator
KPI_PARTS = ("n", "d")


def kpi_condition(name: str, part: str, as_of: datetime) -> ColumnElement[bool] | None:
    """The cases behind one figure of the dashboard, the same SQL that counts it: a count
    KPI's cases (None for ``cases``: every case of the period), or a rate's numerator
    (``part`` "n") or denominator ("d"). The case list's ``kpi`` filter, so that a figure's
    link lists exactly the cases it counts (with the period's created dates, the lead
    department and the case type of its row)."""
    if name == "cases":
        return None
    if name == "dispatched":
        return _dispatched()
    if name not in RATE_KPIS or part not in KPI_PARTS:
        raise ValueError(f"unknown KPI figure {name!r}/{part!r}")
    numerator, denominator = _rates(as_of)[name]
    return numerator if part == "n" else denominator


def _overdue_now(
    as_of: datetime, department_ids: Collection[int] | None, session: Session | None = None
) -> ColumnElement[bool]:
    # The open statuses listed (not "not closed or merged") and ``reply_due < as_of`` spelled
    # out (the clock is never later than ``as_of``): the same cases, found through the
    # (status, reply_due) index instead of a scan of every case.
    condition = and_(
        Case.status.in_(sorted(s.value for s in OPEN)),
        Case.dispatched_at.is_not(None),
        Case.replied_at.is_(None),
        Case.reply_due < literal(as_of, UTCDateTime()),
        Case.reply_due < _clock(as_of),
    )
    late = task_overdue(as_of, session)  # a ready task past its own deadline
    if session is not None and session.get_bind().dialect.name == "postgresql":
        # PostgreSQL takes the status condition common to both sides of an OR out of it and
        # reads every open case by the status index (14,000 rows for 219 at a million cases).
        # Each side alone takes its own index (the reply's: ix_cases_overdue_reply, which
        # holds only the open cases awaiting a reply), so the two are a UNION of case ids.
        overdue = select(Case.id).where(condition).union(select(Case.id).where(late))
        condition = Case.id.in_(overdue)
    else:
        condition = or_(condition, late)
    if department_ids is not None:
        condition = and_(condition, Case.lead_department_id.in_(list(department_ids)))
    return condition


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    # COUNT skips the NULL of an unmatched CASE: a conditional count that is 0, never NULL.
    return func.count(case((condition, literal_column("1"))))


def _filtered(
    stmt: Select,
    start: datetime,
    end: datetime,
    department_ids: Collection[int] | None,
    case_types: Collection[str] | None,
) -> Select:
    stmt = stmt.where(Case.created_at >= start, Case.created_at < end)
    if department_ids is not None:
        stmt = stmt.where(Case.lead_department_id.in_(list(department_ids)))
    if case_types is not None:
        stmt = stmt.where(Case.case_type.in_(list(case_types)))
    return stmt


def _ordering(keys: list[ColumnElement]) -> list[ColumnElement]:
    # NULLS LAST spelled out: SQLite and PostgreSQL put NULLs at opposite ends by default.
    by_name = {key.name: key for key in keys}  # type: ignore[attr-defined]
    order = [by_name[n] for n in ("bucket", "department_id", "case_type") if n in by_name]
    return [key.asc().nulls_last() for key in order]


def _check_aware(**values: datetime) -> None:
    for name, value in values.items():
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be an aware datetime")


@dataclass(frozen=True)
class KpiBoard:
    """A dashboard's KPIs: the totals, per department, per case type and the trend."""

    totals: KpiRow
    departments: list[KpiRow]
    case_types: list[KpiRow]
    trend: list[KpiRow]


def kpi_board(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    bucket: Bucket = "day",
    tz: str = DEFAULT_TZ,
    department_ids: Collection[int] | None = None,
    case_types: Collection[str] | None = None,
) -> KpiBoard:
    """What :func:`compute_kpis` grouped by nothing, by department and by case type, and
    :func:`kpi_trend`, give for the same selection, from one query.

    The query groups by department, case type and bucket; the tables are sums of its rows
    (every KPI is a count, so numerators and denominators add up exactly). One pass over the
    period's cases instead of four.
    """
    rows = compute_kpis(
        session,
        start=start,
        end=end,
        as_of=as_of,
        group_by=("department", "case_type"),
        bucket=bucket,
        tz=tz,
        department_ids=department_ids,
        case_types=case_types,
    )
    by_department: dict[int | None, list[KpiRow]] = {}
    by_type: dict[str | None, list[KpiRow]] = {}
    by_bucket: dict[date | None, list[KpiRow]] = {}
    for row in rows:
        by_department.setdefault(row.department_id, []).append(row)
        by_type.setdefault(row.case_type, []).append(row)
        by_bucket.setdefault(row.bucket, []).append(row)
    departments = [
        _sum(
            group,
            department_id=key,
            department_name=group[0].department_name,
            department_name_en=group[0].department_name_en,
        )
        for key, group in sorted(by_department.items(), key=lambda kv: _nulls_last(kv[0]))
    ]
    types = [
        _sum(group, case_type=key)
        for key, group in sorted(by_type.items(), key=lambda kv: _nulls_last(kv[0]))
    ]
    trend = [
        _sum(by_bucket[first], bucket=first) if first in by_bucket else KpiRow.empty(bucket=first)
        for first in bucket_starts(bucket, zone_named(tz), start, end)
    ]
    return KpiBoard(_sum(rows), departments, types, trend)


def _nulls_last(key: object) -> tuple[bool, object]:
    return (key is None, key if key is not None else 0)


def _sum(rows: Sequence[KpiRow], **keys: object) -> KpiRow:
    """The KPIs of the union of ``rows``' groups (groups never share a case)."""
    values: dict[str, object] = dict.fromkeys(
        ("department_id", "department_name", "department_name_en", "case_type", "bucket")
    )
    values.update(keys)
    for name in COUNT_KPIS:
        values[name] = sum(getattr(row, name) for row in rows)
    for name in RATE_KPIS:
        values[name] = Ratio(
            sum(getattr(row, name).numerator for row in rows),
            sum(getattr(row, name).denominator for row in rows),
        )
    return KpiRow(**values)  # type: ignore[arg-type]


# --- co-handling: each co-handling unit's parts, by their own deadline ------------------------


@dataclass(frozen=True)
class CohandlingRow:
    """A co-handling unit's on-time figure (it is counted as the unit asked, not as a lead)."""

    department_id: int
    department_code: str
    department_name: str
    department_name_en: str | None
    #: parts sent by their deadline / parts sent, or still unsent past their deadline
    on_time: Ratio


def cohandling_on_time(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    department_ids: Collection[int] | None = None,
) -> list[CohandlingRow]:
    """Per co-handling unit, for the cases created in ``[start, end)``: its co-handling tasks
    answered by their deadline / those answered, or unanswered past their deadline as of
    ``as_of`` (a task cancelled when its case closed counts if its deadline came first).
    Tasks still in time are undecided and left out, as for on-time closure."""
    _check_aware(start=start, end=end, as_of=as_of)
    stmt = _cohandling_select(start=start, end=end, as_of=as_of, department_ids=department_ids)
    return [
        CohandlingRow(dept_id, code, name, name_en, Ratio(n, d))
        for dept_id, code, name, name_en, n, d in session.execute(stmt)
    ]


def cohandling_by_month(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    tz: str = DEFAULT_TZ,
    department_ids: Collection[int] | None = None,
) -> dict[tuple[date, int], Ratio]:
    """:func:`cohandling_on_time` per (local month of the case's creation, unit), in one pass
    over the period's co-handling tasks (twelve monthly calls read each later month's tasks
    again: 3.4 s for a year at a million cases on PostgreSQL)."""
    _check_aware(start=start, end=end, as_of=as_of)
    dialect = session.get_bind().dialect.name
    month = bucket_start(dialect, "month", zone_named(tz), start, end).label("month")
    stmt = _cohandling_select(
        start=start, end=end, as_of=as_of, department_ids=department_ids, month=month
    )
    return {
        (as_date(m), dept_id): Ratio(n, d)
        for dept_id, _code, _name, _name_en, m, n, d in session.execute(stmt)
    }


def _cohandling_parts(as_of: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(answered on time, decided) for a co-handling task as of ``as_of``: the numerator's
    and the denominator's condition of the on-time co-handling rate."""
    from engine.models import HumanTask

    ht = HumanTask
    now = literal(as_of, UTCDateTime())
    done = ht.state == "completed"
    late_open = and_(ht.state == "ready", ht.due_at < now)
    late_cancelled = and_(ht.state == "cancelled", ht.due_at < ht.completed_at)
    decided = or_(done, late_open, late_cancelled)
    on_time = and_(done, or_(ht.due_at.is_(None), ht.completed_at <= ht.due_at))
    return on_time, decided


def cohandling_condition(department_id: int, part: str, as_of: datetime) -> ColumnElement[bool]:
    """The cases behind one co-handling unit's figure (:func:`cohandling_on_time`): those
    with a co-handling task of the unit answered on time (``part`` "n") or decided ("d"),
    the same conditions the figure counts with. The figure counts tasks, the list cases: they
    differ only for a case that asked the same unit twice."""
    from engine.models import HumanTask
    from workflows.cases.steps import Step

    if part not in KPI_PARTS:
        raise ValueError(f"unknown KPI part {part!r}")
    on_time, decided = _cohandling_parts(as_of)
    code = select(Department.code).where(Department.id == department_id).correlate(None)
    code = code.scalar_subquery()
    return exists().where(
        HumanTask.instance_id == Case.instance_id,
        HumanTask.kind == Step.COHANDLE.value,
        HumanTask.candidate_group == code,
        on_time if part == "n" else decided,
    )


def _cohandling_select(
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    department_ids: Collection[int] | None,
    month: ColumnElement | None = None,
) -> Select:
    from engine.models import HumanTask
    from workflows.cases.steps import Step

    ht = HumanTask
    on_time, decided = _cohandling_parts(as_of)
    keys = [Department.id, Department.code, Department.name, Department.name_en]
    if month is not None:
        keys.append(month)
    stmt = (
        select(*keys, _count(on_time).label("n"), _count(decided).label("d"))
        .select_from(ht)
        .join(Case, Case.instance_id == ht.instance_id)
        .join(Department, Department.code == ht.candidate_group)
        .where(
            ht.kind == Step.COHANDLE.value,
            # a case's tasks come after it: the index (kind, created_at) starts at the period
            ht.created_at >= start,
            Case.created_at >= start,
            Case.created_at < end,
        )
        .group_by(*keys)
        .order_by(Department.id)
    )
    if department_ids is not None:
        stmt = stmt.where(Department.id.in_(list(department_ids)))
    return stmt
