"""Working-day arithmetic over the exceptions table, and the services that keep that table.

Deadlines count working days and working hours: Monday to Friday, except public holidays, plus
the weekend days China moves work to (调休). The table ``calendar_days`` holds only exceptions to
the weekday rule; :class:`WorkingCalendar` applies them.

Naive datetimes anywhere here are read as wall time in the calendar's zone (as timers read them);
results are aware datetimes in that zone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import unit_of_work

from .models import CalendarDay

#: the units a deadline may be counted in (``after(amount, unit)``, the policy table)
UNITS = ("workdays", "workhours", "hours", "days")
KINDS = ("holiday", "workday", "normal")
#: the hotline's local zone unless configured (HOTLINE_TIMEZONE)
DEFAULT_TZ = "Asia/Shanghai"
_END_OF_DAY = time(23, 59, 59)
#: Working days or hours one step may count: stops a runaway expression scanning centuries.
MAX_AMOUNT = 100_000


class WorkingCalendar:
    """Mon-Fri work, Sat/Sun off, overridden per date by ``exceptions`` (True = worked)."""

    def __init__(
        self,
        tz: ZoneInfo | str = DEFAULT_TZ,
        exceptions: Mapping[date, bool] | None = None,
        *,
        work_start: time = time(9),
        work_end: time = time(17),
    ) -> None:
        if work_start >= work_end:
            raise ValueError(f"working hours must end after they start ({work_start}-{work_end})")
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.exceptions: dict[date, bool] = dict(exceptions or {})
        self.work_start = work_start
        self.work_end = work_end

    # -- days ------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is worked: its exception if it has one, else Monday to Friday."""
        return self.exceptions.get(d, d.weekday() < 5)

    def add_workdays(self, start: datetime, n: int) -> datetime:
        """The end (23:59:59 local) of the n-th working day after ``start``'s day."""
        n = _whole(n, "working days")
        if n > MAX_AMOUNT:
            raise ValueError(f"{n} working days is more than the {MAX_AMOUNT} allowed")
        day = self._local(start).date()
        while n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return datetime.combine(day, _END_OF_DAY, tzinfo=self.tz)

    # -- hours -----------------------------------------------------------------------------

    def _windows(self, first: date) -> Iterator[tuple[datetime, datetime]]:
        """Working-hour windows, as aware UTC pairs, from ``first`` on (forever)."""
        day = first
        while True:
            if self.is_working_day(day):
                yield (
                    datetime.combine(day, self.work_start, tzinfo=self.tz).astimezone(UTC),
                    datetime.combine(day, self.work_end, tzinfo=self.tz).astimezone(UTC),
                )
            day += timedelta(days=1)

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """Time inside working hours of working days between two instants (exact)."""
        start, end = self._local(start), self._local(end)
        total = timedelta(0)
        if end <= start:
            return total
        start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
        for opens, closes in self._windows(start.date()):
            if opens >= end_utc:
                break
            lo, hi = max(opens, start_utc), min(closes, end_utc)
            if hi > lo:
                total += hi - lo
        return total

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds inside working hours of working days between two instants (0 if none)."""
        return self.working_time(start, end).total_seconds()

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant when ``seconds`` of working time have passed since ``start``."""
        seconds = _number(seconds, "working seconds")
        if seconds > MAX_AMOUNT * 3600:
            raise ValueError(
                f"{seconds / 3600:g} working hours is more than the {MAX_AMOUNT} allowed"
            )
        start = self._local(start)
        if seconds == 0:
            return start
        left = timedelta(seconds=seconds)
        start_utc = start.astimezone(UTC)
        for opens, closes in self._windows(start.date()):
            lo = max(opens, start_utc)
            if closes <= lo:
                continue
            if left <= closes - lo:
                return (lo + left).astimezone(self.tz)
            left -= closes - lo
        raise AssertionError("unreachable: working windows never run out")

    def add_workhours(self, start: datetime, hours: float) -> datetime:
        """The instant when ``hours`` working hours have passed since ``start``."""
        return self.add_working_seconds(start, _number(hours, "working hours") * 3600)

    # -- deadlines -------------------------------------------------------------------------

    def after(self, start: datetime, value: float, unit: str) -> datetime:
        """The deadline ``value`` ``unit`` after ``start`` (workdays, workhours, hours, days)."""
        unit = _unit(unit)
        if unit == "workdays":
            return self.add_workdays(start, value)
        if unit == "workhours":
            return self.add_workhours(start, value)
        value = _number(value, unit)
        start = self._local(start)
        if unit == "hours":
            return (start.astimezone(UTC) + timedelta(hours=value)).astimezone(self.tz)
        # calendar days keep the wall-clock time of day
        return (start.replace(tzinfo=None) + timedelta(days=value)).replace(tzinfo=self.tz)

    def warn_time(self, start: datetime, due: datetime, share: float, unit: str) -> datetime:
        """The yellow-warning instant: ``share`` of the (working) time from ``start`` to ``due``."""
        unit, share = _unit(unit), _number(share, "warning share")
        if share > 1:
            raise ValueError(f"warning share must be between 0 and 1, not {share}")
        start, due = self._local(start), self._local(due)
        if unit in ("workdays", "workhours"):
            working = self.working_time(start, due)
            if working > timedelta(0):
                return self.add_working_seconds(start, (working * share).total_seconds())
        return (_utc(start) + (_utc(due) - _utc(start)) * share).astimezone(self.tz)

    def resume_due(
        self, due: datetime, paused_at: datetime, resumed_at: datetime, unit: str
    ) -> datetime:
        """The deadline after a suspension from ``paused_at`` to ``resumed_at`` (clock stopped)."""
        unit = _unit(unit)
        due, paused_at, resumed_at = map(self._local, (due, paused_at, resumed_at))
        if resumed_at < paused_at:
            raise ValueError(f"resumed at {resumed_at} before it was paused at {paused_at}")
        if unit in ("hours", "days"):
            return (_utc(due) + (_utc(resumed_at) - _utc(paused_at))).astimezone(self.tz)
        lost = self.working_time(paused_at, resumed_at)
        if unit == "workhours":
            return self.add_working_seconds(due, lost.total_seconds())
        # a started working day counts as a whole one
        day = datetime.combine(date.min, self.work_end) - datetime.combine(
            date.min, self.work_start
        )
        days = -(-lost // day)
        return self.add_workdays(due, days) if days else due

    def _local(self, value: datetime) -> datetime:
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, not {type(value).__name__} ({value!r})")
        if value.tzinfo is None:
            return value.replace(tzinfo=self.tz)
        return value.astimezone(self.tz)


def _utc(value: datetime) -> datetime:
    # subtracting two datetimes that share a tzinfo ignores their offsets: go through UTC
    return value.astimezone(UTC)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{what} must be a number, not {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if not number >= 0 or number == float("inf"):  # also rejects NaN
        raise ValueError(f"{what} must be zero or more, not {value!r}")
    return number


def _whole(value: Any, what: str) -> int:
    number = _number(value, what)
    if number != int(number):
        raise ValueError(f"{what} must be a whole number, not {value!r}")
    return int(number)


def _unit(unit: Any) -> str:
    if unit not in UNITS:
        raise ValueError(f"unknown time unit {unit!r}: expected one of {', '.join(UNITS)}")
    return unit


# -- the table ---------------------------------------------------------------------------------


def load_calendar(
    session: Session,
    *,
    tz: ZoneInfo | str = DEFAULT_TZ,
    work_start: time = time(9),
    work_end: time = time(17),
) -> WorkingCalendar:
    """A WorkingCalendar from every row of the exceptions table."""
    exceptions = {
        row.day: row.kind == "workday"
        for row in session.scalars(select(CalendarDay))
        if row.kind in ("holiday", "workday")
    }
    return WorkingCalendar(tz, exceptions, work_start=work_start, work_end=work_end)


class CalendarProvider:
    """The current WorkingCalendar, reloaded at most every ``ttl`` seconds of ``clock`` time.

    Edits in this process call :meth:`invalidate`; other processes see them after the TTL.
    """

    def __init__(
        self, loader: Callable[[], WorkingCalendar], *, clock: Clock, ttl: float = 60
    ) -> None:
        self._loader = loader
        self._clock = clock
        self._ttl = timedelta(seconds=ttl)
        self._lock = threading.Lock()
        self._calendar: WorkingCalendar | None = None
        self._loaded_at: datetime | None = None

    def get(self) -> WorkingCalendar:
        """The cached calendar, loading it first when missing or older than the TTL."""
        with self._lock:
            now = self._clock.now()
            # a clock moved backwards (a simulation restarting) also counts as stale
            fresh = self._loaded_at is not None and self._loaded_at <= now < (
                self._loaded_at + self._ttl
            )
            if self._calendar is None or not fresh:
                # loading under the lock: concurrent callers wait for one load, not start many
                self._calendar = self._loader()
                self._loaded_at = now
            return self._calendar

    def invalidate(self) -> None:
        """Forget the cached calendar; the next :meth:`get` reloads it."""
        with self._lock:
            self._calendar = None
            self._loaded_at = None


def _package_days(years: Iterable[int]) -> dict[date, tuple[str, str]]:
    """The ``holidays`` package's exceptions for ``years``: day -> (kind, name)."""
    years = sorted(set(years))
    china = holidays.China(years=years, language="zh_CN")
    days: dict[date, tuple[str, str]] = {}
    for day, name in china.items():
        # a holiday on a weekend is off anyway: not an exception to the weekday rule
        if day.year in years and day.weekday() < 5:
            days[day] = ("holiday", name)
    # weekend_workdays also lists a few old years whatever was asked for
    for day in china.weekend_workdays:
        if day.year in years and day.weekday() >= 5:
            days[day] = ("workday", "调休上班")
    return days


def seed_from_holidays(session: Session, *, years: Iterable[int], clock: Clock) -> int:
    """Sync the ``holidays`` package's exceptions for ``years``; return how many rows changed."""
    years = sorted(set(years))
    if not years:
        return 0
    wanted = _package_days(years)
    now = clock.now()
    written = 0
    with unit_of_work(session):
        rows = session.scalars(
            select(CalendarDay).where(
                CalendarDay.day >= date(years[0], 1, 1), CalendarDay.day <= date(years[-1], 12, 31)
            )
        )
        have = {row.day: row for row in rows if row.day.year in years}
        for day, (kind, name) in wanted.items():
            row = have.get(day)
            if row is None:
                session.add(
                    CalendarDay(day=day, kind=kind, name=name, source="holidays", updated_at=now)
                )
                written += 1
            elif row.source == "holidays" and (row.kind, row.name) != (kind, name):
                row.kind, row.name, row.updated_at = kind, name, now
                written += 1
        # a day the package no longer lists (a corrected schedule) stops being an exception
        for day, row in have.items():
            if row.source == "holidays" and day not in wanted:
                session.delete(row)
                written += 1
        session.flush()
    return written


def set_day(
    session: Session, *, day: date, kind: str, name: str = "", clock: Clock
) -> CalendarDay | None:
    """An administrator's edit: make ``day`` a holiday, a workday, or normal (no exception).

    "normal" deletes the row; when the ``holidays`` package lists that day as an exception, an
    administrator's row restating the weekday rule stays instead, so a re-seed cannot undo it.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown day kind {kind!r}: expected one of {', '.join(KINDS)}")
    with unit_of_work(session):
        row = session.get(CalendarDay, day)
        if kind == "normal":
            if day not in _package_days([day.year]):
                if row is not None:
                    session.delete(row)
                    session.flush()
                return None
            kind = "workday" if day.weekday() < 5 else "holiday"
        if row is None:
            row = CalendarDay(day=day)
            session.add(row)
        row.kind, row.name, row.source, row.updated_at = kind, name, "admin", clock.now()
        session.flush()
    return row


def list_days(session: Session, *, year: int) -> list[CalendarDay]:
    """The exceptions of one year, in date order."""
    return list(
        session.scalars(
            select(CalendarDay)
            .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
            .order_by(CalendarDay.day)
        )
    )


# -- expressions -------------------------------------------------------------------------------


def calendar_functions(provider: CalendarProvider, clock: Clock) -> dict[str, Callable[..., Any]]:
    """The working-time functions BPMN expressions may call (arguments are task-data values)."""

    def moment(value: Any, what: str) -> datetime:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"{what} is not an ISO 8601 date-time: {value!r}") from None
        if not isinstance(value, datetime):
            raise ValueError(f"{what} must be a date-time, not {value!r}")
        return value

    def limit_of(limit: Any) -> tuple[Any, Any]:
        if not isinstance(limit, Mapping) or "value" not in limit or "unit" not in limit:
            raise ValueError(f"a limit is {{'value': 5, 'unit': 'workdays'}}, not {limit!r}")
        return limit["value"], limit["unit"]

    def workdays(n: int) -> datetime:
        return provider.get().add_workdays(clock.now(), n)

    def workhours(n: float) -> datetime:
        return provider.get().add_workhours(clock.now(), n)

    def after(limit: Mapping[str, Any]) -> datetime:
        return provider.get().after(clock.now(), *limit_of(limit))

    def after_from(start: Any, limit: Mapping[str, Any]) -> datetime:
        return provider.get().after(moment(start, "start"), *limit_of(limit))

    def warn_time(start: Any, due: Any, share: float, unit: str) -> datetime:
        return provider.get().warn_time(moment(start, "start"), moment(due, "due"), share, unit)

    def resume_due(due: Any, paused_at: Any, unit: str) -> datetime:
        return provider.get().resume_due(
            moment(due, "due"), moment(paused_at, "paused_at"), clock.now(), unit
        )

    return {
        "workdays": workdays,
        "workhours": workhours,
        "after": after,
        "after_from": after_from,
        "warn_time": warn_time,
        "resume_due": resume_due,
    }
