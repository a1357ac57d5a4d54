"""Retention: cases closed long ago lose every copy of the caller's data; KPIs do not move."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import String, cast, select

from engine.models import InstanceEvent, ProcessInstance
from workflows.audit.models import AuditEntry
from workflows.audit.retention import RetentionTooShort, run_retention
from workflows.audit.service import Actor, verify
from workflows.calls.models import Call, CallCallback, CallCallbackAttempt, CallEvent
from workflows.calls.service import CallEventIn, ingest
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
        assert sum(r.detail["cases"] for r in rows if r.target_type == "case") == len(closed)
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


def _ring(city, call_id: str, event: str, at: datetime, **fields) -> None:
    ingest(
        city.session,
        CallEventIn(call_id=call_id, event=event, at=at, **fields),
        clock=city.clock,
        calendar=city.hotline.calendar.get(),
    )


def _call(session, call_id: str) -> Call:
    return session.scalars(select(Call).where(Call.call_id == call_id)).one()


@pytest.mark.parametrize("mode", ["straight"])
def test_old_calls_and_callback_tasks_lose_the_callers_number(city, clock):
    session = city.session
    start = clock.now()
    personal = {
        "caller": "13800138000",
        "recording_url": "https://pbx.example/rec/old.wav",
        "ivr_path": "普通话 > 投诉",
    }
    _ring(city, "old", "ringing", start, queue="12345", agent="op1", **personal)
    _ring(city, "old", "answered", start + timedelta(seconds=20), agent="op1")
    _ring(city, "old", "ended", start + timedelta(seconds=200))
    _ring(city, "missed", "missed", start + timedelta(minutes=5), caller="13900139000")
    with session.begin():
        _call(session, "old").no_case_note = "王先生 13800138000 打错了"
        task = session.scalars(select(CallCallback)).one()
        task.note = "王先生说晚上再打"
        session.add(
            CallCallbackAttempt(
                callback_id=task.id, at=start, user="op2", result="not_reached",
                reason="no_answer", note="13900139000 关机",
            )
        )  # fmt: skip
    clock.advance(timedelta(days=200))
    _ring(city, "new", "missed", clock.now(), caller="13700137000", queue="12345")

    dry = run_retention(session, now=clock.now(), days=180, actor=CLI, dry_run=True)
    assert (dry.calls, dry.callbacks) == (2, 1)
    assert _call(session, "old").caller == "13800138000"

    report = run_retention(session, now=clock.now(), days=180, actor=CLI, batch=1)
    assert (report.calls, report.callbacks, report.call_batches) == (2, 1, 3)
    session.expire_all()
    old = _call(session, "old")
    assert (old.caller, old.recording_url, old.ivr_path) == ("", "", "")
    assert old.no_case_note == "[anonymised]"
    # what the call KPIs count stays
    assert (old.queue, old.agent, old.outcome) == ("12345", "op1", "answered")
    assert (old.wait_seconds, old.talk_seconds) == (20.0, 180.0)
    events = session.scalars(select(CallEvent).where(CallEvent.call_row_id == old.id)).all()
    assert [e.payload for e in events if e.payload] == [{"queue": "12345"}]
    assert _call(session, "missed").caller == ""
    old_task, new_task = session.scalars(select(CallCallback).order_by(CallCallback.id)).all()
    assert (old_task.caller, old_task.note) == ("", "[anonymised]")
    assert session.scalars(select(CallCallbackAttempt.note)).all() == ["[anonymised]"]
    assert new_task.caller == "13700137000" and _call(session, "new").caller == "13700137000"
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "retention.anonymise")
    ).all()
    assert sorted((r.target_type, sum(v for v in r.detail.values() if isinstance(v, int)))
                  for r in rows) == [("call", 1), ("call", 1), ("call_callback", 1)]  # fmt: skip
    assert verify(session).intact

    again = run_retention(session, now=clock.now(), days=180, actor=CLI)
    assert (again.calls, again.callbacks, again.call_batches) == (0, 0, 0)
