"""Local-time buckets (day, ISO week, month) of a time column (``cases.created_at`` unless
told), per SQL dialect."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Date, String, case, cast, func, literal, literal_column
from sqlalchemy.sql.elements import ColumnElement

from workflows.cases.models import Case

Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[Bucket, ...] = ("day", "week", "month")

_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-/]+")


def zone_named(tz: str) -> ZoneInfo:
    # The name is spliced into PostgreSQL's SQL (a bound parameter would make SELECT and
    # GROUP BY different expressions), so it must be a real zone with a harmless spelling.
    if not _ZONE_NAME.fullmatch(tz):
        raise ValueError(f"not a time zone name: {tz!r}")
    return ZoneInfo(tz)


def bucket_start(
    dialect: str,
    bucket: Bucket,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    column: ColumnElement | None = None,
) -> ColumnElement:
    """The local date starting the bucket of ``column`` (``Case.created_at`` unless given): a
    date (PostgreSQL) or ISO text (SQLite)."""
    column = Case.created_at if column is None else column
    if dialect == "postgresql":
        local = func.timezone(literal_column(f"'{zone.key}'"), column)
        return cast(func.date_trunc(literal_column(f"'{bucket}'"), local), Date)
    if dialect == "sqlite":
        # Stored as naive UTC text; the fraction is cut because date() rounds to milliseconds
        # (23:59:59.9999 would land on the next day).
        whole_seconds = func.substr(column, 1, 19)
        modifiers = {"day": (), "week": ("-6 days", "weekday 1"), "month": ("start of month",)}
        shift = _sqlite_shift(zone, start, end, column)
        return func.date(whole_seconds, shift, *modifiers[bucket], type_=String)
    raise NotImplementedError(f"KPI buckets on {dialect}")


def _sqlite_shift(
    zone: ZoneInfo, start: datetime, end: datetime, column: ColumnElement
) -> ColumnElement:
    """A '+28800 seconds' modifier; a CASE on ``column`` when the offset changes in the period."""
    spans = _offset_spans(zone, start, end)
    last = literal(f"{spans[-1][0]:+d} seconds")
    if len(spans) == 1:
        return last
    return case(
        *[(column < until, f"{offset:+d} seconds") for offset, until in spans[:-1]],
        else_=last,
    )


def _offset_spans(
    zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[int, datetime | None]]:
    """(UTC offset in seconds, until) over ``[start, end)``; the last span has until None.

    Walks a day at a time and bisects to the second where the offset changes (zones change at
    most a few times a year, never twice in a day).
    """

    def offset(second: int) -> int:
        return int(datetime.fromtimestamp(second, zone).utcoffset().total_seconds())  # type: ignore[union-attr]

    spans: list[tuple[int, datetime | None]] = []
    at, stop = int(start.timestamp()), int(end.timestamp()) + 1
    current = offset(at)
    while at < stop:
        step = min(at + 86_400, stop)
        if offset(step) != current:
            low, high = at, step
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == current else (low, middle)
            spans.append((current, datetime.fromtimestamp(high, UTC)))
            current, step = offset(high), high
        at = step
    spans.append((current, None))
    return spans


def bucket_starts(bucket: Bucket, zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[date]:
    """The first local day of every bucket touching ``[start, end)``, in order."""
    if start >= end:
        return
    day = _floor(bucket, start.astimezone(zone).date())
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    while day <= last:
        yield day
        if bucket == "day":
            day += timedelta(days=1)
        elif bucket == "week":
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _floor(bucket: Bucket, day: date) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def as_date(value: date | str | None) -> date | None:
    """A bucket as read back: PostgreSQL gives a date, SQLite ISO text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)
