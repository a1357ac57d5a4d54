"""The simulator drives calls through the engine on a moved clock, and its rates steer it.

``hotline simulate`` and ``hotline init --demo`` rest on it: a newcomer's dashboard and the
benchmarks both need its cases to be real cases, made by the engine, whose deadlines fired.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.models import ProcessInstance, Timer
from workflows.cases.models import CallbackAttempt, Case
from workflows.simulation import Rates, Simulation

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
