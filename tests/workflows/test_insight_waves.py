"""Hot-topic waves: the statistics on synthetic series, and detection on the database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from workflows.insight.models import Wave
from workflows.insight.waves import (
    WaveSettings,
    baseline,
    detect,
    flag,
    scan,
    tail,
    wave_cases,
    window_count,
)
from workflows.notifications.models import Notification
from workflows.users.models import Role, User

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
S = WaveSettings()


@pytest.fixture
def mode() -> str:
    return "straight"  # detection reads cases, not workflows: once is enough


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth: small rates only
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def quiet_series(seed: int, days: int = 21, per_day: float = 30.0) -> list[datetime]:
    """Hourly Poisson arrivals with a daily cycle (busy office hours) and a weekly one
    (Mondays busier, Sundays quieter), ``per_day`` on an average day."""
    rng = random.Random(seed)
    start = NOW - timedelta(days=days)
    out = []
    for hour in range(days * 24):
        at = start + timedelta(hours=hour)
        local = (at + timedelta(hours=8)).hour
        daily = 2.0 if 9 <= local < 18 else 0.4  # 9 h x 2 + 15 h x 0.4 = 24: a mean of 1
        weekly = {0: 1.3, 6: 0.7}.get(at.weekday(), 1.0)
        for _ in range(_poisson(rng, per_day / 24 * daily * weekly)):
            out.append(at + timedelta(minutes=rng.randrange(60)))
    return out


def test_the_window_and_its_baseline():
    times = [NOW - timedelta(hours=h) for h in (1, 2, 30, 50, 24 * 13 + 5, 24 * 16)]
    assert window_count(times, NOW, S.window) == 2
    # 30 h, 50 h and 13 days + 5 h back are in the 14 days before the window: 3 / 14
    assert baseline(times, NOW, S.window, S.baseline_days) == pytest.approx(3 / 14)
    # the same day a week and two weeks before, when busier than the mean, is the usual
    weekly = times + [NOW - timedelta(days=7, hours=h) for h in range(1, 5)]
    assert baseline(weekly, NOW, S.window, S.baseline_days) == pytest.approx(4 / 2)


def test_a_surge_is_flagged():
    usual = [NOW - timedelta(days=d, hours=3) for d in range(2, 15)]  # about one a day
    surge = [NOW - timedelta(minutes=20 * i) for i in range(25)]
    flags = scan({("word", "紫菜"): [(t, i) for i, t in enumerate(usual + surge)]}, NOW, S)
    assert [(f.kind, f.key, f.count) for f in flags] == [("word", "紫菜", 25)]
    assert flags[0].p < 1e-4
    assert flags[0].baseline == pytest.approx(1.0)  # one a day, a week before too


def test_a_quiet_week_of_noise_is_never_flagged():
    # a week of hourly scans over three weeks of noise with daily and weekly cycles
    for seed in (1, 2, 3):
        times = quiet_series(seed)
        points = [(t, i) for i, t in enumerate(times)]
        for hour in range(0, 7 * 24, 6):
            now = NOW - timedelta(hours=hour)
            assert scan({("category", "噪声"): points}, now, S) == [], (seed, hour)
    # and the series is not empty: a day holds well over the minimum count
    assert window_count(quiet_series(1), NOW, S.window) >= 10


def test_the_minimum_count_is_respected():
    # a new word in 9 cases is improbable under the floored rate, but not enough cases
    assert tail(9, 0.0) < 1e-4
    assert not flag(9, 0.0, S)
    assert flag(10, 0.0, S)
    nine = [(NOW - timedelta(hours=i), i) for i in range(9)]
    assert scan({("word", "新词"): nine}, NOW, S) == []


def test_the_usual_count_is_not_a_wave():
    assert not flag(30, 25.0, S)
    assert flag(60, 25.0, S)


def _burst(city, n: int, *, area: str = "D-PJ", word: str = "紫菜"):
    for i in range(n):
        city.intake(
            description=f"在超市买的{word}泡水后发现像塑料一样，第{i}包",
            area=area,
            category="食品安全",
        )
        city.clock.advance(timedelta(minutes=10))


def _history(city):
    """Two weeks of ordinary calls, one a day, whose words the burst's share."""
    for _ in range(14):
        city.intake(description="超市买的东西泡水以后和平时不一样", category="消费维权")
        city.clock.advance(timedelta(days=1))


def test_a_burst_of_cases_is_one_wave_and_supervisors_hear_of_it(city, deliver):
    session = city.session
    _history(city)
    _burst(city, 8, area="D-PJ")
    _burst(city, 6, area="D-JH")
    now = city.clock.now()
    publish = city.hotline.events.publish
    result = detect(session, now=now, publish=publish)
    session.commit()
    waves = session.scalars(select(Wave)).all()
    assert len(waves) == 1, [w.label for w in waves]
    wave = waves[0]
    assert result.opened == [wave.id]
    assert wave.status == "open" and wave.peak_count == 14
    # the other keys of the same cases join its label
    # named by the burst's own words (never seen before), not the everyday ones
    assert wave.kind == "word" and wave.key in ("紫菜", "塑料")
    assert "紫菜" in wave.label and "塑料" in wave.label and "食品安全" in wave.label
    cases = session.scalars(wave_cases(wave, now=now, window=S.window)).all()
    assert len(cases) == 14
    deliver()
    supervisors = set(session.scalars(select(User.id).where(User.role == Role.SUPERVISOR)))
    bells = session.scalars(select(Notification).where(Notification.kind == "wave_detected")).all()
    assert supervisors and {b.user_id for b in bells} == supervisors
    # the notice names the whole wave: its word and the other keys that joined it
    assert all("14" in b.text and "紫菜" in b.text and "食品安全" in b.text for b in bells)

    # a re-run an hour later: the same wave, no second notice
    city.clock.advance(timedelta(hours=1))
    again = detect(session, now=city.clock.now(), publish=publish)
    session.commit()
    assert again.opened == [] and again.updated == [wave.id]
    assert session.scalars(select(Wave)).all() == [wave]
    deliver()
    assert len(
        session.scalars(select(Notification).where(Notification.kind == "wave_detected")).all()
    ) == len(supervisors)


def test_a_wave_ends_when_no_longer_flagged(city):
    session = city.session
    _burst(city, 12)
    detect(session, now=city.clock.now())
    wave = session.scalars(select(Wave)).one()
    # half a day later the burst is still in the window: seen again
    city.clock.advance(timedelta(hours=12))
    assert detect(session, now=city.clock.now()).updated == [wave.id]
    seen = city.clock.now()
    # the day after, the burst has left the window: not flagged, but not yet quiet for 24 h
    city.clock.advance(timedelta(hours=13))
    assert detect(session, now=city.clock.now()).ended == []
    assert wave.status == "open"
    city.clock.advance(timedelta(hours=11))
    assert city.clock.now() - seen == timedelta(hours=24)
    assert detect(session, now=city.clock.now()).ended == [wave.id]
    assert wave.status == "ended" and wave.ended_at == city.clock.now()


def test_the_job_cuts_only_new_descriptions(city):
    from workflows.insight.text import Segmenter

    class Counting(Segmenter):
        cut_texts = 0

        def words(self, text):
            Counting.cut_texts += 1
            return super().words(text)

    session = city.session
    _burst(city, 12)
    cache: dict[int, frozenset[str]] = {}
    first = detect(session, now=city.clock.now(), words=Counting(), cache=cache)
    assert Counting.cut_texts == 12 and len(first.opened) == 1
    _burst(city, 2)
    again = detect(session, now=city.clock.now(), words=Counting(), cache=cache)
    assert Counting.cut_texts == 14 and again.updated == first.opened
    assert session.get(Wave, first.opened[0]).peak_count == 14


def test_the_workers_job_detects_in_a_thread_of_its_own(city):
    """The scheduler's sweep starts a detection and goes back to the timers; one at a time."""
    from sqlalchemy.orm import Session

    from workflows.insight.waves import WaveJob

    _burst(city, 12)
    city.session.commit()
    bind = city.session.get_bind()
    job = WaveJob(lambda: Session(bind), clock=city.clock, settings=S, every=600, background=True)
    assert job.tick() is None  # started, not run in the caller
    first = job.thread
    assert first is not None and first.name == "wave-detect"
    assert job.tick() is None and job.thread is first  # not due again: nothing started
    first.join(timeout=60)
    city.session.expire_all()
    assert city.session.scalars(select(Wave.status)).all() == ["open"]
    city.clock.advance(timedelta(minutes=10))
    job.tick()
    assert job.thread is not first
    job.thread.join(timeout=60)
    assert len(city.session.scalars(select(Wave)).all()) == 1
