"""The simulator drives calls through the engine on a moved clock, and its rates steer it.

``hotline simulate`` and ``hotline init --demo`` rest on it: a newcomer's dashboard and the
benchmarks both need its cases to be real cases, made by the engine, whose deadlines fired.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.clock import ManualClock
from engine.models import ProcessInstance, Timer
from engine.runtime import Runtime
from tests.conftest import Database
from workflows.calls.models import AgentState, Call, CallCallback, CallEvent
from workflows.cases.models import CallbackAttempt, Case
from workflows.simulation import MARKET_CATEGORIES, Rates, Simulation

from .conftest import TZ, build_city_template, install_hotline

CALM = Rates(
    sign_late=0,
    return_=0,
    extension=0,
    suspension=0,
    late_reply=0,
    redo=0,
    unsatisfied=0,
    duplicate=0,
)


def cases(database) -> list[Case]:
    with database.session() as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


@pytest.mark.parametrize("mode", ["straight"])
def test_a_late_city_escalates_and_every_case_is_an_engine_case(hotline, database, clock):
    start = clock.now()
    late = Rates(sign_late=1.0, late_reply=1.0, answered=0.3)
    report = Simulation(hotline, database.session, seed=5, rates=late).run(cases=40, days=10)

    found = cases(database)
    assert report.cases == len(found) == 40
    assert sum(report.statuses.values()) == 40
    assert clock.now() >= start.replace(day=start.day + 10)
    with database.session() as session:
        instances = set(session.scalars(select(ProcessInstance.id)))
        fired = session.scalar(select(func.count()).where(Timer.status == "fired"))
    assert all(case.instance_id in instances for case in found)
    assert report.timers_fired > 0 and fired > 0
    # the calls spread over the period, and the late departments' deadlines really fired
    assert len({case.created_at.date() for case in found}) >= 5
    dispatched = [c for c in found if c.intake_outcome == "dispatch"]
    assert dispatched
    assert any(c.sign_escalated for c in dispatched)
    assert any(c.escalated for c in dispatched)
    assert any(c.first_contact_resolution for c in found)
    assert report.statuses["closed"] > 0


@pytest.mark.parametrize("mode", ["straight"])
def test_a_calm_city_replies_on_time_and_nobody_is_chased(hotline, database):
    report = Simulation(hotline, database.session, seed=5, rates=CALM).run(cases=40, days=10)

    found = cases(database)
    assert report.cases == 40
    dispatched = [c for c in found if c.intake_outcome == "dispatch"]
    assert dispatched
    assert not any(c.sign_escalated or c.escalated for c in dispatched)
    assert not any(c.return_count or c.extension_count or c.reopen_count for c in found)
    assert report.statuses["closed"] > 0


@pytest.mark.parametrize("mode", ["straight"])
def test_unreachable_citizens_and_declined_ratings_end_their_cases(hotline, database):
    rates = Rates(answered=0, not_accepted=0, duplicate=0, unreachable=0.5, rating_declined=0.3)
    Simulation(hotline, database.session, seed=3, rates=rates).run(cases=30, days=12)

    found = cases(database)
    outcomes = {c.outcome for c in found if c.status == "closed"}
    assert {"not_reached", "rating_declined", "handled"} <= outcomes
    with database.session() as session:
        attempts = dict(
            session.execute(
                select(CallbackAttempt.case_id, func.count())
                .where(CallbackAttempt.result == "not_reached")
                .group_by(CallbackAttempt.case_id)
            ).all()
        )
    for case in found:
        if case.outcome == "not_reached":
            assert attempts[case.id] >= 3 and case.satisfaction is None
        if case.outcome == "rating_declined":
            assert case.satisfaction is None


def test_supervision_orders_are_answered_and_ignored_ones_reach_the_lead(hotline, database):
    from engine.models import HumanTask

    rates = dataclasses.replace(
        CALM,
        late_reply=1.0,
        supervision_order=1.0,
        ignored_order=0.5,
        answered=0,
        not_accepted=0,
    )
    until = hotline.clock.now() + timedelta(days=45)  # past every reply deadline
    Simulation(hotline, database.session, seed=3, rates=rates).run(cases=30, days=5, until=until)
    with database.session() as session:
        done = dict(
            session.execute(
                select(HumanTask.kind, func.count())
                .where(HumanTask.state == "completed")
                .group_by(HumanTask.kind)
            ).all()
        )
    assert done.get("supervise", 0) > 0
    assert done.get("answer_supervision", 0) > 0
    assert done.get("lead_supervise", 0) > 0


# -- the phones (docs/calls.md, "The simulator") ----------------------------------------------

#: a tenth of the calls abandoned, a tenth missed, a tenth answered with no case: of 20 cases,
#: 16 by phone (about: the channel is drawn), round(20 * 0.8 * 0.1 / 0.7) = 2 calls of each kind
RINGING = dataclasses.replace(
    CALM, call_abandoned=0.1, call_missed=0.1, call_no_case=0.1, call_repeat=0
)


def calls_of(database) -> list[Call]:
    with database.session() as session:
        return list(session.scalars(select(Call).order_by(Call.call_id)))


@pytest.mark.parametrize("mode", ["straight"])
def test_the_simulator_rings_phones_through_the_event_path(hotline, database):
    report = Simulation(hotline, database.session, seed=4, rates=RINGING).run(cases=20, days=3)

    found = calls_of(database)
    by_outcome = Counter(call.outcome for call in found)
    assert by_outcome["abandoned"] == by_outcome["missed"] == 2
    phone_cases = {c.id: c for c in cases(database) if c.channel == "phone"}
    assert phone_cases
    assert by_outcome["answered"] == len(phone_cases) + 2
    assert report.calls == by_outcome and report.call_callbacks == 4
    assert any("calls: " in line for line in report.lines())
    with database.session() as session:
        events = Counter(
            session.scalars(
                select(CallEvent.event).join(Call, Call.id == CallEvent.call_row_id)
            ).all()
        )
        tasks = list(session.scalars(select(CallCallback)))
        states = {row.state for row in session.scalars(select(AgentState))}
    # every call ended (the simulation ran to its end), in the queues the issue names
    assert {call.state for call in found} == {"ended", "missed"}
    assert {call.queue for call in found} <= {"12345", "12315"}
    assert events["ringing"] == len(found)
    assert events["answered"] == by_outcome["answered"]
    assert events["missed"] == 2
    # each phone case's call was answered by the operator who recorded the case, whose number
    # rang; the call links to it
    linked = [call for call in found if call.case_id is not None]
    assert sorted(call.case_id for call in linked) == sorted(phone_cases)
    for call in linked:
        case = phone_cases[call.case_id]
        assert call.outcome == "answered" and call.caller == case.caller_phone
        assert call.queue == ("12315" if case.category in MARKET_CATEGORIES else "12345")
        assert call.agent in ("op1", "op2") and call.settled_by == call.agent
        assert call.answered_at < case.created_at < call.ended_at
        assert 3 <= call.wait_seconds <= 243 and call.talk_seconds >= 60
        assert call.wrap_seconds is not None and not call.no_case_reason
    # the answered calls with no case say why
    no_case = [c for c in found if c.outcome == "answered" and c.case_id is None]
    assert len(no_case) == 2
    assert all(
        c.no_case_reason in {"wrong_number", "silent", "hung_up", "harassment"} for c in no_case
    )
    # every missed and abandoned call is a callback task of its own (four callers)
    unanswered = [c for c in found if c.outcome in ("missed", "abandoned")]
    assert all(c.callback_id is not None for c in unanswered)
    assert sorted(t.caller for t in tasks) == sorted(c.caller for c in unanswered)
    assert all(t.state == "open" for t in tasks)
    # the operators ended their after-call work: nobody is left on a call
    assert states <= {"available"}


def fresh_run(database, tmp_path, name: str, rates: Rates) -> tuple[list[tuple], dict]:
    """The calls and the cases of a 20-case run with seed 4 in a fresh copy of the city."""
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    (tmp_path / name).mkdir()
    db = Database(database.kind, tmp_path / name)
    try:
        db.copy_from(database.template(f"city:{start.isoformat()}", build_city_template(start)))
        clock = ManualClock(start)
        hotline = install_hotline(Runtime(clock=clock, tz=TZ), clock, db.session)
        Simulation(hotline, db.session, seed=4, rates=rates).run(cases=20, days=3)
        calls = [
            (c.call_id, c.caller, c.outcome, c.agent, c.arrived_at, c.wait_seconds, c.talk_seconds)
            for c in calls_of(db)
        ]
        return calls, {c.number: (c.status, c.created_at) for c in cases(db)}
    finally:
        db.drop()


@pytest.mark.parametrize("mode", ["straight"])
def test_the_same_seed_rings_the_same_calls_and_calls_leave_the_cases_alone(
    database, tmp_path, mode
):
    calls, cases_ = fresh_run(database, tmp_path, "a", RINGING)
    again, cases_again = fresh_run(database, tmp_path, "b", RINGING)
    assert calls and calls == again and cases_ == cases_again

    # other call rates: other calls, the same cases (the calls have dice of their own)
    quiet = dataclasses.replace(RINGING, call_abandoned=0, call_missed=0.3, call_no_case=0)
    other, other_cases = fresh_run(database, tmp_path, "c", quiet)
    # round(20 * 0.8 * 0.3 / 0.7) = 7 missed calls, none abandoned or answered with no case
    outcomes = Counter(call[2] for call in other)
    assert outcomes["missed"] == 7 and outcomes["abandoned"] == 0
    assert outcomes["answered"] == sum(1 for call in calls if call[2] == "answered") - 2
    assert other_cases == cases_


def local_hour(at: datetime) -> int:
    return at.astimezone(TZ).hour


@pytest.mark.parametrize("mode", ["straight"])
def test_night_calls_are_missed_more_and_callers_call_again_about_their_cases(hotline, database):
    # half of the phone calls missed, none abandoned or answered with no case: of 30 cases,
    # round(30 * 0.8 * 0.5 / 0.5) = 24 missed calls; half the phone cases' callers call again
    rates = dataclasses.replace(
        CALM, call_abandoned=0, call_no_case=0, call_missed=0.5, call_repeat=0.5
    )
    until = hotline.clock.now() + timedelta(days=7)  # every repeat call (2-72 h later) rings
    Simulation(hotline, database.session, seed=2, rates=rates).run(cases=30, days=4, until=until)

    found = calls_of(database)
    assert Counter(call.outcome for call in found)["missed"] == 24
    # the night (20:00-8:00 local) has fewer operators on: a call then is missed more often
    night = [c for c in found if not 8 <= local_hour(c.arrived_at) < 20]
    day = [c for c in found if 8 <= local_hour(c.arrived_at) < 20]
    missed_share = {
        name: sum(c.outcome == "missed" for c in calls) / len(calls)
        for name, calls in (("night", night), ("day", day))
    }
    assert missed_share["night"] > 2 * missed_share["day"] > 0
    # each missed caller has a callback task
    with database.session() as session:
        tasks = {t.id: t for t in session.scalars(select(CallCallback))}
    missed = [c for c in found if c.outcome == "missed"]
    assert all(tasks[c.callback_id].caller == c.caller for c in missed)
    # callers call again about their phone cases: later calls, answered, linked to the case
    phone_cases = {c.id: c for c in cases(database) if c.channel == "phone"}
    by_case: dict[int, list[Call]] = {}
    for call in found:
        if call.case_id is not None:
            by_case.setdefault(call.case_id, []).append(call)
    assert set(by_case) == set(phone_cases)
    repeats = [
        c for calls in by_case.values() for c in sorted(calls, key=lambda c: c.arrived_at)[1:]
    ]
    assert len(repeats) >= 5
    for call in repeats:
        case = phone_cases[call.case_id]
        assert call.caller == case.caller_phone and call.arrived_at > case.created_at
        assert call.outcome == "answered" and call.settled_by == call.agent
        assert not call.no_case_reason and call.callback_id is None
    # the market-regulation categories' calls ring in 12315
    market = [c for c in phone_cases.values() if c.category in MARKET_CATEGORIES]
    assert market
    for case in phone_cases.values():
        queue = "12315" if case.category in MARKET_CATEGORIES else "12345"
        assert {c.queue for c in by_case[case.id]} == {queue}
