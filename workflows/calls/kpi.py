"""Call KPIs (docs/calls.md, "KPIs"; docs/kpis.md, "Calls"): counts and averages over the calls
that *arrived* in ``[start, end)``, in one query of conditional aggregates per table.

- inbound: every call; answered, abandoned, missed, transferred: by outcome; live calls
  (no outcome yet) count in inbound only;
- answer rate = answered / inbound; abandon rate = abandoned / inbound;
- average speed of answer (ASA) = mean wait of the answered calls;
- average handling time (AHT) = mean of talk plus recorded after-call work, over the answered
  calls whose talk is known (ended); average talk time likewise without the after-call work;
- calls per case = the calls linked to a case / the distinct cases they link;
- cases per call type: the distinct cases linked to the period's calls, by the case's type.

What each figure counts is stated once, in :data:`CALL_KPI_NAMES` (the page's legend) and in
the docs, which say the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import Select, case, distinct, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..calendar.service import DEFAULT_TZ
from ..cases.models import Case
from ..kpi.buckets import BUCKETS, Bucket, as_date, bucket_start, bucket_starts, zone_named
from ..kpi.service import KpiLabel
from .enums import Outcome
from .models import Call

CallGroupKey = Literal["queue", "agent"]
CALL_GROUP_KEYS: tuple[CallGroupKey, ...] = ("queue", "agent")


#: Every call figure in display order (the page's columns, the CSV's, the legend).
CALL_KPI_NAMES: dict[str, KpiLabel] = {
    "inbound": KpiLabel(
        "呼入量", "Inbound", "期间到达的全部来电（含仍在排队或通话中的）。",
        "Every call that arrived in the period (live calls included).",
    ),
    "answered": KpiLabel(
        "接通量", "Answered", "有接线员接起的来电。", "Calls an operator picked up.",
    ),
    "abandoned": KpiLabel(
        "放弃量", "Abandoned", "接通前来电人挂断的来电。",
        "Calls the caller hung up before anyone answered.",
    ),
    "missed": KpiLabel(
        "未接量", "Missed", "电话系统放弃的来电（无人空闲、非工作时间、队列已满）。",
        "Calls the phone system gave up on (nobody free, after hours, queue full).",
    ),
    "transferred": KpiLabel(
        "转出量", "Transferred", "接通前转到其他线路的来电。",
        "Calls passed to another line before anyone answered.",
    ),
    "answer_rate": KpiLabel(
        "接通率", "Answer rate", "接通量 / 呼入量。", "Answered / inbound.",
    ),
    "abandon_rate": KpiLabel(
        "放弃率", "Abandon rate", "放弃量 / 呼入量。", "Abandoned / inbound.",
    ),
    "asa": KpiLabel(
        "平均应答时长", "Average speed of answer",
        "接通来电从到达到接起的平均等待秒数。",
        "Mean wait of the answered calls, from arrival to answer, in seconds.",
    ),
    "aht": KpiLabel(
        "平均处理时长", "Average handling time",
        "已结束的接通来电的平均通话加话后处理秒数。",
        "Mean talk plus recorded after-call work of the answered calls that ended, in seconds.",
    ),
    "talk": KpiLabel(
        "平均通话时长", "Average talk time", "已结束的接通来电的平均通话秒数。",
        "Mean talk of the answered calls that ended, in seconds.",
    ),
    "calls_per_case": KpiLabel(
        "每件来电数", "Calls per case", "关联工单的来电 / 这些来电关联的不同工单数。",
        "Calls linked to a case / the distinct cases they link.",
    ),
    "cases_by_type": KpiLabel(
        "各类型工单数", "Cases per call type",
        "期间来电关联的不同工单数，按工单类型。",
        "The distinct cases linked to the period's calls, by case type.",
    ),
}  # fmt: skip
COUNT_NAMES = ("inbound", "answered", "abandoned", "missed", "transferred")
RATE_NAMES = ("answer_rate", "abandon_rate")
SECONDS_NAMES = ("asa", "aht", "talk")


@dataclass(frozen=True)
class CallFigures:
    inbound: int
    answered: int
    abandoned: int
    missed: int
    transferred: int
    #: mean seconds; None when no call gives one
    asa_seconds: float | None
    aht_seconds: float | None
    talk_seconds: float | None
    #: calls linked to a case, and the distinct cases they link
    linked_calls: int = 0
    linked_cases: int = 0

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.inbound if self.inbound else None

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned / self.inbound if self.inbound else None

    @property
    def calls_per_case(self) -> float | None:
        return self.linked_calls / self.linked_cases if self.linked_cases else None

    def seconds(self, name: str) -> float | None:
        """``asa``, ``aht`` or ``talk``."""
        return {"asa": self.asa_seconds, "aht": self.aht_seconds, "talk": self.talk_seconds}[name]

    @classmethod
    def empty(cls) -> CallFigures:
        return cls(0, 0, 0, 0, 0, None, None, None)


@dataclass(frozen=True)
class CallKpiRow:
    """One group's figures; a key the query did not group by is None."""

    queue: str | None
    agent: str | None
    #: first local day of the bucket (a Monday for weeks, the 1st for months)
    bucket: date | None
    figures: CallFigures


def _count(outcome: str) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((Call.outcome == outcome, 1), else_=0)), 0)


def _aggregates() -> list[ColumnElement]:
    answered = Call.outcome == Outcome.ANSWERED
    handled = case(
        (
            answered & Call.talk_seconds.is_not(None),
            Call.talk_seconds + func.coalesce(Call.wrap_seconds, 0),
        ),
        else_=None,
    )
    return [
        func.count().label("inbound"),
        _count(Outcome.ANSWERED).label("answered"),
        _count(Outcome.ABANDONED).label("abandoned"),
        _count(Outcome.MISSED).label("missed"),
        _count(Outcome.TRANSFERRED).label("transferred"),
        func.avg(case((answered, Call.wait_seconds), else_=None)).label("asa"),
        func.avg(handled).label("aht"),
        func.avg(case((answered, Call.talk_seconds), else_=None)).label("talk"),
        func.count(Call.case_id).label("linked_calls"),
        func.count(distinct(Call.case_id)).label("linked_cases"),
    ]


def _seconds(value: object) -> float | None:
    return float(value) if value is not None else None  # type: ignore[arg-type]


def _figures(row) -> CallFigures:
    return CallFigures(
        inbound=int(row["inbound"]),
        answered=int(row["answered"]),
        abandoned=int(row["abandoned"]),
        missed=int(row["missed"]),
        transferred=int(row["transferred"]),
        asa_seconds=_seconds(row["asa"]),
        aht_seconds=_seconds(row["aht"]),
        talk_seconds=_seconds(row["talk"]),
        linked_calls=int(row["linked_calls"]),
        linked_cases=int(row["linked_cases"]),
    )


def _filtered(
    stmt: Select, start: datetime, end: datetime, queue: str | None, agent: str | None
) -> Select:
    stmt = stmt.where(Call.arrived_at >= start, Call.arrived_at < end)
    if queue is not None:
        stmt = stmt.where(Call.queue == queue)
    if agent is not None:
        stmt = stmt.where(Call.agent == agent)
    return stmt


def figures(session: Session, *, start: datetime, end: datetime) -> CallFigures:
    """The figures of the calls that arrived in ``[start, end)``."""
    stmt = _filtered(select(*_aggregates()), start, end, None, None)
    return _figures(session.execute(stmt).mappings().one())


def call_figures(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    group_by: Sequence[CallGroupKey] = (),
    bucket: Bucket | None = None,
    tz: str = DEFAULT_TZ,
    queue: str | None = None,
    agent: str | None = None,
) -> list[CallKpiRow]:
    """The figures of the calls that arrived in ``[start, end)``, grouped by queue and/or
    operator and/or local day, week or month, in one query; only groups with calls (grouped by
    nothing: one row, zeros for an empty period). Ordered by bucket, queue, operator."""
    unknown = set(group_by) - set(CALL_GROUP_KEYS)
    if unknown:
        raise ValueError(f"cannot group by {sorted(unknown)}; choose from {CALL_GROUP_KEYS}")
    if bucket is not None and bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}; choose from {BUCKETS}")
    zone = zone_named(tz)
    keys: list[ColumnElement] = []
    if bucket is not None:
        dialect = session.get_bind().dialect.name
        keys.append(
            bucket_start(dialect, bucket, zone, start, end, Call.arrived_at).label("bucket")
        )
    if "queue" in group_by:
        keys.append(Call.queue.label("queue"))
    if "agent" in group_by:
        keys.append(Call.agent.label("agent"))
    stmt = _filtered(select(*keys, *_aggregates()), start, end, queue, agent)
    if keys:
        stmt = stmt.group_by(*keys).order_by(*keys)
    return [
        CallKpiRow(
            queue=row.get("queue"),
            agent=row.get("agent"),
            bucket=as_date(row.get("bucket")),
            figures=_figures(row),
        )
        for row in session.execute(stmt).mappings()
    ]


def call_trend(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    bucket: Bucket = "day",
    tz: str = DEFAULT_TZ,
) -> list[CallKpiRow]:
    """The figures per local day, week or month, empty buckets included."""
    found = {
        row.bucket: row for row in call_figures(session, start=start, end=end, bucket=bucket, tz=tz)
    }
    return [
        found.get(first) or CallKpiRow(None, None, first, CallFigures.empty())
        for first in bucket_starts(bucket, zone_named(tz), start, end)
    ]


def cases_per_call_type(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    queue: str | None = None,
    agent: str | None = None,
) -> list[tuple[str, int]]:
    """(case type, distinct cases) of the cases linked to the calls that arrived in
    ``[start, end)``, the most first (then by type)."""
    cases = func.count(distinct(Case.id))
    stmt = _filtered(
        select(Case.case_type, cases).select_from(Call).join(Case, Case.id == Call.case_id),
        start,
        end,
        queue,
        agent,
    )
    stmt = stmt.group_by(Case.case_type).order_by(cases.desc(), Case.case_type)
    return [(case_type, int(n)) for case_type, n in session.execute(stmt)]


@dataclass(frozen=True)
class CallKpis:
    """The KPI page's calls section: totals, trend, per queue, per operator, per case type."""

    totals: CallFigures
    trend: list[CallKpiRow]
    queues: list[CallKpiRow]
    agents: list[CallKpiRow]
    case_types: list[tuple[str, int]]


def call_kpis(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    bucket: Bucket = "day",
    tz: str = DEFAULT_TZ,
) -> CallKpis:
    """Everything the KPI page shows of the calls of ``[start, end)`` (five small queries)."""
    return CallKpis(
        totals=figures(session, start=start, end=end),
        trend=call_trend(session, start=start, end=end, bucket=bucket, tz=tz),
        queues=call_figures(session, start=start, end=end, group_by=("queue",)),
        agents=call_figures(session, start=start, end=end, group_by=("agent",)),
        case_types=cases_per_call_type(session, start=start, end=end),
    )
