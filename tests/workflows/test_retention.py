"""Retention: cases closed long ago lose every copy of the caller's data; KPIs do not move."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import String, cast, select

from engine.models import InstanceEvent, ProcessInstance
from workflows.audit.models import AuditEntry
from workflows.audit.retention import RetentionTooShort, run_retention
from workflows.audit.service import Actor, verify
from workflows.cases.models import Case
from workflows.cases.phone_search import phone_contains
from workflows.kpi.service import compute_kpis
from workflows.simulation import Rates, Simulation

CLI = Actor("system:cli")


def _kpis(session, start, end, as_of):
    return [
        (group_by, compute_kpis(session, start=start, end=end, as_of=as_of, group_by=group_by))
        for group_by in (("department",), ("case_type",), ())
    ]


def _copies(session, case: Case) -> str:
    """Every stored text that could hold this case's caller: row, workflow state, events."""
    texts = [
        case.caller_name,
        case.caller_phone,
        case.address,
        case.description,
        session.scalar(select(ProcessInstance.state).where(ProcessInstance.id == case.instance_id)),
        *session.scalars(
            select(cast(InstanceEvent.payload, String)).where(
                InstanceEvent.instance_id == case.instance_id
            )
        ),
    ]
    return "\n".join(t or "" for t in texts)


@pytest.mark.parametrize("mode", ["straight"])
def test_old_closed_cases_lose_personal_data_and_kpis_stay(hotline, database, clock):
    start = clock.now()
    Simulation(hotline, database.session, seed=3, rates=Rates(answered=0.4)).run(cases=24, days=6)
    end = clock.now() + timedelta(seconds=1)
    with database.session() as session:
        cases = list(session.scalars(select(Case).order_by(Case.id)))
        closed = [c for c in cases if c.closed_at is not None]
        open_ = [c for c in cases if c.closed_at is None]
        callers = {c.id: (c.caller_name, c.caller_phone, c.address) for c in cases}
        before = _kpis(session, start, end, end)
    assert closed and open_, "the simulation should leave both closed and open cases"
    for case in closed:
        with database.session() as session:
            assert callers[case.id][1] in _copies(session, session.get(Case, case.id))

    clock.advance(timedelta(days=200))
    with database.session() as session:
        dry = run_retention(session, now=clock.now(), days=180, actor=CLI, dry_run=True)
        assert dry.cases == len(closed)
        assert session.get(Case, closed[0].id).caller_phone == callers[closed[0].id][1]
        report = run_retention(session, now=clock.now(), days=180, actor=CLI, batch=5)
    assert report.cases == len(closed)
    assert report.batches == -(-len(closed) // 5)

    with database.session() as session:
        for case in closed:
            row = session.get(Case, case.id)
            assert (row.caller_name, row.caller_phone, row.address) == ("", "", "")
            text = _copies(session, row)
            for secret in callers[case.id]:
                assert secret not in text, f"{case.number} still holds {secret!r}"
            assert row.category == case.category and row.status == case.status
        for case in open_:
            row = session.get(Case, case.id)
            assert (row.caller_name, row.caller_phone, row.address) == callers[case.id]
        # the phone search index follows: a search by part of the phone finds only open cases
        for case in (closed[0], open_[0]):
            fragment = callers[case.id][1][3:]
            found = set(
                session.scalars(
                    select(Case.id).where(phone_contains(Case.id, Case.caller_phone, fragment))
                )
            )
            assert (case.id in found) == (case in open_)
        # the statistics are the same figures
        assert _kpis(session, start, end, end) == before
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action.like("retention%"))))
        assert sum(r.detail["cases"] for r in rows) == len(closed)
        assert verify(session).intact

        # a second run finds nothing left to do
        again = run_retention(session, now=clock.now(), days=180, actor=CLI)
    assert again.cases == 0


@pytest.mark.parametrize("mode", ["straight"])
def test_recently_closed_cases_are_kept(hotline, database, clock):
    Simulation(hotline, database.session, seed=4, rates=Rates(answered=0.8)).run(cases=6, days=2)
    clock.advance(timedelta(days=100))
    with database.session() as session:
        report = run_retention(session, now=clock.now(), days=180, actor=CLI)
        assert report.cases == 0
        assert all(c.caller_phone for c in session.scalars(select(Case)))


def test_an_age_under_six_months_is_refused(database, clock):
    with database.session() as session, pytest.raises(RetentionTooShort, match="180"):
        run_retention(session, now=clock.now(), days=90, actor=CLI)
