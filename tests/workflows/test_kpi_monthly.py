"""Each department's figures per month (``workflows/kpi/monthly.py``), and an upheld appeal
taking a case out of the rates: hand-built cases, counted by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from workflows.kpi.monthly import department_months
from workflows.kpi.service import Ratio, compute_kpis

from .test_kpi import AS_OF, D, H, T, add_case, add_department, add_dispatched

#: February and March 2026 in Beijing
SPAN = {
    "start": datetime(2026, 1, 31, 16, 0, tzinfo=UTC),
    "end": datetime(2026, 3, 31, 16, 0, tzinfo=UTC),
}


@pytest.fixture
def session(database):
    with database.session() as session:
        yield session


def test_department_months(session):
    d1 = add_department(session, "m1", "一局")
    d2 = add_department(session, "m2", "二局")
    feb = T - 20 * D  # 2026-02-18
    # d1 in March: one on time with two supervision orders, one signed for late
    add_dispatched(session, d1, supervision_order_count=2)
    add_dispatched(session, d1, signed_at=T + 30 * H)
    # d1 in February: one case
    add_dispatched(
        session, d1, created_at=feb, dispatched_at=feb + H, sign_due=feb + 25 * H,
        signed_at=feb + 2 * H, reply_due=feb + 5 * D,
    )  # fmt: skip
    # d2 in March, one case; and a case never dispatched (left out)
    add_dispatched(session, d2, supervision_order_count=1)
    add_case(session)
    rows = department_months(session, **SPAN, as_of=AS_OF)
    got = [
        (r.month, r.department_id, r.kpis.dispatched, r.kpis.on_time_sign_for, r.supervision_orders)
        for r in rows
    ]
    assert got == [
        (date(2026, 2, 1), d1.id, 1, Ratio(1, 1), 0),
        (date(2026, 3, 1), d1.id, 2, Ratio(1, 2), 2),
        (date(2026, 3, 1), d2.id, 1, Ratio(1, 1), 1),
    ]
    assert all(r.cohandling_on_time == Ratio(0, 0) for r in rows)
    only_d2 = department_months(session, **SPAN, as_of=AS_OF, department_ids=[d2.id])
    assert [(r.month, r.department_id) for r in only_d2] == [(date(2026, 3, 1), d2.id)]


def test_an_upheld_appeal_leaves_every_rate_but_still_counts_as_a_case(session):
    d1 = add_department(session, "m3", "三局")
    add_dispatched(session, d1)
    late = add_dispatched(session, d1, signed_at=T + 30 * H, satisfaction="dissatisfied")
    (before,) = compute_kpis(session, **SPAN, as_of=AS_OF, department_ids=[d1.id])
    assert before.on_time_sign_for == Ratio(1, 2)
    assert before.satisfaction == Ratio(0, 1)
    late.appeal_upheld_at = AS_OF
    session.flush()
    (after,) = compute_kpis(session, **SPAN, as_of=AS_OF, department_ids=[d1.id])
    assert (after.cases, after.dispatched) == (2, 2)
    assert after.on_time_sign_for == Ratio(1, 1)
    assert after.satisfaction == Ratio(0, 0)
    assert after.returned == Ratio(0, 1)
