"""The KPI rollup (workflows/kpi/rollup.py) against a recount from the cases: after varied
changes, with some days recounted by the worker and others still dirty, every figure read
through the rollup equals the live query's."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from workflows.kpi import rollup
from workflows.kpi.models import RATE_NAMES, KpiDayRollup, KpiDirtyDay
from workflows.kpi.monthly import department_months
from workflows.kpi.service import RATE_KPIS, Ratio, compute_kpis, kpi_board, kpi_trend

from .test_kpi import AS_OF, D, H, T, add_case, add_department, add_dispatched

MARCH = {
    "start": datetime(2026, 2, 28, 16, 0, tzinfo=UTC),
    "end": datetime(2026, 3, 31, 16, 0, tzinfo=UTC),
}
#: Feb and March, and a span starting and ending mid-day (partial edge days)
SPANS = [
    {"start": datetime(2026, 1, 31, 16, 0, tzinfo=UTC), "end": MARCH["end"]},
    MARCH,
    {"start": datetime(2026, 3, 3, 5, 30, tzinfo=UTC), "end": datetime(2026, 3, 17, 9, 0, tzinfo=UTC)},
]  # fmt: skip
LATER = AS_OF + 30 * D


@pytest.fixture
def db(database):
    return database


def test_the_rollup_stores_every_rate():
    assert tuple(RATE_KPIS) == RATE_NAMES


def _every_figure(session, as_of):
    out = []
    for span in SPANS:
        for group_by in [(), ("department",), ("case_type",), ("department", "case_type")]:
            for bucket in [None, "day", "week", "month"]:
                out.append(
                    compute_kpis(session, **span, as_of=as_of, group_by=group_by, bucket=bucket)
                )
        out.append(compute_kpis(session, **span, as_of=as_of, case_types=["complaint"]))
        out.append(kpi_board(session, **span, as_of=as_of, bucket="month"))
        out.append(kpi_trend(session, **span, as_of=as_of, bucket="week"))
        out.append(department_months(session, **span, as_of=as_of))
    return out


def _agree(session, as_of=AS_OF):
    through_rollup = _every_figure(session, as_of)
    with rollup.live_only():
        live = _every_figure(session, as_of)
    assert through_rollup == live
    return through_rollup


def _recount(database, days=None, reader=None):
    """The worker's recount of the dirty days (of ``days`` if given), in sessions of its own;
    ``reader``'s transaction ends after, so that it reads what the worker wrote."""
    with database.session() as session:
        dirty = rollup.dirty_days(session)
    chosen = dirty if days is None else [d for d in dirty if d in days]
    for day in chosen:
        with database.session() as session:
            rollup.recount_day(session, day, as_of=AS_OF)
            session.commit()
    if reader is not None:
        reader.commit()
    return chosen


def test_rollup_and_recount_agree_through_changes(db):
    session = db.session()
    d1 = add_department(session, "r1", "一局")
    d2 = add_department(session, "r2", "二局")
    feb = T - 20 * D  # 2026-02-18 Beijing
    # settled cases of several days: closed on time, closed late and rated, merged, answered
    closed = add_dispatched(
        session, d1, status="closed", replied_at=T + 3 * D, closed_at=T + 4 * D,
        callback_required=True, callback_at=T + 4 * D, satisfaction="satisfied", resolved=True,
    )  # fmt: skip
    late = add_dispatched(
        session, d2, status="closed", replied_at=T + 6 * D, closed_at=T + 6 * D,
        return_count=1, reopen_count=1, satisfaction="dissatisfied", supervision_order_count=2,
    )  # fmt: skip
    add_case(session, status="merged", outcome="merged", created_at=T + 2 * H)
    add_case(session, status="closed", intake_outcome="answered", closed_at=T, created_at=T - 3 * D)
    old = add_dispatched(
        session, d1, created_at=feb, dispatched_at=feb + H, sign_due=feb + 25 * H,
        signed_at=feb + 30 * H, reply_due=feb + 5 * D, replied_at=feb + 4 * D,
        closed_at=feb + 4 * D, status="closed", case_type="suggestion",
    )  # fmt: skip
    # open cases: one past its deadline by AS_OF (and by LATER), one past it only by LATER
    add_dispatched(session, d1, created_at=T + D, reply_due=T + 5 * D)
    waiting = add_dispatched(session, d2, created_at=T + 2 * D, reply_due=AS_OF + 10 * D)
    session.commit()
    assert (
        session.scalar(select(func.count()).select_from(KpiDirtyDay)) == 3
    )  # 18 Feb, 7 and 10 Mar

    _agree(session)  # nothing recounted: every day dirty, read live
    assert _recount(db, days={date(2026, 3, 10)}, reader=session) == [date(2026, 3, 10)]
    _agree(session)  # one day from the rollup, the rest live
    _recount(db, reader=session)
    assert rollup.dirty_days(session) == []
    first = _agree(session)

    # changes on another day to cases created on recounted days: each marks its day
    late.appeal_upheld_at = AS_OF
    closed.satisfaction = "dissatisfied"
    old.lead_department_id = d2.id
    old.supervision_order_count = 1
    session.commit()
    assert rollup.dirty_days(session) == [date(2026, 2, 18), date(2026, 3, 10)]
    assert _agree(session) != first
    _recount(db, days={date(2026, 2, 18)}, reader=session)
    _agree(session)

    # a reopen takes a settled case out of the rollup; an open case's step marks nothing
    _recount(db, reader=session)
    closed.status, closed.reopen_count = "in_progress", 1
    waiting.signed_at = T + 2 * D + H
    session.commit()
    assert rollup.dirty_days(session) == [date(2026, 3, 10)]
    _agree(session)
    _recount(db, reader=session)
    # a merge of a case opened on another day, then a close, and a later reading
    waiting.status, waiting.outcome = "merged", "merged"
    session.commit()
    assert rollup.dirty_days(session) == [date(2026, 3, 12)]
    _agree(session)
    _recount(db, reader=session)
    _agree(session)
    _agree(session, as_of=LATER)  # the open case past its deadline only later
    assert (
        rollup.differences(session, as_of=AS_OF, days=[date(2026, 3, d) for d in range(1, 31)])
        == []
    )
    session.close()


def test_figures_read_from_the_rollup(db):
    """The rollup answers alone for a recounted day: hand-counted figures, and its rows."""
    session = db.session()
    d1 = add_department(session, "r3", "三局")
    add_dispatched(session, d1, status="closed", replied_at=T + D, closed_at=T + D)
    add_dispatched(session, d1, status="closed", signed_at=T + 30 * H, closed_at=T + 9 * D,
                   supervision_order_count=3)  # fmt: skip
    add_dispatched(session, d1)  # open: read live
    session.commit()
    _recount(db, reader=session)
    rows = session.execute(select(KpiDayRollup.__table__)).mappings().all()
    assert [(r["day"], r["department_id"], r["cases"], r["supervision_orders"]) for r in rows] == [
        (date(2026, 3, 10), d1.id, 2, 3)
    ]
    (row,) = compute_kpis(session, **MARCH, as_of=AS_OF)
    assert (row.cases, row.dispatched) == (3, 3)
    assert row.on_time_sign_for == Ratio(2, 3)
    # one closed by its deadline (T+5d), one after it, the open one past it at AS_OF (T+10d)
    assert row.on_time_closure == Ratio(1, 3)
    (month,) = department_months(session, **MARCH, as_of=AS_OF)
    assert month.supervision_orders == 3
    session.close()


def test_the_worker_job_recounts_every_minute(db):
    from engine.clock import ManualClock

    session = db.session()
    add_case(session, status="closed", intake_outcome="answered", closed_at=T)
    session.commit()
    clock = ManualClock(AS_OF)
    job = rollup.RollupJob(db.session, clock=clock, every=60)
    assert job.tick() == 1
    add_case(session, status="closed", intake_outcome="answered", closed_at=T, created_at=T + D)
    session.commit()
    assert job.tick() == 0  # within the minute
    clock.advance(seconds=60)
    assert job.tick() == 1
    assert rollup.dirty_days(session) == []
    session.close()


def test_rebuild_counts_cases_loaded_outside_the_orm(db):
    from workflows.cases.models import Case

    session = db.session()
    d1 = add_department(session, "r4", "四局")
    session.commit()
    session.execute(
        Case.__table__.insert(),
        [
            {"number": f"X{i}", "case_type": "complaint", "urgency": "normal",
             "status": "closed", "intake_outcome": "dispatch", "lead_department_id": d1.id,
             "dispatched_at": T, "closed_at": T + D, "created_at": T + i * H, "updated_at": T}
            for i in range(30)
        ],
    )  # fmt: skip
    session.commit()
    assert rollup.dirty_days(session) == []  # a Core insert marks nothing: hence rebuild
    assert rollup.rebuild(db.session, as_of=AS_OF) == 2
    session.commit()  # a fresh read: the rebuild wrote in sessions of its own
    _agree(session)
    session.close()


def test_marks_and_recounts_after_the_plan_read_the_dirty_days(db, monkeypatch):
    """On PostgreSQL each statement has its own snapshot: a day marked, or recounted, between
    the plan's read of the dirty days and the counting statement still counts once."""
    from workflows.kpi.models import ROLLUP_TZ

    session = db.session()
    d1 = add_department(session, "r5", "五局")
    first = add_dispatched(session, d1, status="closed", closed_at=T + D)
    add_dispatched(session, d1, status="closed", closed_at=T + D, created_at=T + 2 * D)
    session.commit()
    _recount(db, reader=session)
    expected = _agree(session)
    plan = rollup.plan

    def plans_now():
        return {(s["start"], s["end"]): plan(session, **s, tz=ROLLUP_TZ) for s in SPANS}

    def replay(plans):
        monkeypatch.setattr(rollup, "plan", lambda _s, *, start, end, tz: plans[start, end])

    clean = plans_now()
    first.appeal_upheld_at = AS_OF  # marks 10 March after the plans
    session.commit()
    replay(clean)
    changed = _every_figure(session, AS_OF)
    assert changed != expected
    monkeypatch.undo()
    stale = plans_now()
    assert stale[MARCH["start"], MARCH["end"]].dirty == (date(2026, 3, 10),)
    _recount(db, reader=session)  # recounted after the plans
    replay(stale)
    assert _every_figure(session, AS_OF) == changed
    monkeypatch.undo()
    with rollup.live_only():
        assert _every_figure(session, AS_OF) == changed
    session.close()
