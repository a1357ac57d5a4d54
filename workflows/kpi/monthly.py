"""Each department's figures per month: what the evaluation (``workflows/evaluation``) scores.

One call gives, for the cases created in ``[start, end)``, per local month and lead department:
the KPIs (:class:`~workflows.kpi.service.KpiRow`), the supervision orders delivered to those
cases, and the department's co-handling parts on time (as a co-handling unit, by its own
deadline). Months with nothing for a department are absent.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from workflows.calendar.service import DEFAULT_TZ

from .buckets import as_date, zone_named
from .service import (
    COUNT_KPIS,
    RATE_KPIS,
    KpiRow,
    Ratio,
    cohandling_by_month,
    grouped_counts,
)


@dataclass(frozen=True)
class DepartmentMonth:
    month: date  # the 1st of the local month
    department_id: int
    kpis: KpiRow
    supervision_orders: int
    cohandling_on_time: Ratio


def department_months(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    tz: str = DEFAULT_TZ,
    department_ids: Collection[int] | None = None,
) -> list[DepartmentMonth]:
    """Per (month, lead department), ordered so; cases never dispatched are left out."""
    zone_named(tz)  # a bad zone name fails before any query
    # the KPIs and the supervision orders from one pass (the rollup holds both)
    kpis: dict[tuple[date, int], KpiRow] = {}
    orders: dict[tuple[date, int], int] = {}
    for row in grouped_counts(
        session,
        start=start,
        end=end,
        as_of=as_of,
        group_by=("department",),
        bucket="month",
        tz=tz,
        department_ids=department_ids,
        case_types=None,
        orders=True,
    ):
        if row["department_id"] is None:
            continue
        key = (as_date(row["bucket"]), row["department_id"])
        kpis[key] = _kpi_row(row)
        if row["supervision_orders"]:
            orders[key] = int(row["supervision_orders"])
    cohandling = cohandling_by_month(
        session, start=start, end=end, as_of=as_of, tz=tz, department_ids=department_ids
    )
    keys = sorted(set(kpis) | set(orders) | set(cohandling))
    return [
        DepartmentMonth(
            month=key[0],
            department_id=key[1],
            kpis=kpis.get(key) or KpiRow.empty(bucket=key[0], department_id=key[1]),
            supervision_orders=orders.get(key, 0),
            cohandling_on_time=cohandling.get(key, Ratio(0, 0)),
        )
        for key in keys
    ]


def _kpi_row(row: dict[str, object]) -> KpiRow:
    values: dict[str, object] = {name: row[name] for name in COUNT_KPIS}
    values.update({name: Ratio(row[f"{name}__n"], row[f"{name}__d"]) for name in RATE_KPIS})
    values.update(
        department_id=row["department_id"],
        department_name=row["department_name"],
        department_name_en=row["department_name_en"],
        case_type=None,
        bucket=as_date(row["bucket"]),  # type: ignore[arg-type]
    )
    return KpiRow(**values)  # type: ignore[arg-type]
