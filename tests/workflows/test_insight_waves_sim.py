"""The simulator's injected hot-topic wave (``hotline simulate --wave``): its calls, and the
wave detection finding it when replayed over the simulated period."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from workflows.cases.models import Case
from workflows.errors import FormInvalid
from workflows.insight.models import Wave
from workflows.insight.wave_sim import WaveSpec, arrivals, description, parse_words, replay
from workflows.insight.waves import WaveSettings, wave_cases
from workflows.notifications.models import Notification
from workflows.simulation import Rates, Simulation
from workflows.users.models import Role, User

from .conftest import TZ

SPEC = WaveSpec(words=("紫菜", "塑料"), day=3)
#: nothing but intake and dispatch: the wave is about arrivals
CALM = Rates(
    sign_late=0,
    return_=0,
    extension=0,
    suspension=0,
    late_reply=0,
    redo=0,
    unsatisfied=0,
    duplicate=0,
    answered=0,
    not_accepted=0,
)


def test_the_wave_peaks_on_its_day_and_fades():
    assert SPEC.per_day() == [30, 15, 8, 4, 2]
    assert WaveSpec(words=("紫菜",), day=0, peak=3, decay=0.1).per_day() == [3]
    start = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # 00:00 on 2 March in the hotline's zone
    times = arrivals(SPEC, start, TZ, random.Random(1))
    days = Counter(t.astimezone(TZ).date().isoformat() for t in times)
    assert days == {
        "2026-03-05": 30,
        "2026-03-06": 15,
        "2026-03-07": 8,
        "2026-03-08": 4,
        "2026-03-09": 2,
    }
    assert all(8 <= t.astimezone(TZ).hour < 22 for t in times)


def test_every_description_uses_the_words_in_varied_sentences():
    rng = random.Random(2)
    texts = [description(SPEC, rng) for _ in range(40)]
    assert all("紫菜" in t and "塑料" in t for t in texts)
    assert len(set(texts)) > 10
    one = description(WaveSpec(words=("螺蛳粉",), day=0), rng)
    assert "螺蛳粉" in one


@pytest.mark.parametrize("text", ["", "   ", None, "a b c d e f", "字" * 21])
def test_bad_wave_words_name_the_field(text):
    with pytest.raises(FormInvalid) as caught:
        parse_words(text)
    assert "wave" in caught.value.errors


def test_words_are_split_on_spaces_and_commas():
    assert parse_words(" 紫菜  塑料，假货、紫菜 ") == ("紫菜", "塑料", "假货")


@pytest.fixture
def mode() -> str:
    return "straight"


def test_the_simulated_wave_is_detected_and_ends(city, database, deliver):
    hotline, clock = city.hotline, city.clock
    start = clock.now()
    spec = WaveSpec(words=("紫菜", "塑料"), day=4, peak=16)
    report = Simulation(hotline, database.session, seed=3, rates=CALM, wave=spec).run(
        cases=30, days=9
    )
    end = clock.now()
    settings = WaveSettings(baseline_days=4)
    with database.session() as session:
        found = list(session.scalars(select(Case)))
        wave_calls = [c for c in found if "紫菜" in c.description]
        assert len(wave_calls) == sum(spec.per_day()) == 16 + 8 + 4 + 2 + 1
        assert report.cases == len(found) == 30 + len(wave_calls)
        assert {c.category for c in wave_calls} == {"食品安全"}
        assert len({c.area for c in wave_calls}) >= 2
        assert all(c.instance_id is not None for c in wave_calls)  # real engine cases

        replay(
            session,
            spec=spec,
            start=start,
            end=end,
            tz=TZ,
            settings=settings,
            publish=hotline.events.publish,
        )
        waves = list(session.scalars(select(Wave)))
        assert len(waves) == 1, [w.label for w in waves]
        wave = waves[0]
        assert wave.key in ("紫菜", "塑料") and "食品安全" in wave.label
        first_call = min(c.created_at for c in wave_calls)
        # flagged within the window: at the latest a day after the wave's first call
        assert first_call <= wave.started_at <= first_call + timedelta(hours=24)
        # faded by the end of the period: ended, its cases the wave's calls
        assert wave.status == "ended" and wave.ended_at <= end
        cases = set(session.scalars(wave_cases(wave, now=end, window=settings.window)))
        assert {c.id for c in cases} >= {c.id for c in wave_calls if c.created_at < wave.ended_at}
        session.commit()
    deliver()
    with database.session() as session:
        bells = session.scalars(select(Notification).where(Notification.kind == "wave_detected"))
        supervisors = session.scalars(select(User.id).where(User.role == Role.SUPERVISOR)).all()
        assert supervisors and sorted(b.user_id for b in bells) == sorted(supervisors)
