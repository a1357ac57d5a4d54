"""Hot-topic waves (热点): a word of the descriptions, a category, or a category in one area,
suddenly called about far more than usual (the "plastic seaweed" story: dozens of calls on
紫菜 in a day where there are none in a fortnight).

The statistics are pure functions (``baseline``, ``tail``, ``flag``, ``scan``) on lists of
times. For each key, the count of cases in the last window (``window``, 24 hours) is compared
with the baseline: the mean count of the same-length windows over the ``baseline_days`` before
that window (or the same windows of the weeks before, when higher: a weekly cycle is not a
wave). The key is flagged when the Poisson upper tail P(X >= count | baseline), the
baseline floored at ``min_rate``, is below ``p`` and the count is at least ``min_count``.

``detect`` runs the scan on the database and keeps ``insight_waves`` up to date: the flags of
one run that share most of their cases are one wave (the most significant names it, the others
join its label); a flag on an open wave's key, or on mostly its cases, updates it; a wave not
flagged for ``end_hours`` ends. Opening a wave publishes ``WaveDetected``: supervisors hear
of it through the notifications' outbox.

A wave's cases (``wave_cases``): the cases matching its key (word: in the description;
category; category and area) created from ``started_at - window`` to its end (or now).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scipy.stats import poisson
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engine.db import unit_of_work

from ..cases.models import Case
from ..events import WaveDetected
from .models import Wave
from .text import Segmenter, segmenter

log = logging.getLogger(__name__)

#: a key's usual rate per window is never taken as lower than this: a word never seen before
#: is not "infinitely" surprising at its second case
MIN_RATE = 0.5
#: the share of a flag's cases an open wave must hold for the flag to join it
JOIN_SHARE = 0.5
#: at most this many words in a wave's label (its categories and areas are all there)
LABEL_WORDS = 4
#: of flags equally significant, the more specific names the wave
KIND_RANK = {"word": 0, "category_area": 1, "category": 2}


@dataclass(frozen=True)
class WaveSettings:
    window_hours: float = 24.0
    baseline_days: float = 14.0
    p: float = 1e-4
    min_count: int = 10
    end_hours: float = 24.0
    min_rate: float = MIN_RATE

    @property
    def window(self) -> timedelta:
        return timedelta(hours=self.window_hours)

    @property
    def span(self) -> timedelta:
        """How far back a scan reads: the window and the baseline before it."""
        return self.window + timedelta(days=self.baseline_days)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WaveSettings:
        return cls(
            window_hours=float(config.get("WAVE_WINDOW_HOURS", 24.0)),
            baseline_days=float(config.get("WAVE_BASELINE_DAYS", 14.0)),
            p=float(config.get("WAVE_P", 1e-4)),
            min_count=int(config.get("WAVE_MIN_COUNT", 10)),
            end_hours=float(config.get("WAVE_END_HOURS", 24.0)),
        )


# --- the statistics -------------------------------------------------------------------------


def window_count(times: Iterable[datetime], now: datetime, window: timedelta) -> int:
    """How many of ``times`` fall in the window ``(now - window, now]``."""
    start = now - window
    return sum(1 for t in times if start < t <= now)


def baseline(
    times: Iterable[datetime], now: datetime, window: timedelta, baseline_days: float
) -> float:
    """The usual count of a window: the mean count of the windows of ``window``'s length over
    the ``baseline_days`` before the current window (their total divided by their number), or
    the mean of the same windows of the week before (7, 14... days earlier, within the
    baseline) when that is higher: a Monday is compared with Mondays too, so that a weekly
    cycle is not a wave."""
    times = list(times)
    end = now - window
    start = end - timedelta(days=baseline_days)
    windows = timedelta(days=baseline_days) / window
    if windows <= 0:
        return 0.0
    mean = sum(1 for t in times if start < t <= end) / windows
    weeks = int(baseline_days // 7)
    if weeks < 1:
        return mean
    same = [window_count(times, now - timedelta(days=7 * k), window) for k in range(1, weeks + 1)]
    return max(mean, sum(same) / len(same))


def tail(count: int, rate: float, *, min_rate: float = MIN_RATE) -> float:
    """P(X >= count) for X Poisson with mean ``rate`` floored at ``min_rate``."""
    if count <= 0:
        return 1.0
    return float(poisson.sf(count - 1, max(rate, min_rate)))


def flag(count: int, rate: float, settings: WaveSettings) -> bool:
    """Whether ``count`` in a window is a wave against a usual ``rate``."""
    return (
        count >= settings.min_count and tail(count, rate, min_rate=settings.min_rate) < settings.p
    )


@dataclass(frozen=True)
class Flag:
    kind: str
    key: str
    count: int
    baseline: float
    p: float
    #: ids (whatever the caller gave) of the window's items
    items: frozenset = field(default_factory=frozenset)


def scan(
    series: Mapping[tuple[str, str], Iterable[tuple[datetime, Any]]],
    now: datetime,
    settings: WaveSettings,
) -> list[Flag]:
    """The flagged keys of ``series`` ((kind, key) -> [(time, item id)]), most significant
    first (lowest p; then words before a category in an area before a category; then the
    highest count, then the key)."""
    out: list[Flag] = []
    for (kind, key), points in series.items():
        points = list(points)
        times = [t for t, _ in points]
        count = window_count(times, now, settings.window)
        if count < settings.min_count:
            continue
        rate = baseline(times, now, settings.window, settings.baseline_days)
        p = tail(count, rate, min_rate=settings.min_rate)
        if p < settings.p:
            start = now - settings.window
            items = frozenset(i for t, i in points if start < t <= now)
            out.append(Flag(kind, key, count, rate, p, items))
    out.sort(key=lambda f: (f.p, KIND_RANK.get(f.kind, 9), -f.count, f.key))
    return out


# --- the database ---------------------------------------------------------------------------


def area_key(category: str, area: str) -> str:
    return f"{category}|{area}"


def load_series(
    session: Session,
    now: datetime,
    settings: WaveSettings,
    words: Segmenter | None = None,
    cache: dict[int, frozenset[str]] | None = None,
) -> dict[tuple[str, str], list[tuple[datetime, int]]]:
    """Every key's cases over the scan's span: (kind, key) -> [(created_at, case id)]; a word
    counts once per case. Merged duplicates count: each is a call. ``cache`` (case id -> its
    words) spares cutting again the descriptions of the previous run (``WaveJob`` keeps one;
    it is left holding the span's cases only)."""
    words = words or segmenter(session)
    rows = session.execute(
        select(Case.id, Case.created_at, Case.category, Case.area, Case.description).where(
            Case.created_at > now - settings.span, Case.created_at <= now
        )
    ).all()
    series: dict[tuple[str, str], list[tuple[datetime, int]]] = defaultdict(list)
    kept: dict[int, frozenset[str]] = {}
    for case_id, created_at, category, area, description in rows:
        if category:
            series[("category", category)].append((created_at, case_id))
            if area:
                series[("category_area", area_key(category, area))].append((created_at, case_id))
        found = cache.get(case_id) if cache is not None else None
        if found is None:
            found = frozenset(words.words(description or ""))
        if cache is not None:
            kept[case_id] = found
        for word in found:
            series[("word", word)].append((created_at, case_id))
    if cache is not None:
        cache.clear()
        cache.update(kept)
    return series


@dataclass
class DetectResult:
    opened: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    flags: int = 0


def detect(
    session: Session,
    *,
    now: datetime,
    settings: WaveSettings | None = None,
    publish: Callable[[Session, WaveDetected], None] | None = None,
    words: Segmenter | None = None,
    cache: dict[int, frozenset[str]] | None = None,
) -> DetectResult:
    """One run: flag (reading, outside any write transaction: segmenting is the slow part),
    then open or update waves and end the quiet ones in one unit of work (committed)."""
    settings = settings or WaveSettings()
    result = DetectResult()
    flags = scan(load_series(session, now, settings, words, cache), now, settings)
    result.flags = len(flags)
    with unit_of_work(session):
        _apply_flags(session, flags, now=now, settings=settings, publish=publish, result=result)
    return result


def _apply_flags(
    session: Session,
    flags: list[Flag],
    *,
    now: datetime,
    settings: WaveSettings,
    publish: Callable[[Session, WaveDetected], None] | None,
    result: DetectResult,
) -> None:
    open_waves = list(session.scalars(select(Wave).where(Wave.status == "open").order_by(Wave.id)))
    # each open wave's cases in the current window, to join flags on mostly the same cases
    current: dict[int, set[int]] = {
        w.id: set(session.scalars(_cases_query(w, since=now - settings.window, until=now)))
        for w in open_waves
    }
    seen: set[int] = set()
    opened: dict[int, Flag] = {}  # told once every flag has joined: with the whole label
    for f in flags:
        wave = next((w for w in open_waves if (w.kind, w.key) == (f.kind, f.key)), None)
        if wave is None:
            wave = next(
                (
                    w
                    for w in open_waves
                    if f.items and len(current[w.id] & f.items) >= JOIN_SHARE * len(f.items)
                ),
                None,
            )
            parts = wave.label.split(" · ") if wave is not None else []
            room = f.kind != "word" or len(parts) < LABEL_WORDS
            if wave is not None and _label(f.kind, f.key) not in parts and room:
                label = f"{wave.label} · {_label(f.kind, f.key)}"
                if len(label) <= 300:
                    wave.label = label
        if wave is None:
            wave = Wave(
                kind=f.kind,
                key=f.key,
                label=_label(f.kind, f.key),
                started_at=now,
                last_seen_at=now,
                status="open",
                peak_count=f.count,
                baseline=round(f.baseline, 3),
                tag="",
            )
            session.add(wave)
            session.flush()
            open_waves.append(wave)
            current[wave.id] = set(f.items)
            result.opened.append(wave.id)
            opened[wave.id] = f
        else:
            if (wave.kind, wave.key) == (f.kind, f.key):
                wave.peak_count = max(wave.peak_count, f.count)
            wave.last_seen_at = now
            current[wave.id] |= f.items
            if wave.id not in result.opened and wave.id not in result.updated:
                result.updated.append(wave.id)
        seen.add(wave.id)
    for wave in open_waves:
        if wave.id not in seen and now - wave.last_seen_at >= timedelta(hours=settings.end_hours):
            wave.status = "ended"
            wave.ended_at = now
            result.ended.append(wave.id)
    session.flush()
    for wave in open_waves:
        f = opened.get(wave.id)
        if f is not None and publish is not None:
            publish(
                session,
                WaveDetected(
                    wave_id=wave.id,
                    kind=wave.kind,
                    key=wave.key,
                    label=wave.label,
                    count=f.count,
                    baseline=round(f.baseline, 1),
                    at=now,
                ),
            )


def _label(kind: str, key: str) -> str:
    return key.replace("|", " / ") if kind == "category_area" else key


def _cases_query(
    wave: Wave, *, since: datetime, until: datetime | None, columns: Any = None
) -> Select:
    stmt = select(columns if columns is not None else Case.id).where(Case.created_at > since)
    if until is not None:
        stmt = stmt.where(Case.created_at <= until)
    if wave.kind == "word":
        return stmt.where(Case.description.contains(wave.key, autoescape=True))
    if wave.kind == "category":
        return stmt.where(Case.category == wave.key)
    category, _, area = wave.key.partition("|")
    return stmt.where(Case.category == category, Case.area == area)


def wave_cases(wave: Wave, *, now: datetime, window: timedelta) -> Select:
    """The query of a wave's cases (``select(Case)``), newest first: the cases matching its key
    (a word in the description, the category, or the category in the area) created from
    ``started_at - window`` to ``ended_at``, or ``now`` while it is open."""
    return _cases_query(
        wave, since=wave.started_at - window, until=wave.ended_at or now, columns=Case
    ).order_by(Case.created_at.desc(), Case.id.desc())


def pinned_for_intake(session: Session):
    """The articles pinned to open waves, with their waves: what every intake page shows."""
    from ..knowledge.models import Article

    return session.execute(
        select(Wave, Article)
        .join(Article, Article.id == Wave.pinned_article_id)
        .where(Wave.status == "open")
        .order_by(Wave.started_at.desc(), Wave.id.desc())
    ).all()


class WaveJob:
    """The worker's periodic detection: ``tick()`` after every sweep works at most every
    ``every`` seconds (``run()`` at once: ``hotline insight detect``)."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        clock,
        settings: WaveSettings,
        publish: Callable[[Session, WaveDetected], None] | None = None,
        every: float = 600.0,
        background: bool = False,
    ) -> None:
        self.session_factory = session_factory
        #: run detections in a daemon thread of their own (the worker's sweep: the first one
        #: after a start cuts two weeks of descriptions, seconds the timers must not wait)
        self.background = background
        self.thread: threading.Thread | None = None
        self.clock = clock
        self.settings = settings
        self.publish = publish
        self.every = timedelta(seconds=every)
        self._last: datetime | None = None
        #: case id -> its words, from the previous run (only new cases are cut)
        self.words: dict[int, frozenset[str]] = {}
        self._terms: dict[str, str] | None = None

    def run(self) -> DetectResult:
        self._last = now = self.clock.now()
        session = self.session_factory()
        try:
            words = segmenter(session)
            if words.terms != self._terms:  # the centre's dictionary changed: cut all again
                self.words.clear()
                self._terms = words.terms
            result = detect(
                session,
                now=now,
                settings=self.settings,
                publish=self.publish,
                words=words,
                cache=self.words,
            )
            return result
        finally:
            session.close()

    def tick(self) -> DetectResult | None:
        """The detection's result when due and run here; None when not due, or started in the
        background (one at a time: a tick while one runs does nothing)."""
        now = self.clock.now()
        if self._last is not None and now - self._last < self.every:
            return None
        if not self.background:
            return self.run()
        if self.thread is not None and self.thread.is_alive():
            return None
        self._last = now  # not due again until ``every`` after this start
        self.thread = threading.Thread(target=self._run_logged, name="wave-detect", daemon=True)
        self.thread.start()
        return None

    def _run_logged(self) -> None:
        try:
            result = self.run()
        except Exception:  # a worker thread must not die silently
            log.exception("hot-topic wave detection failed")
            return
        if result.opened or result.ended:
            log.info("hot-topic waves: %s opened, %s ended", len(result.opened), len(result.ended))


def daily_counts(times: Iterable[datetime], tz) -> list[tuple[str, int]]:
    """Per local day (ISO date), every day from the first to the last, zeros included."""
    days: dict[str, int] = defaultdict(int)
    for t in times:
        days[t.astimezone(tz).date().isoformat()] += 1
    if not days:
        return []
    from datetime import date

    first, last = date.fromisoformat(min(days)), date.fromisoformat(max(days))
    out = []
    for i in range((last - first).days + 1):
        d = (first + timedelta(days=i)).isoformat()
        out.append((d, days.get(d, 0)))
    return out


def ratio_text(count: int, rate: float) -> str:
    """How many times the usual count (for pages)."""
    if rate <= 0:
        return "∞" if count else "0"
    return f"{count / rate:.1f}" if math.isfinite(count / rate) else "∞"
