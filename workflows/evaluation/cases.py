"""The cases behind a scorecard's figure: a (month, unit, KPI, numerator or denominator) as a
query, with the conditions of :func:`workflows.kpi.service._rates` themselves (not a copy), so
that the list has exactly as many cases as the figure counts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.sql.elements import ColumnElement

from workflows.calendar.service import DEFAULT_TZ
from workflows.cases.models import Case
from workflows.kpi.service import _dispatched, _rates

from .scorecards import add_months, month_start

#: the figures a scorecard links: the weighted rates and the penalties' counts (co-handling on
#: time counts co-handling tasks, not cases led: it has no case list here)
LINKED = ("on_time_sign_for", "on_time_closure", "satisfaction", "resolution", "returned",
          "overdue", "reopened", "dispatched", "supervision")  # fmt: skip
SIDES = ("numerator", "denominator")


def figure_condition(kpi: str, side: str, *, as_of: datetime) -> ColumnElement[bool]:
    """The condition a case meets to count in this side of the figure."""
    if kpi not in LINKED:
        raise ValueError(f"kpi: not one of {LINKED}")
    if side not in SIDES:
        raise ValueError(f"side: not one of {SIDES}")
    if kpi == "dispatched":
        return _dispatched()
    if kpi == "supervision":
        # as department_months sums the orders: every case led, dispatched or not
        return Case.supervision_order_count > 0
    numerator, denominator = _rates(as_of)[kpi]
    return numerator if side == "numerator" else denominator


def figure_cases(
    *,
    month: date,
    department_id: int | None,
    kpi: str,
    side: str,
    as_of: datetime,
    tz: str = DEFAULT_TZ,
) -> Select:
    """The cases created in the local month, led by the unit (any unit: None), counted in the
    figure's side; the newest first."""
    month = month.replace(day=1)
    led = (
        Case.lead_department_id.is_not(None)
        if department_id is None
        else Case.lead_department_id == department_id
    )
    return (
        select(Case)
        .where(
            Case.created_at >= month_start(month, tz),
            Case.created_at < month_start(add_months(month, 1), tz),
            led,
            figure_condition(kpi, side, as_of=as_of),
        )
        .order_by(Case.created_at.desc(), Case.id.desc())
    )
