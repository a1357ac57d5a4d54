"""The working-day calendar: holidays and weekend working days (调休), per year.

Every change invalidates the hotline's cached calendar, so deadlines computed in this process
use it at once (other processes within the calendar's reload interval).
"""

from __future__ import annotations

from datetime import date, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.db import unit_of_work
from workflows.calendar.models import CalendarDay
from workflows.calendar.service import KINDS, UNITS, seed_from_holidays, set_day

from ..extensions import db
from ..hotline import get_hotline
from ..pagination import wants_csv
from ..sorting import DESC, Sortable
from . import bp
from .common import admin_only, audit, listing
from .forms import Form

FIRST_YEAR, LAST_YEAR = 1949, 2100


def _kind_labels() -> dict[str, str]:
    return {
        "holiday": _("Holiday (a weekday off)"),
        "workday": _("Working day (a weekend day worked)"),
        "normal": _("Normal (the weekday rule)"),
    }


def _unit_labels() -> dict[str, str]:
    return {
        "workdays": _("working days"),
        "workhours": _("working hours"),
        "hours": _("hours"),
        "days": _("calendar days"),
    }


def _year(raw: str | None, default: int) -> int | None:
    if raw is None or raw == "":
        return default
    try:
        year = int(raw)
    except ValueError:
        return None
    return year if FIRST_YEAR <= year <= LAST_YEAR else None


#: the calendar's sortable columns (one year's exceptions, a few dozen days); without
#: ``sort``, by date
DAY_SORTS = {
    "day": Sortable((CalendarDay.day,)),
    "kind": Sortable((CalendarDay.kind,)),
    "name": Sortable((CalendarDay.name,)),
    "source": Sortable((CalendarDay.source,)),
    "updated": Sortable((CalendarDay.updated_at,), first=DESC),
}


def _page(
    year: int,
    *,
    day_form: Form | None = None,
    seed_form: Form | None = None,
    calc: Form | None = None,
    due: datetime | None = None,
    status: int = 200,
):
    stmt = (
        select(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)
    )
    page = listing(
        stmt,
        filename=f"calendar-{year}.csv",
        header=["day", "weekday", "kind", "name", "source", "updated_at"],
        row=lambda d: [
            d.day.isoformat(),
            d.day.strftime("%a"),
            d.kind,
            d.name,
            d.source,
            d.updated_at.isoformat(),
        ],
        sorts=DAY_SORTS,
        tie_breaker=(CalendarDay.day,),
    )
    if wants_csv():
        return page
    return render_template(
        "admin/calendar.html",
        page=page,
        year=year,
        kinds=_kind_labels(),
        units=_unit_labels(),
        day_form=day_form or Form.of({"kind": "holiday"}),
        seed_form=seed_form or Form.of({"year": year}),
        calc=calc or Form.of({"unit": "workdays", "value": 5}),
        due=due,
    ), status


def _this_year() -> int:
    hotline = get_hotline()
    return hotline.clock.now().astimezone(hotline.tz).year


@bp.get("/calendar")
@admin_only
def calendar():
    year = _year(request.args.get("year"), _this_year())
    if year is None:
        flash(_("The year must be between %(a)s and %(b)s.", a=FIRST_YEAR, b=LAST_YEAR), "error")
        return redirect(url_for("admin.calendar"))
    calc, due = None, None
    if request.args.get("start"):
        calc = Form(request.args)
        due = _deadline(calc)
        return _page(year, calc=calc, due=due, status=200 if calc.ok else 400)
    return _page(year)


def _deadline(form: Form) -> datetime | None:
    """The deadline calculator: what the hotline's calendar says N units after a start."""
    hotline = get_hotline()
    raw = form.text("start", required=True, max_length=40)
    start = None
    if raw:
        try:
            start = datetime.fromisoformat(raw)
        except ValueError:
            form.error("start", _("A date and time such as 2026-10-08T09:00, please."))
    value = form.integer("value", minimum=0, maximum=10_000)
    unit = form.choice("unit", UNITS)
    if not form.ok or start is None:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=hotline.tz)
    try:
        return hotline.calendar.get().after(start, value, unit)
    except (ValueError, OverflowError) as exc:
        form.error("value", str(exc))
        return None


@bp.post("/calendar/day")
@admin_only
def calendar_day():
    form = Form(request.form)
    day = form.day("day")
    kind = form.choice("kind", KINDS)
    name = form.text("name", max_length=120)
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        form.error("day", _("The year must be between %(a)s and %(b)s.", a=FIRST_YEAR, b=LAST_YEAR))
    if not form.ok:
        year = day.year if day is not None and not form.errors.get("day") else _this_year()
        return _page(year, day_form=form, status=400)
    hotline = get_hotline()
    with unit_of_work(db.session):
        set_day(db.session, day=day, kind=kind, name=name, clock=hotline.clock)
        audit(
            "calendar.update",
            target_type="calendar_day",
            target_id=day.isoformat(),
            kind=kind,
            name=name,
        )
    hotline.calendar.invalidate()
    flash(_("%(day)s is now: %(kind)s.", day=day.isoformat(), kind=_kind_labels()[kind]))
    return redirect(url_for("admin.calendar", year=day.year))


@bp.post("/calendar/seed")
@admin_only
def calendar_seed():
    form = Form(request.form)
    year = form.integer("year", minimum=FIRST_YEAR, maximum=LAST_YEAR)
    if not form.ok:
        return _page(_this_year(), seed_form=form, status=400)
    hotline = get_hotline()
    with unit_of_work(db.session):
        written = seed_from_holidays(db.session, years=[year], clock=hotline.clock)
        audit("calendar.seed", target_type="calendar_year", target_id=year, written=written)
    hotline.calendar.invalidate()
    flash(
        _(
            "%(n)s calendar days written for %(year)s from the holidays package; your own "
            "edits were kept.",
            n=written,
            year=year,
        )
    )
    return redirect(url_for("admin.calendar", year=year))
