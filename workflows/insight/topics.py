"""Topics and areas: counts of cases by category x area x local week or month, the previous
period of the same length beside them, cases per 10,000 residents, and the period's top words.

Counts are grouped in SQL over the cases the user may see (``visible_cases``: a handler counts
only their department's cases), in the centre's local weeks and months
(``workflows.kpi.buckets``). The top words read the descriptions of the period's visible,
non-confidential cases; a period of more than ``WORD_CAP`` cases is sampled evenly by case id
(``Words.sampled`` says so), so the page answers in bounded time.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.cases.models import Case
from workflows.cases.service import visible_cases
from workflows.kpi.buckets import as_date, bucket_start, bucket_starts, zone_named
from workflows.users.models import User

from .models import Area
from .text import segmenter

By = Literal["week", "month"]
BYS: tuple[By, ...] = ("week", "month")
DEFAULT_WEEKS = 8
#: most descriptions segmented for one period's words (see docs/insight-topics.md for timings)
WORD_CAP = 2000
TOP_WORDS = 30
#: the longest period asked for (a bound on the buckets and the SQL)
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    """Local days ``start`` to ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """``[start, end)`` as aware datetimes: local midnights."""
        return (
            datetime.combine(self.start, time(0), tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=zone),
        )


def default_period(today: date, by: By) -> Period:
    """The last ``DEFAULT_WEEKS`` local weeks (this one included) or the current month, to today."""
    if by == "month":
        return Period(today.replace(day=1), today)
    monday = today - timedelta(days=today.weekday())
    return Period(monday - timedelta(weeks=DEFAULT_WEEKS - 1), today)


def check_period(start: date | None, end: date | None) -> dict[str, list[str]]:
    """Problems with a chosen period, per field (English; the web layer words them)."""
    errors: dict[str, list[str]] = {}
    if start and end:
        if start > end:
            errors["to"] = ["before from"]
        elif (end - start).days + 1 > MAX_DAYS:
            errors["from"] = [f"a period of at most {MAX_DAYS} days"]
    return errors


@dataclass(frozen=True)
class Cell:
    category: str
    area: str
    bucket: date
    count: int


@dataclass(frozen=True)
class Change:
    """A count beside the previous period's: the change, and the percent (None from zero)."""

    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def percent(self) -> float | None:
        if not self.previous:
            return None
        return round(100.0 * self.change / self.previous, 1)


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    name_en: str
    counts: Change
    population: int | None

    @property
    def per_10k(self) -> float | None:
        """Cases per 10,000 residents, where the population is set."""
        if not self.population:
            return None
        return round(self.counts.count * 10_000 / self.population, 2)


@dataclass
class Words:
    top: list[tuple[str, int]]
    #: cases read for the words, of ``total`` in the period (confidential ones are never read)
    read: int
    total: int

    @property
    def sampled(self) -> bool:
        return self.read < self.total


@dataclass
class Topics:
    period: Period
    previous: Period
    by: By
    buckets: list[date]
    cells: list[Cell]
    total: Change
    categories: list[tuple[str, Change]]
    areas: list[AreaRow]
    words: Words | None = None
    #: bucket -> count, all categories and areas
    trend: dict[date, int] = field(default_factory=dict)


def _scope(session: Session, user: User, period: Period, zone: ZoneInfo, filters: dict):
    start, end = period.bounds(zone)
    stmt = visible_cases(session, user).where(Case.created_at >= start, Case.created_at < end)
    if filters.get("category"):
        stmt = stmt.where(Case.category == filters["category"])
    if filters.get("area"):
        stmt = stmt.where(Case.area == filters["area"])
    return stmt, start, end


def count_cells(
    session: Session,
    *,
    user: User,
    period: Period,
    by: By,
    tz: str,
    category: str | None = None,
    area: str | None = None,
) -> list[Cell]:
    """Cases per category x area x local week (Monday) or month, grouped in SQL."""
    zone = zone_named(tz)
    stmt, start, end = _scope(session, user, period, zone, {"category": category, "area": area})
    dialect = session.get_bind().dialect.name
    bucket = bucket_start(dialect, by, zone, start, end).label("bucket")
    grouped = (
        stmt.with_only_columns(Case.category, Case.area, bucket, func.count(Case.id))
        .group_by(Case.category, Case.area, bucket)
        .order_by(bucket, Case.category, Case.area)
    )
    return [
        Cell(cat or "", ar or "", as_date(b), n)  # type: ignore[arg-type]
        for cat, ar, b, n in session.execute(grouped)
    ]


def _totals(session, user, period, zone, filters) -> tuple[dict[str, int], dict[str, int], int]:
    stmt, _start, _end = _scope(session, user, period, zone, filters)
    rows = session.execute(
        stmt.with_only_columns(Case.category, Case.area, func.count(Case.id)).group_by(
            Case.category, Case.area
        )
    ).all()
    by_category: dict[str, int] = defaultdict(int)
    by_area: dict[str, int] = defaultdict(int)
    for cat, ar, n in rows:
        by_category[cat or ""] += n
        by_area[ar or ""] += n
    return by_category, by_area, sum(n for *_k, n in rows)


def top_words(
    session: Session,
    *,
    user: User,
    period: Period,
    tz: str,
    category: str | None = None,
    area: str | None = None,
    cap: int = WORD_CAP,
    n: int = TOP_WORDS,
) -> Words:
    """The period's top words, over at most ``cap`` descriptions (an even sample by case id
    when there are more: ids grow with time, so the sample spans the period)."""
    zone = zone_named(tz)
    filters = {"category": category, "area": area}
    stmt, _s, _e = _scope(session, user, period, zone, filters)
    stmt = stmt.where(Case.confidential.is_(False))
    total = session.scalar(stmt.with_only_columns(func.count(Case.id))) or 0
    texts = stmt.with_only_columns(Case.description)
    if total > cap:
        step = math.ceil(total / cap)
        texts = texts.where(Case.id % step == 0)
    descriptions = list(session.scalars(texts.order_by(Case.id).limit(cap)))
    return Words(segmenter(session).top(descriptions, n=n), len(descriptions), total)


def topics(
    session: Session,
    *,
    user: User,
    period: Period,
    by: By,
    tz: str,
    category: str | None = None,
    area: str | None = None,
    words: bool = True,
) -> Topics:
    """The whole report of a period: cells, trend, per-category and per-area counts beside
    the previous period's, per-10k, and (unless ``words`` is False) the top words."""
    zone = zone_named(tz)
    filters = {"category": category, "area": area}
    cells = count_cells(
        session, user=user, period=period, by=by, tz=tz, category=category, area=area
    )
    previous = period.previous()
    # the period's totals are the cells' sums (the same cases): one scan fewer
    now_cat: dict[str, int] = defaultdict(int)
    now_area: dict[str, int] = defaultdict(int)
    for cell in cells:
        now_cat[cell.category] += cell.count
        now_area[cell.area] += cell.count
    now_total = sum(cell.count for cell in cells)
    old_cat, old_area, old_total = _totals(session, user, previous, zone, filters)
    start, end = period.bounds(zone)
    buckets = list(bucket_starts(by, zone, start, end))
    trend = dict.fromkeys(buckets, 0)
    for cell in cells:
        trend[cell.bucket] = trend.get(cell.bucket, 0) + cell.count
    categories = sorted(
        ((c, Change(now_cat.get(c, 0), old_cat.get(c, 0))) for c in set(now_cat) | set(old_cat)),
        key=lambda kv: (-kv[1].count, -kv[1].previous, kv[0]),
    )
    known = {a.code: a for a in session.scalars(select(Area))}
    codes = set(now_area) | set(old_area)
    if not area:
        codes |= set(known)
    elif area in known:
        codes.add(area)
    areas = sorted(
        (
            AreaRow(
                code,
                known[code].name if code in known else "",
                known[code].name_en if code in known else "",
                Change(now_area.get(code, 0), old_area.get(code, 0)),
                known[code].population if code in known else None,
            )
            for code in codes
        ),
        key=lambda row: (-row.counts.count, row.code),
    )
    report = Topics(
        period,
        previous,
        by,
        buckets,
        cells,
        Change(now_total, old_total),
        categories,
        areas,
        trend=trend,
    )
    if words:
        report.words = top_words(
            session, user=user, period=period, tz=tz, category=category, area=area
        )
    return report


def bucket_end(bucket: date, by: By, period: Period) -> date:
    """The last local day of ``bucket`` inside ``period`` (for the case list's date range)."""
    if by == "week":
        last = bucket + timedelta(days=6)
    else:
        last = (bucket.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return min(last, period.end)


def bucket_first(bucket: date, period: Period) -> date:
    return max(bucket, period.start)
