"""``/api/v1/me``, ``/api/v1/departments``, ``/api/v1/calendar``: who you are, the
department tree, and the working-day calendar (deadlines as the diagrams count them)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from workflows.calendar.models import CalendarDay
from workflows.calendar.service import list_days, set_day
from workflows.departments.models import Department
from workflows.users.models import Role

from ..extensions import db
from ..hotline import get_hotline
from . import schemas as s
from .auth import roles
from .blueprint import ApiBlueprint
from .present import json_response

blp = ApiBlueprint(
    "api-reference",
    __name__,
    url_prefix="/api/v1",
    description="You, the departments, and the working-day calendar.",
)


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, s.MeSchema)
    def get(self):
        """The user the token belongs to."""
        return json_response(
            {
                "username": g.user.username,
                "display_name": g.user.display_name,
                "role": g.user.role,
                "department": g.department.code if g.department else None,
            }
        )


def _department_data(rows: list[Department]) -> list[dict[str, Any]]:
    codes = dict(db.session.execute(select(Department.id, Department.code)).all())
    return [
        {
            "code": d.code,
            "name": d.name,
            "name_en": d.name_en,
            "level": d.level,
            "parent": codes.get(d.parent_id or -1),
            "is_platform": d.is_platform,
            "active": d.active,
            "duty_phone": d.duty_phone or "",
            "duty_email": d.duty_email or "",
            "has_webhook": bool(d.webhook_url),
        }
        for d in rows
    ]


@blp.route("/departments")
class Departments(MethodView):
    @blp.response(200, s.DepartmentSchema(many=True))
    def get(self):
        """Every department (city, district, street), by code; ``parent`` makes the tree."""
        rows = db.session.scalars(select(Department).order_by(Department.code)).all()
        return json_response(_department_data(list(rows)))


@blp.route("/departments/<code>")
class DepartmentOne(MethodView):
    @blp.response(200, s.DepartmentSchema)
    def get(self, code: str):
        """One department."""
        row = db.session.scalars(select(Department).where(Department.code == code)).first()
        if row is None:
            abort(404, message=f"no department has the code {code}")
        return json_response(_department_data([row])[0])


@blp.route("/calendar/due")
class Due(MethodView):
    @blp.arguments(s.DueArgs, location="query")
    @blp.response(200, s.DueSchema)
    def get(self, args: dict[str, Any]):
        """The deadline ``amount`` ``unit`` after ``start``: working days end at 23:59:59 of
        the last one; holidays and weekend working days (调休) count as the calendar says."""
        hotline = get_hotline()
        start = args.get("start") or hotline.clock.now()
        try:
            due = hotline.calendar.get().after(start, args["amount"], args["unit"])
        except (ValueError, OverflowError) as exc:
            abort(422, errors={"amount": [str(exc)]})
        if not s.EARLIEST.year <= due.year <= s.LATEST.year:
            abort(422, errors={"amount": ["the deadline falls outside 2000-2100"]})
        return json_response(
            s.DueSchema().dump(
                {"start": start, "amount": args["amount"], "unit": args["unit"], "due": due}
            )
        )


def _day_data(day: date, row: CalendarDay | None) -> dict[str, Any]:
    calendar = get_hotline().calendar.get()
    return s.DaySchema().dump(
        {
            "day": day,
            "working": calendar.is_working_day(day),
            "kind": row.kind if row else None,
            "name": row.name if row else "",
            "source": row.source if row else None,
        }
    )


@blp.route("/calendar/days")
class Days(MethodView):
    @blp.arguments(s.YearArgs, location="query")
    @blp.response(200, s.DaySchema(many=True))
    def get(self, args: dict[str, Any]):
        """One year's exceptions to the weekday rule (default: this year)."""
        hotline = get_hotline()
        year = args.get("year") or hotline.clock.now().astimezone(hotline.tz).year
        return json_response([_day_data(r.day, r) for r in list_days(db.session, year=year)])


@blp.route("/calendar/days/<day>")
class Day(MethodView):
    @blp.response(200, s.DaySchema)
    def get(self, day: str):
        """Whether a day (YYYY-MM-DD) is worked, and why."""
        when = _date(day)
        return json_response(_day_data(when, db.session.get(CalendarDay, when)))

    @roles(Role.ADMIN)
    @blp.arguments(s.DaySetArgs)
    @blp.response(200, s.DaySchema)
    def put(self, args: dict[str, Any], day: str):
        """Make a day a holiday, a working day, or normal again (administrators)."""
        when = _date(day)
        hotline = get_hotline()
        set_day(db.session, day=when, kind=args["kind"], name=args["name"], clock=hotline.clock)
        hotline.calendar.invalidate()
        return json_response(_day_data(when, db.session.get(CalendarDay, when)))


def _date(text: str) -> date:
    try:
        when = date.fromisoformat(text)
    except ValueError:
        abort(404, message=f"{text!r} is not a date (YYYY-MM-DD)")
    if not s.EARLIEST <= when <= s.LATEST:
        abort(404, message=f"{text} is outside {s.EARLIEST.year}-{s.LATEST.year}")
    return when
