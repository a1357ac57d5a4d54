"""Demo data for a newcomer: the demo city and a few weeks of simulated hotline life."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import ManualClock
from engine.db import unit_of_work
from engine.runtime import Runtime
from workflows.appeals.demo import demo_appeals
from workflows.cases.models import Case
from workflows.hotline import install
from workflows.insight.areas import seed_demo_areas
from workflows.insight.wave_sim import WaveSpec
from workflows.quality.demo import demo_quality
from workflows.seed import seed_demo_city
from workflows.simulation import Rates, Simulation

from .extensions import db
from .hotline import get_hotline
from .security import hash_password

#: the demo users' password (demo data only: a real installation creates its own users)
DEMO_PASSWORD = "demo"
#: the demo's hot-topic wave (docs/insight-waves.md): "plastic seaweed"
DEMO_WAVE = ("紫菜", "塑料")


def load(*, cases: int = 300, days: int = 21, seed: int = 7, progress=None) -> Iterator[str]:
    """The demo city, then ``cases`` calls over the past ``days`` days (skipped if cases exist)."""
    hotline = get_hotline()
    session = db.session
    with unit_of_work(session):
        yield from seed_demo_city(
            session, clock=hotline.clock, password_hash=hash_password(DEMO_PASSWORD)
        )
        yield from seed_demo_areas(session, clock=hotline.clock)
    yield (
        "demo users (op1, disp1, disp_pj, h_mr, h_bs, centre1, sup1, cb1, lead1, qa1, admin, ...)"
        f" sign in with the password {DEMO_PASSWORD!r}"
    )
    if session.scalar(select(Case.id).limit(1)) is not None:
        yield "demo cases: the database already has cases; none added"
        return
    # and a hot-topic wave that began yesterday: open now, on /insight/waves (DEMO_WAVE)
    wave = WaveSpec(words=DEMO_WAVE, day=max(0, days - 1))
    yield from simulate(
        cases=cases, days=days, seed=seed, ending_now=True, progress=progress, wave=wave
    )
    # a pending appeal and decided ones: the review queue and the case pages' trail
    yield from demo_appeals(session, hotline)
    # last month's samples, most scored by qa1, one disputed: the quality pages
    yield from demo_quality(session, hotline)
    yield from publish_last_month()
    # the simulated history's closed cases: intake and dispatch show the learned units
    yield from train_dispatch_model()


def train_dispatch_model() -> Iterator[str]:
    """The dispatch model trained on the demo's closed cases (as the worker would), so the
    intake and dispatch pages show its top three beside the catalogue's suggestion."""
    from workflows.insight import dispatch_model

    db.session.rollback()  # a fresh read: the simulator wrote through its own sessions
    try:
        outcome = dispatch_model.train(db.session, now=get_hotline().clock.now(), by="demo")
    except dispatch_model.TrainingRefused as refused:
        db.session.rollback()
        yield f"dispatch model: not trained ({refused})"
        return
    yield (
        f"dispatch model {outcome.model.id}: trained on {outcome.cases} closed cases, "
        f"{outcome.classes} units (hotline dispatch-model show)"
    )


def publish_last_month() -> Iterator[str]:
    """The evaluation's bulletin of the last complete month, published when the simulated
    weeks reach into it (a unit ranked), so the evaluation pages have something to show."""
    from flask import current_app

    from workflows.evaluation.bulletins import publish, published
    from workflows.evaluation.scorecards import add_months, month_board

    db.session.rollback()  # a fresh read: the simulator wrote through its own sessions
    hotline = get_hotline()
    now = hotline.clock.now()
    month = add_months(now.astimezone(hotline.tz).date().replace(day=1), -1)
    label = month.strftime("%Y-%m")
    tz = current_app.config["TIMEZONE"]
    board = month_board(db.session, month=month, as_of=now, tz=tz)
    if not any(c.ranked for cards in board.levels.values() for c in cards):
        yield (
            f"evaluation: no unit is ranked in {label} (the demo's weeks are this month's); "
            "see this month's scores on /evaluation/scorecards?month="
            f"{now.astimezone(hotline.tz).strftime('%Y-%m')}"
        )
        return
    if published(db.session, month=month) is None:
        with unit_of_work(db.session):
            publish(db.session, month=month, at=now, by="lead1", tz=tz)
    yield f"evaluation: the bulletin of {label} is published: /evaluation/bulletins/{label}"


def simulate(
    *,
    cases: int,
    days: float,
    seed: int,
    ending_now: bool,
    progress=None,
    rates: Rates | None = None,
    wave: WaveSpec | None = None,
) -> Iterator[str]:
    """Run the simulator on this app's database with its own moved clock.

    With ``ending_now`` the simulated period ends at the real now, so the pages show a hotline
    that has been running for ``days`` days; the app's scheduler takes the open cases on.
    """
    app_hotline = get_hotline()
    now = app_hotline.clock.now()
    start = now - timedelta(days=days) if ending_now else now
    clock = ManualClock(start)
    engine = db.engine

    def session_factory() -> Session:
        return Session(engine)

    runtime = Runtime(clock=clock, tz=app_hotline.tz)
    sim_hotline = install(
        runtime,
        clock=clock,
        tz=app_hotline.tz,
        forms_dir=app_hotline.forms.forms_dir,
        session_factory=session_factory,
        case_types=app_hotline.case_types,
    )
    report = Simulation(sim_hotline, session_factory, seed=seed, rates=rates, wave=wave).run(
        cases=cases, days=days, progress=progress
    )
    yield from report.lines()
    if wave is not None:
        yield from detect_wave(wave, start=start, end=clock.now())


def detect_wave(wave: WaveSpec, *, start, end) -> Iterator[str]:
    """The worker's wave detection replayed over the simulated period (it was not running
    in the simulated past): the injected wave is opened (supervisors notified), and ended if
    it has faded by ``end``."""
    from flask import current_app

    from workflows.insight.models import Wave
    from workflows.insight.wave_sim import replay
    from workflows.insight.waves import WaveSettings

    hotline = get_hotline()
    session = Session(db.engine)
    try:
        results = replay(
            session,
            spec=wave,
            start=start,
            end=end,
            tz=hotline.tz,
            settings=WaveSettings.from_config(current_app.config),
            publish=hotline.events.publish,
        )
        opened = [i for r in results for i in r.opened]
        for wave_id in opened:
            row = session.get(Wave, wave_id)
            yield (
                f"hot-topic wave {row.label!r} ({row.status}) from "
                f"{row.started_at.astimezone(hotline.tz):%Y-%m-%d %H:%M}: /insight/waves/{row.id}"
            )
        if not opened:
            yield "hot-topic wave: none detected (too few cases for the wave's words?)"
    finally:
        session.close()
