"""Department scorecards: a monthly score per lead department from the scheme in force that
month (``settings.scheme_for``), its formula in words, the ranking within each level and the
change from the month before.

Every figure comes from :func:`workflows.kpi.monthly.department_months`. The rules:

- a weighted rate scores ``weight × rate`` (returns and overdue, where lower is better,
  ``weight × (1 − rate)``);
- a rate with nothing to count (denominator 0) gives its weight to the others in proportion:
  the weighted sum is multiplied by ``total weight / weight of the rates that have figures``;
  a unit with no rate to count has no score (listed, not ranked);
- penalties: points off per overdue case, supervision order and reopened case, each capped;
  bonus items the centre enters, their sum capped;
- the score is rounded to one decimal, and units are ranked on it within their level
  (``departments.level``): equal scores share a rank (1, 2, 2, 4); a unit with fewer
  dispatched cases than the scheme's minimum is listed but not ranked.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.calendar.service import DEFAULT_TZ
from workflows.departments.models import Department
from workflows.kpi.monthly import DepartmentMonth, department_months

from .models import ScoreBonus
from .settings import PENALTIES, WEIGHTED, Scheme, scheme_for

#: the levels in the order the pages and bulletins show them: name -> (Chinese, English)
LEVELS: dict[str, tuple[str, str]] = {
    "city": ("市直部门", "City bureaus"),
    "district": ("区", "Districts"),
    "street": ("街道（镇）", "Streets and towns"),
}


def level_label(level: str, lang: str) -> str:
    zh, en = LEVELS.get(level, (level, level))
    return en if lang == "en" else zh


# --- months ------------------------------------------------------------------------------------


def month_start(month: date, tz: str = DEFAULT_TZ) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=ZoneInfo(tz))


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


# --- one unit's score --------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    score: float | None
    formula_zh: str
    formula_en: str

    def formula(self, lang: str) -> str:
        return self.formula_en if lang == "en" else self.formula_zh


def figures_of(row: DepartmentMonth | None) -> dict[str, list[int]]:
    """The scored figures of a unit's month: rates as [numerator, denominator], counts as
    [count, 0]; what the scorecard shows and a bulletin freezes."""
    if row is None:
        return {
            **{k: [0, 0] for k in WEIGHTED},
            "dispatched": [0, 0],
            "reopened": [0, 0],
            "supervision": [0, 0],
        }
    kpis = row.kpis
    out = {
        k: [kpis.value(k).numerator, kpis.value(k).denominator]
        for k in WEIGHTED
        if k != "cohandling_on_time"
    }  # type: ignore[union-attr]
    out["cohandling_on_time"] = [
        row.cohandling_on_time.numerator,
        row.cohandling_on_time.denominator,
    ]
    out["dispatched"] = [kpis.dispatched, 0]
    out["reopened"] = [kpis.reopened.numerator, kpis.reopened.denominator]
    out["supervision"] = [row.supervision_orders, 0]
    return out


def _penalty_counts(figures: dict[str, list[int]]) -> dict[str, int]:
    return {
        "overdue": figures["overdue"][0],
        "supervision": figures["supervision"][0],
        "reopen": figures["reopened"][0],
    }


def _num(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0")


def score_figures(figures: dict[str, list[int]], scheme: Scheme, bonus: float = 0.0) -> Score:
    """The score of a unit's month and its formula in Chinese and English (module rules)."""
    terms_zh, terms_en = [], []
    total_weight = sum(w for w in scheme.weights.values() if w > 0)
    weighted = available = 0.0
    for key, (zh, en, higher_is_better) in WEIGHTED.items():
        weight = scheme.weights.get(key, 0.0)
        numerator, denominator = figures[key]
        if weight <= 0 or denominator == 0:
            continue
        rate = numerator / denominator
        if not higher_is_better:
            rate = 1 - rate
        weighted += weight * rate
        available += weight
        terms_zh.append(f"{zh} {rate * 100:.1f}% × {_num(weight)}")
        terms_en.append(f"{en} {rate * 100:.1f}% × {_num(weight)}")
    if available == 0:
        return Score(
            None, "无可计分的数据（各项比率分母均为 0）", "nothing to score (every rate is 0/0)"
        )
    base = weighted * total_weight / available
    zh = " + ".join(terms_zh)
    en = " + ".join(terms_en)
    if available < total_weight:  # rates with nothing to count gave their weight away
        zh = f"({zh}) × {_num(total_weight)}/{_num(available)}"
        en = f"({en}) × {_num(total_weight)}/{_num(available)}"
    off = 0.0
    for key, count in _penalty_counts(figures).items():
        rule = scheme.penalties.get(key, {})
        points, cap = rule.get("points", 0.0), rule.get("cap", 0.0)
        if count == 0 or points <= 0:
            continue
        raw = count * points
        taken = min(raw, cap)
        off += taken
        name_zh, name_en, unit_zh, unit_en = PENALTIES[key]
        term_zh = f"{name_zh} {count} {unit_zh} × {_num(points)}"
        term_en = f"{name_en} {count} {unit_en} × {_num(points)}"
        if raw > cap:
            term_zh = f"{term_zh}（封顶 {_num(cap)}）"
            term_en = f"{term_en} (capped at {_num(cap)})"
        zh += f" − {term_zh}"
        en += f" − {term_en}"
    added = min(bonus, scheme.bonus_cap) if bonus > 0 else 0.0
    if added:
        capped_zh = f"（封顶 {_num(scheme.bonus_cap)}）" if bonus > scheme.bonus_cap else ""
        capped_en = f" (capped at {_num(scheme.bonus_cap)})" if bonus > scheme.bonus_cap else ""
        zh += f" + 加分 {_num(bonus)}{capped_zh}"
        en += f" + bonus {_num(bonus)}{capped_en}"
    score = round(base - off + added, 1)
    return Score(score, f"{zh} = {score:.1f}", f"{en} = {score:.1f}")


# --- a month's scorecards and ranking ----------------------------------------------------------


@dataclass
class Scorecard:
    """One unit's month: what the pages show and a bulletin freezes (JSON-ready)."""

    month: str  # YYYY-MM
    department_id: int
    code: str
    name: str
    name_en: str
    level: str
    figures: dict[str, list[int]]
    bonus: float
    score: float | None
    formula_zh: str
    formula_en: str
    #: dispatched cases: below the scheme's minimum the unit is not ranked
    cases: int = 0
    ranked: bool = False
    rank: int | None = None
    prev_score: float | None = None
    prev_rank: int | None = None
    revised: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def score_change(self) -> float | None:
        if self.score is None or self.prev_score is None:
            return None
        return round(self.score - self.prev_score, 1)

    @property
    def rank_change(self) -> int | None:
        """Places gained since the month before (negative: lost)."""
        if self.rank is None or self.prev_rank is None:
            return None
        return self.prev_rank - self.rank

    def formula(self, lang: str) -> str:
        return self.formula_en if lang == "en" else self.formula_zh

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scorecard:
        return cls(**data)


def rank_level(cards: list[Scorecard], min_cases: int) -> None:
    """Ranks within one level, in place: by score, equal scores sharing a rank (1, 2, 2, 4);
    a unit without a score or below ``min_cases`` dispatched cases is not ranked."""
    for card in cards:
        card.ranked = card.score is not None and card.cases >= min_cases
        card.rank = None
    eligible = sorted((c for c in cards if c.ranked), key=lambda c: -(c.score or 0.0))
    for position, card in enumerate(eligible, start=1):
        previous = eligible[position - 2] if position > 1 else None
        card.rank = previous.rank if previous and previous.score == card.score else position


def sort_level(cards: list[Scorecard]) -> list[Scorecard]:
    """Ranked units by rank, then the others by score (none last), then by code."""
    return sorted(
        cards,
        key=lambda c: (
            not c.ranked,
            c.rank or 0,
            c.score is None,
            -(c.score or 0.0),
            c.code,
        ),
    )


def _units(session: Session, seen: Collection[int]) -> list[Department]:
    """The units scored: every active unit below the centre's root, and any other unit that
    led cases in the months read."""
    stmt = select(Department).where(
        (Department.active.is_(True) & Department.parent_id.is_not(None))
        | Department.id.in_(list(seen))
    )
    return list(session.scalars(stmt.order_by(Department.code)))


def bonuses(session: Session, *, months: Collection[date]) -> dict[tuple[date, int], float]:
    """(month, department id) -> the sum of its bonus items (before the cap)."""
    rows = session.execute(
        select(ScoreBonus.month, ScoreBonus.department_id, func.sum(ScoreBonus.points))
        .where(ScoreBonus.month.in_(list(months)))
        .group_by(ScoreBonus.month, ScoreBonus.department_id)
    )
    return {(m, d): float(p or 0.0) for m, d, p in rows}


def score_months(
    session: Session, *, first: date, last: date, as_of: datetime, tz: str = DEFAULT_TZ
) -> dict[date, list[Scorecard]]:
    """Every unit's scorecard, ranked within its level, for each month from ``first`` to
    ``last`` (both included); one read of the figures."""
    months = [first]
    while months[-1] < last:
        months.append(add_months(months[-1], 1))
    rows = department_months(
        session,
        start=month_start(first, tz),
        end=month_start(add_months(last, 1), tz),
        as_of=as_of,
        tz=tz,
    )
    by_key = {(r.month, r.department_id): r for r in rows}
    units = _units(session, {r.department_id for r in rows})
    extra = bonuses(session, months=months)
    out: dict[date, list[Scorecard]] = {}
    for month in months:
        scheme = scheme_for(session, month=month)
        cards = []
        for unit in units:
            figures = figures_of(by_key.get((month, unit.id)))
            bonus = extra.get((month, unit.id), 0.0)
            score = score_figures(figures, scheme, bonus)
            cards.append(
                Scorecard(
                    month=month.strftime("%Y-%m"),
                    department_id=unit.id,
                    code=unit.code,
                    name=unit.name,
                    name_en=unit.name_en,
                    level=unit.level,
                    figures=figures,
                    bonus=bonus,
                    score=score.score,
                    formula_zh=score.formula_zh,
                    formula_en=score.formula_en,
                    cases=figures["dispatched"][0],
                )
            )
        for level in {c.level for c in cards}:
            rank_level([c for c in cards if c.level == level], scheme.min_cases)
        out[month] = cards
    return out


@dataclass
class MonthBoard:
    month: date
    scheme: Scheme
    #: level -> its units, ranked ones first (see :func:`sort_level`)
    levels: dict[str, list[Scorecard]]

    def card(self, department_id: int) -> Scorecard | None:
        for cards in self.levels.values():
            for card in cards:
                if card.department_id == department_id:
                    return card
        return None


def group_levels(cards: list[Scorecard]) -> dict[str, list[Scorecard]]:
    order = list(LEVELS) + sorted({c.level for c in cards} - set(LEVELS))
    return {
        level: sort_level([c for c in cards if c.level == level])
        for level in order
        if any(c.level == level for c in cards)
    }


def month_board(
    session: Session, *, month: date, as_of: datetime, tz: str = DEFAULT_TZ
) -> MonthBoard:
    """A month's scorecards per level, with the month before's score and rank beside each."""
    month = month.replace(day=1)
    before = add_months(month, -1)
    scored = score_months(session, first=before, last=month, as_of=as_of, tz=tz)
    previous = {c.department_id: c for c in scored[before]}
    cards = scored[month]
    for card in cards:
        old = previous.get(card.department_id)
        if old is not None:
            card.prev_score, card.prev_rank = old.score, old.rank
    return MonthBoard(month, scheme_for(session, month=month), group_levels(cards))
