"""``hotline calendar``: compute a deadline, and seed, list and edit the working-day calendar.

Bad input gets one ``Error:`` line and exit status 2 (as click's usage errors), never a traceback.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from engine.clock import Clock
from engine.db import unit_of_work

from .cli_needs import SCHEMA, needs


def cli_audit(action: str, **kwargs) -> None:
    """An audit row for a change made from the shell (actor ``system:cli``)."""
    from workflows.audit.service import CLI_ACTOR, Actor

    from .audit.log import record

    record(action, actor=Actor(CLI_ACTOR), **kwargs)


class BadInput(click.ClickException):
    """A one-line ``Error:`` message with the usage-error exit status."""

    exit_code = 2


def _database_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OperationalError as exc:
            raise click.ClickException(f"cannot use the database: {exc.orig}") from None
        except SQLAlchemyError as exc:
            raise click.ClickException(f"database error: {exc}") from None

    return wrapper


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _clock() -> Clock:
    return current_app.extensions["hotline"].clock


def _moment(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"START {text!r} is not an ISO 8601 date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=_tz())


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"DATE {text!r} is not an ISO 8601 date such as 2026-10-01") from None


@click.group("calendar")
def calendar_group() -> None:
    """The working-day calendar: holidays and weekend working days (调休)."""


@calendar_group.command("due")
@click.argument("start")
@click.option("--workdays", metavar="N", help="Working days (ends 23:59:59 of the N-th).")
@click.option("--workhours", metavar="N", help="Working hours.")
@click.option("--hours", metavar="N", help="Calendar hours.")
@with_appcontext
@_database_errors
@needs(SCHEMA)
def due(start: str, workdays: str | None, workhours: str | None, hours: str | None) -> None:
    """Print the deadline N units after START (ISO 8601; without an offset, local time)."""
    from workflows.calendar.service import load_calendar

    from .extensions import db

    limits = {"workdays": workdays, "workhours": workhours, "hours": hours}
    given = [(unit, value) for unit, value in limits.items() if value is not None]
    if len(given) != 1:
        raise BadInput("give exactly one of --workdays, --workhours, --hours")
    (unit, value), moment = given[0], _moment(start)
    try:
        number = float(value)
    except ValueError:
        raise BadInput(f"--{unit} {value!r} is not a number") from None
    if not 0 <= number < float("inf"):
        raise BadInput(f"--{unit} must be zero or more, not {value}")
    if unit == "workdays" and number != int(number):
        raise BadInput(f"--workdays must be a whole number, not {value}")
    calendar = load_calendar(db.session, tz=_tz())
    try:
        deadline = calendar.after(moment, number, unit)
    except (ValueError, OverflowError) as exc:
        raise BadInput(str(exc)) from None
    click.echo(deadline.isoformat())


@calendar_group.command("seed")
@click.option(
    "--year",
    "years",
    type=click.IntRange(1949, 2100),
    multiple=True,
    help="A year to seed (repeatable); default: this year and next.",
)
@with_appcontext
@_database_errors
@needs(SCHEMA)
def seed(years: tuple[int, ...]) -> None:
    """Load holidays and weekend working days from the holidays package (keeps admin edits)."""
    from workflows.calendar.service import seed_from_holidays

    from .extensions import db

    clock = _clock()
    if not years:
        this_year = clock.now().astimezone(_tz()).year
        years = (this_year, this_year + 1)
    with unit_of_work(db.session):
        written = seed_from_holidays(db.session, years=years, clock=clock)
        cli_audit("calendar.seed", target_type="calendar_years", years=sorted(set(years)))
    current_app.extensions["hotline"].calendar.invalidate()
    click.echo(f"{written} calendar rows written for {', '.join(map(str, sorted(set(years))))}")


@calendar_group.command("list")
@click.option("--year", type=click.IntRange(1, 9999), help="Default: this year.")
@with_appcontext
@_database_errors
@needs(SCHEMA)
def list_(year: int | None) -> None:
    """List one year's exceptions: date, weekday, kind, source, name."""
    from workflows.calendar.service import list_days

    from .extensions import db

    year = year or _clock().now().astimezone(_tz()).year
    for row in list_days(db.session, year=year):
        click.echo(f"{row.day.isoformat()} {row.day:%a} {row.kind:<8} {row.source:<8} {row.name}")


@calendar_group.command("set")
@click.argument("day", metavar="DATE")
@click.option("--holiday", is_flag=True, help="A day off.")
@click.option("--workday", is_flag=True, help="A working day.")
@click.option("--normal", is_flag=True, help="Remove the exception: the weekday rule applies.")
@click.option("--name", default="", help="What the day is, e.g. 国庆节.")
@with_appcontext
@_database_errors
@needs(SCHEMA)
def set_(day: str, holiday: bool, workday: bool, normal: bool, name: str) -> None:
    """Make DATE a holiday, a working day, or a normal day (an administrator's edit)."""
    from workflows.calendar.service import set_day

    from .extensions import db

    kinds = [
        kind
        for kind, flag in [("holiday", holiday), ("workday", workday), ("normal", normal)]
        if flag
    ]
    if len(kinds) != 1:
        raise BadInput("give exactly one of --holiday, --workday, --normal")
    when = _day(day)
    if len(name) > 120:
        raise BadInput("--name is longer than 120 characters")
    with unit_of_work(db.session):
        set_day(db.session, day=when, kind=kinds[0], name=name, clock=_clock())
        cli_audit(
            "calendar.update",
            target_type="calendar_day",
            target_id=when.isoformat(),
            kind=kinds[0],
            name=name,
        )
    current_app.extensions["hotline"].calendar.invalidate()
    click.echo(f"{when.isoformat()} {when:%a}: {kinds[0]}")
