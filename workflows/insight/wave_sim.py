"""A hot-topic wave in the simulator (``hotline simulate --wave "紫菜 塑料" --wave-day 3``):
extra calls on top of the simulator's ordinary ones, whose descriptions all use the wave's
words, in the food-safety category and several areas, many on the wave's first day and fewer
each day after (the "plastic seaweed" story: a video goes round, then the calls fade).

The simulator only asks ``plan`` for its extra arrivals (``workflows/simulation.py``, the
``wave=`` hook); the cases are opened and dispatched here like the simulator's own. ``replay``
then runs the wave detection over the simulated period as the worker would have every few
hours (the worker was not running in the simulated past), so the wave is in ``insight_waves``
and supervisors have heard of it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from engine.db import unit_of_work

from ..errors import FormInvalid

if TYPE_CHECKING:  # pragma: no cover
    from ..simulation import Simulation
    from .waves import DetectResult, WaveSettings

#: the wave's category: a product scare is the market regulator's (12315 / 12331)
CATEGORY = "食品安全"
AREAS = ("D-PJ", "D-JH", "D-XH")
#: where the callers bought it, how they say it (varied sentences, every word in each)
SHOPS = ("超市", "菜市场", "网店", "小卖部", "批发市场", "便利店", "直播间")
TEMPLATES = (
    "在{shop}买的{a}泡水后{b}，嚼不烂，怀疑是假货，要求查处",
    "网上视频说{a}{b}，我家里刚在{shop}买了两包{a}，想问能不能吃",
    "孩子吃了{shop}买的{a}后肚子不舒服，{a}看起来{b}，请市场监管部门检查",
    "{shop}还在卖{a}，烧了以后{b}，希望尽快下架抽检",
    "反映{shop}出售的{a}疑似{b}，商家拒绝退货",
    "老人在{shop}买了{a}，邻居说是{b}，要求相关部门给个说法",
    "咨询{a}{b}的事情是不是真的，{shop}买的还能不能吃",
)
#: how they say it is like the other words ("像塑料一样"), or odd when there is one word
LIKE = ("像{}一样", "是{}做的", "有{}的味道", "跟{}差不多", "掺了{}", "全是{}")
ODD = ("有异物", "味道不对", "颜色发黑", "包装破损")
#: when the callers call (local hours): the daytime, like ordinary calls
HOURS = range(8, 22)


@dataclass(frozen=True)
class WaveSpec:
    """An injected wave: its words, the simulated day it starts on (0 = the first day),
    ``peak`` cases on that day and ``decay`` times the day before on each later day, for at
    most ``days`` days."""

    words: tuple[str, ...]
    day: int
    peak: int = 30
    decay: float = 0.5
    days: int = 5
    category: str = CATEGORY
    areas: tuple[str, ...] = AREAS

    def per_day(self) -> list[int]:
        """How many of the wave's cases each of its days has (none once it rounds to 0)."""
        out = []
        for d in range(self.days):
            n = round(self.peak * self.decay**d)
            if n <= 0:
                break
            out.append(n)
        return out


def parse_words(text: object) -> tuple[str, ...]:
    """The wave's words from "紫菜 塑料" (spaces, commas, 、), or ``FormInvalid`` on "wave"."""
    if not isinstance(text, str) or not text.strip():
        raise FormInvalid({"wave": ['Give the wave\'s words, e.g. "紫菜 塑料".']})
    words = tuple(dict.fromkeys(w for w in re.split(r"[\s,，、;；]+", text.strip()) if w))
    if len(words) > 5 or any(len(w) > 20 for w in words):
        raise FormInvalid({"wave": ["At most 5 words of at most 20 characters each."]})
    return words


def description(spec: WaveSpec, rng: random.Random) -> str:
    """One caller's description: a varied sentence holding every one of the wave's words."""
    a = spec.words[0]
    rest = "、".join(spec.words[1:])
    # no filler word in every sentence: only the wave's own words are in all of them
    b = rng.choice(LIKE).format(rest) if rest else rng.choice(ODD)
    return rng.choice(TEMPLATES).format(a=a, b=b, shop=rng.choice(SHOPS))


def arrivals(spec: WaveSpec, start: datetime, tz, rng: random.Random) -> list[datetime]:
    """The wave's call times: its days' counts, at random daytime minutes of each day."""
    first = start.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    for offset, n in enumerate(spec.per_day()):
        day = first + timedelta(days=spec.day + offset)
        for _ in range(n):
            local = day.replace(hour=rng.choice(HOURS), minute=rng.randrange(60))
            when = local.astimezone(start.tzinfo)
            if when >= start:
                out.append(when)
    return sorted(out)


def plan(sim: Simulation, spec: WaveSpec, start: datetime) -> list[tuple[datetime, Callable]]:
    """The simulator's extra arrivals for ``spec``: (when, action) with the action opening
    one of the wave's cases (counted as an intake by the simulator's progress)."""
    rng = random.Random(f"wave:{sim.seed}")
    out = []
    for when in arrivals(spec, start, sim.hotline.tz, rng):

        def action(rng=rng) -> None:
            intake(sim, spec, rng)

        action.intake = True  # type: ignore[attr-defined]
        out.append((when, action))
    return out


def intake(sim: Simulation, spec: WaveSpec, rng: random.Random) -> None:
    """One of the wave's calls: a case in its category and one of its areas, dispatched a
    little later like the simulator's own."""
    from ..cases import flows as cases
    from ..simulation import OPERATORS

    area = rng.choice(spec.areas)
    data: dict[str, Any] = {
        "case_type": "complaint" if "complaint" in sim.type_mix else next(iter(sim.type_mix)),
        "urgency": "normal",
        "channel": "phone",
        "caller_name": rng.choice("张王李赵陈刘黄周吴郑") + rng.choice(["先生", "女士"]),
        "caller_phone": f"13{rng.randrange(10**9):09d}",
        "address": f"江门市{rng.choice(['蓬江区', '江海区', '新会区'])}{rng.randrange(1, 300)}号",
        "area": area,
        "category": spec.category,
        "description": description(spec, rng),
        "intake_outcome": "dispatch",
    }
    with unit_of_work(sim.session):
        case = cases.open_case(sim.session, sim.hotline, data=data, actor=rng.choice(OPERATORS))
    sim.report.cases += 1
    number = case.number
    sim.open_numbers.append(number)
    sim._later(lambda: sim._dispatch(number, spec.category, area), minutes=rng.uniform(5, 90))


def replay(
    session: Session,
    *,
    spec: WaveSpec,
    start: datetime,
    end: datetime,
    tz,
    settings: WaveSettings,
    publish: Callable[[Session, Any], None] | None = None,
    every: timedelta = timedelta(hours=2),
) -> list[DetectResult]:
    """The worker's detection over the simulated period, every ``every`` from the wave's
    first day to ``end`` (at most until it has had time to end), so that the wave is opened,
    updated and ended at the times the worker would have."""
    from .text import segmenter
    from .waves import detect

    first = start.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    at = max(start, first + timedelta(days=spec.day))
    last = min(
        end,
        first
        + timedelta(days=spec.day + len(spec.per_day()))
        + settings.window
        + timedelta(hours=settings.end_hours)
        + every,
    )
    words = segmenter(session)
    cache: dict[int, frozenset[str]] = {}  # each case cut once, as the worker's job does
    session.rollback()
    results = []
    while at <= last:
        results.append(
            detect(session, now=at, settings=settings, publish=publish, words=words, cache=cache)
        )
        session.commit()
        at += every
    if last < end:  # and once at the end, as the worker would now
        results.append(
            detect(session, now=end, settings=settings, publish=publish, words=words, cache=cache)
        )
        session.commit()
    return results
