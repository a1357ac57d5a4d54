"""The working-day calendar: 调休 arithmetic, deadlines, seeding, admin edits, the CLI."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
import pytest
from sqlalchemy import select

from engine.clock import ManualClock
from engine.db import unit_of_work
from engine.expressions import Evaluator
from tests.webapp.conftest import app, runner  # noqa: F401  (fixtures for the CLI tests)
from webapp.cli_calendar import calendar_group
from workflows.calendar.models import CalendarDay
from workflows.calendar.service import (
    CalendarProvider,
    WorkingCalendar,
    calendar_functions,
    list_days,
    load_calendar,
    seed_from_holidays,
    set_day,
)

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """A Beijing wall-clock time: ``at("2026-09-24 10:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def end_of(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(23, 59, 59), tzinfo=TZ)


def days(first: str, last: str) -> list[date]:
    d, end = date.fromisoformat(first), date.fromisoformat(last)
    out = []
    while d <= end:
        out.append(d)
        d += timedelta(days=1)
    return out


# The State Council's 2026 schedule around the Spring Festival and National Day.
OFF_2026 = [
    *days("2026-02-15", "2026-02-23"),  # Spring Festival
    date(2026, 9, 25),  # Mid-Autumn
    *days("2026-10-01", "2026-10-07"),  # National Day
]
WORKED_WEEKENDS_2026 = [date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)]
EXCEPTIONS_2026 = {
    **{d: False for d in OFF_2026 if d.weekday() < 5},
    **dict.fromkeys(WORKED_WEEKENDS_2026, True),
}


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar(TZ, EXCEPTIONS_2026)


# -- working days ------------------------------------------------------------------------------


def test_five_workdays_across_mid_autumn_and_national_day(cal):
    due = cal.add_workdays(datetime.fromisoformat("2026-09-24T10:00+08:00"), 5)
    assert due == end_of("2026-10-09")
    assert due.tzinfo is TZ
    assert due.isoformat() == "2026-10-09T23:59:59+08:00"
    # the same instant given in UTC counts from the same Beijing day
    assert cal.add_workdays(datetime(2026, 9, 24, 2, 0, tzinfo=UTC), 5) == due


def test_zero_workdays_is_the_end_of_the_start_day_and_negative_is_refused(cal):
    assert cal.add_workdays(at("2026-09-24 10:00"), 0) == end_of("2026-09-24")
    # late evening UTC is already the next day in Beijing
    assert cal.add_workdays(datetime(2026, 9, 24, 17, 0, tzinfo=UTC), 0) == end_of("2026-09-25")
    with pytest.raises(ValueError, match="zero or more"):
        cal.add_workdays(at("2026-09-24 10:00"), -1)
    with pytest.raises(ValueError, match="whole number"):
        cal.add_workdays(at("2026-09-24 10:00"), 1.5)
    with pytest.raises(ValueError, match="more than"):
        cal.add_workdays(at("2026-09-24 10:00"), 10**9)  # would scan past the year 9999


def test_spring_festival_2026(cal):
    assert cal.is_working_day(date(2026, 2, 13))  # Friday
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday worked
    assert not any(cal.is_working_day(d) for d in days("2026-02-15", "2026-02-23"))
    assert cal.is_working_day(date(2026, 2, 24))
    assert cal.is_working_day(date(2026, 2, 28))  # Saturday worked
    assert not cal.is_working_day(date(2026, 3, 1))  # an ordinary Sunday
    start = at("2026-02-13 14:00")
    expected = ["2026-02-14", "2026-02-24", "2026-02-25", "2026-02-26", "2026-02-27",
                "2026-02-28", "2026-03-02"]  # fmt: skip
    assert [cal.add_workdays(start, n) for n in range(1, 8)] == list(map(end_of, expected))


def test_national_day_weekend_working_days(cal):
    assert cal.is_working_day(date(2026, 9, 20))  # Sunday worked
    assert cal.is_working_day(date(2026, 10, 10))  # Saturday worked
    assert not cal.is_working_day(date(2026, 9, 25))
    assert not any(cal.is_working_day(d) for d in days("2026-10-01", "2026-10-07"))
    assert cal.add_workdays(at("2026-09-19 11:00"), 1) == end_of("2026-09-20")
    assert cal.add_workdays(at("2026-09-30 16:00"), 1) == end_of("2026-10-08")
    assert cal.add_workdays(at("2026-10-08 09:00"), 2) == end_of("2026-10-10")


def test_plain_weekday_rule_without_exceptions():
    plain = WorkingCalendar()
    assert plain.tz == TZ
    assert plain.add_workdays(at("2026-10-01 10:00"), 2) == end_of("2026-10-05")


# -- working hours -----------------------------------------------------------------------------


def test_workhours_across_a_weekend_and_a_holiday(cal):
    assert cal.add_workhours(at("2026-03-06 15:00"), 4) == at("2026-03-09 11:00")  # Fri -> Mon
    assert cal.add_workhours(at("2026-09-24 16:00"), 2) == at("2026-09-28 10:00")  # Mid-Autumn
    assert cal.add_workhours(at("2026-09-30 16:30"), 1) == at("2026-10-08 09:30")  # National Day
    assert cal.add_workhours(at("2026-03-02 08:00"), 1) == at("2026-03-02 10:00")  # before hours
    assert cal.add_workhours(at("2026-03-06 18:00"), 8) == at("2026-03-09 17:00")  # fills Monday
    assert cal.add_workhours(at("2026-03-02 10:00"), 0.5) == at("2026-03-02 10:30")
    assert cal.add_workhours(at("2026-03-07 12:00"), 0) == at("2026-03-07 12:00")
    with pytest.raises(ValueError):
        cal.add_workhours(at("2026-03-02 10:00"), -1)


def test_working_seconds(cal):
    assert cal.working_seconds(at("2026-03-02 10:00"), at("2026-03-02 12:00")) == 7200
    assert cal.working_seconds(at("2026-03-06 16:00"), at("2026-03-09 10:00")) == 7200
    assert cal.working_seconds(at("2026-03-02 07:00"), at("2026-03-02 20:00")) == 8 * 3600
    assert cal.working_seconds(at("2026-09-30 09:00"), at("2026-10-08 17:00")) == 16 * 3600
    assert cal.working_seconds(at("2026-02-14 00:00"), at("2026-02-24 00:00")) == 8 * 3600
    assert cal.working_seconds(at("2026-03-02 12:00"), at("2026-03-02 10:00")) == 0
    assert cal.working_seconds(at("2026-03-07 09:00"), at("2026-03-08 17:00")) == 0
    # naive values are Beijing wall time; aware ones may be in any zone
    naive = datetime(2026, 3, 2, 10, 0)
    assert cal.working_seconds(naive, datetime(2026, 3, 2, 2, 0, tzinfo=UTC)) == 0
    assert cal.working_seconds(naive, datetime(2026, 3, 2, 4, 0, tzinfo=UTC)) == 7200


@pytest.mark.parametrize("start", ["2026-02-13 16:30", "2026-09-24 08:00", "2026-10-09 17:30"])
@pytest.mark.parametrize("seconds", [1, 3600, 28800, 100_000, 7 * 28800 + 59])
def test_add_working_seconds_inverts_working_seconds(cal, start, seconds):
    end = cal.add_working_seconds(at(start), seconds)
    assert cal.working_seconds(at(start), end) == seconds
    assert cal.is_working_day(end.date())
    assert time(9) <= end.timetz().replace(tzinfo=None) <= time(17)


def test_custom_working_hours_and_bad_ones():
    short = WorkingCalendar(TZ, work_start=time(8, 30), work_end=time(12))
    assert short.add_workhours(at("2026-03-02 11:00"), 2) == at("2026-03-03 09:30")
    with pytest.raises(ValueError, match="end after"):
        WorkingCalendar(TZ, work_start=time(17), work_end=time(9))


# -- deadlines ---------------------------------------------------------------------------------


def test_after_in_each_unit(cal):
    start = at("2026-09-24 10:00")
    assert cal.after(start, 5, "workdays") == end_of("2026-10-09")
    assert cal.after(start, 8, "workhours") == at("2026-09-28 10:00")
    assert cal.after(start, 24, "hours") == at("2026-09-25 10:00")
    assert cal.after(start, 2, "days") == at("2026-09-26 10:00")
    with pytest.raises(ValueError, match="'fortnights'"):
        cal.after(start, 1, "fortnights")


def test_warn_time_in_working_time_and_in_calendar_time(cal):
    start = at("2026-09-24 10:00")
    due = cal.add_workdays(start, 5)
    # 47 working hours to the due date; 80% of them is 37h36m in: 15:36 on 8 October
    assert cal.warn_time(start, due, 0.8, "workdays") == at("2026-10-08 15:36")
    assert cal.warn_time(start, at("2026-09-28 11:00"), 0.5, "workhours") == at("2026-09-24 14:30")
    assert cal.warn_time(start, at("2026-09-25 10:00"), 0.8, "hours") == at("2026-09-25 05:12")
    assert cal.warn_time(start, at("2026-09-26 10:00"), 0.5, "days") == at("2026-09-25 10:00")
    # no working time in between (a weekend): calendar time instead
    assert cal.warn_time(at("2026-03-07 10:00"), at("2026-03-08 10:00"), 0.75, "workdays") == at(
        "2026-03-08 04:00"
    )
    with pytest.raises(ValueError, match="'weeks'"):
        cal.warn_time(start, due, 0.8, "weeks")
    with pytest.raises(ValueError):
        cal.warn_time(start, due, 1.5, "workdays")


def test_resume_due_in_working_days(cal):
    due = end_of("2026-10-09")
    # 2 working hours lost: a started working day counts as a whole one, and 10 October is worked
    paused, resumed = at("2026-09-28 16:00"), at("2026-09-29 10:00")
    assert cal.resume_due(due, paused, resumed, "workdays") == end_of("2026-10-10")
    # exactly two working days lost: two, not three
    paused, resumed = at("2026-09-28 09:00"), at("2026-09-29 17:00")
    assert cal.resume_due(due, paused, resumed, "workdays") == end_of("2026-10-12")
    # suspended over the holiday only: nothing lost
    paused, resumed = at("2026-09-30 18:00"), at("2026-10-08 08:00")
    assert cal.resume_due(due, paused, resumed, "workdays") == due
    # across the whole National Day break: 3 full days and 1 hour, so 4 days from the 10th on
    paused, resumed = at("2026-09-28 09:00"), at("2026-10-08 10:00")
    assert cal.resume_due(due, paused, resumed, "workdays") == end_of("2026-10-14")


def test_resume_due_in_hours(cal):
    due = at("2026-10-09 15:00")
    assert cal.resume_due(due, at("2026-10-09 14:00"), at("2026-10-09 15:30"), "workhours") == at(
        "2026-10-09 16:30"
    )
    # 1 working hour on Friday, 8 on Saturday the 10th (worked), 1 on Monday: 10 hours
    paused, resumed = at("2026-10-09 16:00"), at("2026-10-12 10:00")
    assert cal.resume_due(at("2026-10-12 15:00"), paused, resumed, "workhours") == at(
        "2026-10-13 17:00"
    )
    # calendar time: the 66 hours of the suspension
    assert cal.resume_due(due, paused, resumed, "hours") == at("2026-10-12 09:00")
    assert cal.resume_due(due, paused, resumed, "days") == at("2026-10-12 09:00")
    with pytest.raises(ValueError, match="before"):
        cal.resume_due(due, resumed, paused, "workdays")
    with pytest.raises(ValueError, match="'minutes'"):
        cal.resume_due(due, paused, resumed, "minutes")


# -- expression functions ----------------------------------------------------------------------


def test_calendar_functions_for_expressions(cal):
    clock = ManualClock(datetime.fromisoformat("2026-09-24T10:00+08:00"))
    fn = calendar_functions(CalendarProvider(lambda: cal, clock=clock), clock)
    assert fn["workdays"](5) == end_of("2026-10-09")
    assert fn["workhours"](8) == at("2026-09-28 10:00")
    assert fn["after"]({"value": 5, "unit": "workdays"}) == end_of("2026-10-09")
    assert fn["after"]({"value": "2", "unit": "hours"}) == at("2026-09-24 12:00")
    assert fn["after_from"]("2026-09-30T16:00:00+08:00", {"value": 1, "unit": "workdays"}) == (
        end_of("2026-10-08")
    )
    assert fn["after_from"]("2026-09-30T16:30:00", {"value": 1, "unit": "workhours"}) == (
        at("2026-10-08 09:30")
    )
    due = "2026-10-09T23:59:59+08:00"
    assert fn["warn_time"](clock.now(), due, 0.8, "workdays") == at("2026-10-08 15:36")
    clock.set(at("2026-09-29 10:00"))
    assert fn["resume_due"](due, "2026-09-28T16:00:00+08:00", "workdays") == end_of("2026-10-10")
    with pytest.raises(ValueError, match="limit"):
        fn["after"](5)
    with pytest.raises(ValueError, match="ISO 8601"):
        fn["after_from"]("next Tuesday", {"value": 1, "unit": "workdays"})
    for value in (fn["workdays"](1), fn["after"]({"value": 1, "unit": "days"})):
        assert value.tzinfo is not None

    # as BPMN scripts call them, through the restricted evaluator
    evaluator = Evaluator(fn)
    names = {"policy": {"reply": {"value": 5, "unit": "workdays"}}}
    clock.set(at("2026-09-24 10:00"))
    assert evaluator.evaluate("after(policy['reply'])", names) == end_of("2026-10-09")


# -- the table ---------------------------------------------------------------------------------


def test_seeding_is_idempotent_and_matches_the_official_schedule(database):
    clock = ManualClock()
    session = database.session()
    written = seed_from_holidays(session, years=[2026], clock=clock)
    assert written > 0
    assert seed_from_holidays(session, years=[2026], clock=clock) == 0
    rows = list_days(session, year=2026)
    assert len(rows) == written
    assert {r.source for r in rows} == {"holidays"}
    assert all(r.kind == "holiday" and r.day.weekday() < 5 for r in rows if r.kind == "holiday")
    assert all(r.day.weekday() >= 5 for r in rows if r.kind == "workday")
    assert all(r.updated_at == clock.now() for r in rows)
    cal = load_calendar(session, tz=TZ)
    for d in [*OFF_2026, *WORKED_WEEKENDS_2026]:
        assert cal.is_working_day(d) == (d in WORKED_WEEKENDS_2026), d
    assert cal.add_workdays(datetime.fromisoformat("2026-09-24T10:00+08:00"), 5) == end_of(
        "2026-10-09"
    )
    assert list_days(session, year=2025) == []
    session.close()


def test_reseeding_keeps_admin_rows_and_drops_days_the_package_no_longer_lists(database):
    clock = ManualClock()
    session = database.session()
    seed_from_holidays(session, years=[2026], clock=clock)
    clock.advance(days=1)
    set_day(session, day=date(2026, 10, 8), kind="holiday", name="延长假期", clock=clock)
    set_day(session, day=date(2026, 10, 7), kind="workday", name="提前上班", clock=clock)
    with unit_of_work(session):
        session.add(CalendarDay(day=date(2026, 3, 11), kind="holiday", name="withdrawn",
                                source="holidays", updated_at=clock.now()))  # fmt: skip
    assert seed_from_holidays(session, years=[2026, 2027], clock=clock) > 0
    assert session.get(CalendarDay, date(2026, 3, 11)) is None
    assert seed_from_holidays(session, years=[2026, 2027], clock=clock) == 0
    kept = {r.day: (r.kind, r.source, r.name) for r in list_days(session, year=2026)}
    assert kept[date(2026, 10, 8)] == ("holiday", "admin", "延长假期")
    assert kept[date(2026, 10, 7)] == ("workday", "admin", "提前上班")
    cal = load_calendar(session, tz="Asia/Shanghai")
    assert not cal.is_working_day(date(2026, 10, 8))
    assert cal.is_working_day(date(2026, 10, 7))
    session.close()


def test_set_day_normal_removes_the_exception(database):
    clock = ManualClock()
    session = database.session()
    seed_from_holidays(session, years=[2026], clock=clock)
    set_day(session, day=date(2026, 3, 10), kind="holiday", name="台风停工", clock=clock)
    assert not load_calendar(session, tz=TZ).is_working_day(date(2026, 3, 10))
    assert set_day(session, day=date(2026, 3, 10), kind="normal", clock=clock) is None
    assert session.get(CalendarDay, date(2026, 3, 10)) is None
    assert load_calendar(session, tz=TZ).is_working_day(date(2026, 3, 10))
    # a day the holidays package lists keeps an admin row restating the weekday rule,
    # so that the next seed does not bring the package's exception back
    set_day(session, day=date(2026, 10, 5), kind="normal", clock=clock)
    set_day(session, day=date(2026, 10, 10), kind="normal", clock=clock)
    seed_from_holidays(session, years=[2026], clock=clock)
    cal = load_calendar(session, tz=TZ)
    assert cal.is_working_day(date(2026, 10, 5))  # a Monday
    assert not cal.is_working_day(date(2026, 10, 10))  # a Saturday
    with pytest.raises(ValueError, match="'vacation'"):
        set_day(session, day=date(2026, 3, 10), kind="vacation", clock=clock)
    session.close()


# -- the provider ------------------------------------------------------------------------------


def test_provider_caches_for_the_ttl_and_reloads_when_invalidated():
    clock = ManualClock()
    loads = []

    def loader():
        loads.append(clock.now())
        return WorkingCalendar(TZ, {date(2026, 3, 10): False} if len(loads) > 1 else {})

    provider = CalendarProvider(loader, clock=clock, ttl=60)
    assert provider.get() is provider.get()
    assert provider.get().is_working_day(date(2026, 3, 10))
    clock.advance(seconds=59)
    provider.get()
    assert len(loads) == 1
    clock.advance(seconds=1)
    assert not provider.get().is_working_day(date(2026, 3, 10))
    assert len(loads) == 2
    provider.invalidate()
    provider.get()
    assert len(loads) == 3
    clock.advance(seconds=-30)  # a clock set back (a simulation restarting) reloads too
    provider.get()
    assert len(loads) == 4


def test_provider_loads_once_for_concurrent_callers():
    clock = ManualClock()
    loads = []
    provider = CalendarProvider(lambda: loads.append(1) or WorkingCalendar(TZ), clock=clock)
    barrier = threading.Barrier(8)
    seen = []

    def worker():
        barrier.wait()
        seen.append(provider.get())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1
    assert len({id(c) for c in seen}) == 1


# -- the CLI -----------------------------------------------------------------------------------


@pytest.fixture
def hotline_cli():
    group = click.Group("hotline")
    group.add_command(calendar_group)
    return group


def test_cli_due_after_seeding(app, runner, hotline_cli):  # noqa: F811
    result = runner.invoke(hotline_cli, ["calendar", "seed"])
    assert result.exit_code == 0, result.output
    assert "for 2026, 2027" in result.stdout
    result = runner.invoke(hotline_cli, ["calendar", "due", "2026-09-24T10:00", "--workdays", "5"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "2026-10-09T23:59:59+08:00\n"
    cases = {
        ("2026-09-24T02:00Z", "--workdays", "5"): "2026-10-09T23:59:59+08:00",
        ("2026-09-24T10:00", "--workhours", "8"): "2026-09-28T10:00:00+08:00",
        ("2026-09-24T10:00+08:00", "--hours", "1.5"): "2026-09-24T11:30:00+08:00",
    }
    for args, expected in cases.items():
        result = runner.invoke(hotline_cli, ["calendar", "due", *args])
        assert (result.exit_code, result.stdout) == (0, expected + "\n"), args


@pytest.mark.parametrize(
    "args",
    [
        ["2026-13-45T10:00", "--workdays", "5"],
        ["tomorrow", "--hours", "2"],
        ["2026-09-24T10:00"],
        ["2026-09-24T10:00", "--workdays", "5", "--hours", "2"],
        ["2026-09-24T10:00", "--workdays", "-1"],
        ["2026-09-24T10:00", "--workhours", "-0.5"],
        ["2026-09-24T10:00", "--workdays", "1.5"],
        ["2026-09-24T10:00", "--hours", "two"],
        ["2026-09-24T10:00", "--hours", "nan"],
        ["2026-09-24T10:00", "--hours", "1e300"],
        ["2026-09-24T10:00", "--workdays", "1e9"],
        ["2026-09-24T10:00", "--workhours", "1e9"],
    ],
)
def test_cli_due_bad_input_exits_2_with_one_line(app, runner, hotline_cli, args):  # noqa: F811
    result = runner.invoke(hotline_cli, ["calendar", "due", *args])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output


def test_cli_set_and_list(app, runner, hotline_cli):  # noqa: F811
    invoke = runner.invoke
    assert invoke(hotline_cli, ["calendar", "seed", "--year", "2026"]).exit_code == 0
    result = invoke(hotline_cli, ["calendar", "set", "2026-03-10", "--holiday", "--name", "台风"])
    assert result.exit_code == 0, result.output
    listed = invoke(hotline_cli, ["calendar", "list", "--year", "2026"]).stdout.splitlines()
    assert "2026-03-10 Tue holiday  admin    台风" in listed
    assert any(line.startswith("2026-10-10 Sat workday  holidays") for line in listed)
    assert invoke(hotline_cli, ["calendar", "list"]).stdout.splitlines() == listed  # this year
    result = invoke(hotline_cli, ["calendar", "due", "2026-03-09T10:00", "--workdays", "1"])
    assert result.stdout == "2026-03-11T23:59:59+08:00\n"  # the edit is seen at once
    assert invoke(hotline_cli, ["calendar", "set", "2026-03-10", "--normal"]).exit_code == 0
    listed = invoke(hotline_cli, ["calendar", "list", "--year", "2026"]).stdout
    assert "2026-03-10" not in listed
    for args in (["2026-03-10"], ["2026-03-10", "--holiday", "--workday"], ["10/03", "--holiday"]):
        result = invoke(hotline_cli, ["calendar", "set", *args])
        assert result.exit_code == 2, args
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("Error: ")
    with app.app_context():
        from webapp.extensions import db

        assert (
            db.session.scalars(select(CalendarDay).where(CalendarDay.source == "admin")).all() == []
        )
