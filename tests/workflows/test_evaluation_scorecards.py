"""Department scorecards and rankings (``workflows/evaluation``): hand-built figures and cases,
every score and rank worked out by hand in the comments."""

from __future__ import annotations

from datetime import date

import pytest

from workflows.errors import FormInvalid
from workflows.evaluation.cases import figure_cases
from workflows.evaluation.models import ScoreBonus
from workflows.evaluation.scorecards import Scorecard, month_board, rank_level, score_figures
from workflows.evaluation.settings import (
    DEFAULT_SCHEME,
    Scheme,
    read_scheme,
    save_scheme,
    scheme_for,
)

from .test_kpi import AS_OF, D, H, T, add_department, add_dispatched

MARCH = date(2026, 3, 1)
FEB = date(2026, 2, 1)


def figures(**rates) -> dict[str, list[int]]:
    out = {k: [0, 0] for k in ("on_time_sign_for", "on_time_closure", "satisfaction",
                                "resolution", "returned", "overdue", "cohandling_on_time",
                                "dispatched", "reopened", "supervision")}  # fmt: skip
    out.update({k: list(v) for k, v in rates.items()})
    return out


def test_a_score_with_a_rate_to_redistribute_penalties_and_a_bonus():
    # 20×95% + 20×90% + 20×80% + 15×90% + 10×(1−10%) + 10×(1−15%) = 84 over weights 95 (no
    # co-handling: its 5 go to the others) → 84 × 100/95 = 88.42; − 3×0.5 − 1×1 − 1×0.5 + 2
    fig = figures(
        on_time_sign_for=(19, 20), on_time_closure=(18, 20), satisfaction=(8, 10),
        resolution=(9, 10), returned=(2, 20), overdue=(3, 20), dispatched=(20, 0),
        reopened=(1, 18), supervision=(1, 0),
    )  # fmt: skip
    score = score_figures(fig, DEFAULT_SCHEME, bonus=2.0)
    assert score.score == 87.4
    assert score.formula_zh == (
        "(按时签收率 95.0% × 20 + 按时办结率 90.0% × 20 + 满意率 80.0% × 20 + 解决率 90.0% × 15"
        " + 未退单率 90.0% × 10 + 未超期率 85.0% × 10) × 100/95 − 超期 3 件 × 0.5"
        " − 督办单 1 份 × 1 − 重办 1 件 × 0.5 + 加分 2 = 87.4"
    )
    assert score.formula_en.endswith("+ bonus 2 = 87.4")


def test_penalties_and_bonuses_stop_at_their_caps():
    # every rate 100% but none on time of 30: 90 points; 30 overdue × 0.5 = 15, capped at 10;
    # 4 supervision orders × 1 = 4 (cap 10); bonus 8 capped at 5 → 90 − 10 − 4 + 5 = 81
    full = (30, 30)
    fig = figures(
        on_time_sign_for=full, on_time_closure=full, satisfaction=full, resolution=full,
        returned=(0, 30), overdue=full, cohandling_on_time=(2, 2), dispatched=(30, 0),
        supervision=(4, 0),
    )  # fmt: skip
    score = score_figures(fig, DEFAULT_SCHEME, bonus=8.0)
    assert score.score == 81.0
    assert "超期 30 件 × 0.5（封顶 10）" in score.formula_zh
    assert "加分 8（封顶 5）" in score.formula_zh
    assert "× 100/" not in score.formula_zh  # every weight has figures: nothing redistributed


def test_a_unit_with_no_rate_to_count_has_no_score():
    score = score_figures(figures(dispatched=(3, 0), supervision=(2, 0)), DEFAULT_SCHEME)
    assert score.score is None
    assert "分母均为 0" in score.formula_zh


def card(code: str, score: float | None, cases: int) -> Scorecard:
    return Scorecard("2026-03", hash(code) % 1000, code, code, code, "city", figures(), 0.0,
                     score, "", "", cases=cases)  # fmt: skip


def test_ties_share_a_rank_and_small_units_are_listed_but_not_ranked():
    cards = [card("a", 85.0, 9), card("b", 90.0, 5), card("c", 85.0, 20), card("d", 80.0, 6),
             card("e", 99.0, 4), card("f", None, 0)]  # fmt: skip
    rank_level(cards, min_cases=5)
    got = {c.code: (c.ranked, c.rank) for c in cards}
    assert got == {"b": (True, 1), "a": (True, 2), "c": (True, 2), "d": (True, 4),
                   "e": (False, None), "f": (False, None)}  # fmt: skip


def test_the_scheme_is_validated_naming_the_fields():
    values = {"weight_on_time_sign_for": "-1", "weight_satisfaction": "abc", "penalty_overdue":
              "0.5", "cap_overdue": "1e9", "bonus_cap": "", "min_cases": "2.5",
              "effective_from": "2026-13"}  # fmt: skip
    _, errors = read_scheme(values, "en")
    assert errors["weight_on_time_sign_for"] == ["Must not be negative."]
    assert errors["weight_satisfaction"] == ["Not a number."]
    assert errors["cap_overdue"] == ["Must not exceed 1000."]
    assert errors["min_cases"] == ["Must be a whole number."]
    assert errors["effective_from"] == ["A month as YYYY-MM."]
    assert "penalty_overdue" not in errors


def scheme_values(month: str, **overrides) -> dict[str, str]:
    values = {f"weight_{k}": str(v) for k, v in DEFAULT_SCHEME.weights.items()}
    for k, rule in DEFAULT_SCHEME.penalties.items():
        values[f"penalty_{k}"], values[f"cap_{k}"] = str(rule["points"]), str(rule["cap"])
    values.update({"bonus_cap": "5", "min_cases": "5", "effective_from": month, **overrides})
    return values


@pytest.fixture
def session(database):
    with database.session() as session:
        yield session


def test_a_past_month_is_scored_by_the_scheme_in_force_then(session):
    save_scheme(session, values=scheme_values("2026-02", min_cases="3"), at=AS_OF, by="admin")
    save_scheme(session, values=scheme_values("2026-04", min_cases="9"), at=AS_OF, by="admin")
    assert scheme_for(session, month=date(2026, 1, 1)) == DEFAULT_SCHEME
    assert scheme_for(session, month=MARCH).min_cases == 3
    assert scheme_for(session, month=date(2026, 5, 1)).min_cases == 9
    with pytest.raises(FormInvalid) as error:
        save_scheme(session, values=scheme_values("2026-05", weight_resolution="-2"), at=AS_OF,
                    by="admin")  # fmt: skip
    assert list(error.value.errors) == ["weight_resolution"]
    assert isinstance(scheme_for(session, month=date(2026, 6, 1)), Scheme)
    assert scheme_for(session, month=date(2026, 6, 1)).min_cases == 9


def perfect(session, unit, **columns):
    """Signed, replied and closed on time, satisfied, resolved: 100% in every rate."""
    values = dict(status="closed", replied_at=T + 3 * D, closed_at=T + 4 * D,
                  satisfaction="satisfied", resolved=True)  # fmt: skip
    values.update(columns)
    return add_dispatched(session, unit, **values)


def unit(session, code: str, name: str, level: str = "city"):
    department = add_department(session, code, name)
    department.level = level
    return department


@pytest.fixture
def city(session):
    """March: A 5 perfect cases (100.0); F 5 perfect, one with a supervision order (99.0);
    B and C 4 perfect and 1 unsatisfied (20×4/5 = 16 of 20: 91 of 95 → 95.8); G 2 unsatisfied
    (87 of 95 → 91.6); D 2 perfect cases (100.0, below the minimum of 5); street S 5 cases,
    one signed for late (95.8). February: A 5 cases, one unsatisfied (95.8)."""
    units = {
        "A": unit(session, "ua", "一局"), "B": unit(session, "ub", "二局"),
        "C": unit(session, "uc", "三局"), "D": unit(session, "ud", "四局"),
        "F": unit(session, "uf", "六局"), "G": unit(session, "ug", "七局"),
        "S": unit(session, "us", "白沙街道", "street"),
    }  # fmt: skip
    cases = {}
    for _ in range(5):
        perfect(session, units["A"])
    for i in range(5):
        perfect(session, units["F"], supervision_order_count=1 if i == 0 else 0)
    for code in "BC":
        for i in range(5):
            cases[f"{code}{i}"] = perfect(
                session, units[code], satisfaction="unsatisfied" if i == 0 else "satisfied"
            )
    for i in range(5):
        perfect(session, units["G"], satisfaction="unsatisfied" if i < 2 else "satisfied")
    for _ in range(2):
        perfect(session, units["D"])
    for i in range(5):
        perfect(session, units["S"], signed_at=T + 30 * H if i == 0 else T + 2 * H)
    feb = T - 20 * D
    for i in range(5):
        perfect(session, units["A"], created_at=feb, dispatched_at=feb + H, sign_due=feb + 25 * H,
                signed_at=feb + 2 * H, reply_due=feb + 5 * D, replied_at=feb + 3 * D,
                closed_at=feb + 4 * D, satisfaction="unsatisfied" if i == 0 else "satisfied")  # fmt: skip
    return units, cases


def test_a_month_ranked_within_each_level_with_the_change_from_the_month_before(session, city):
    units, _ = city
    board = month_board(session, month=MARCH, as_of=AS_OF)
    got = {lvl: [(c.code, c.score, c.rank, c.ranked) for c in cards]
           for lvl, cards in board.levels.items()}  # fmt: skip
    assert got == {
        "city": [("ua", 100.0, 1, True), ("uf", 99.0, 2, True), ("ub", 95.8, 3, True),
                 ("uc", 95.8, 3, True), ("ug", 91.6, 5, True), ("ud", 100.0, None, False)],
        "street": [("us", 95.8, 1, True)],
    }  # fmt: skip
    a = board.card(units["A"].id)
    assert (a.prev_score, a.prev_rank, a.score_change, a.rank_change) == (95.8, 1, 4.2, 0)
    assert board.card(units["B"].id).prev_score is None
    assert board.card(units["F"].id).formula_zh.endswith("− 督办单 1 份 × 1 = 99.0")


def test_a_bonus_and_a_scheme_of_the_month_change_the_score(session, city):
    units, _ = city
    session.add(ScoreBonus(month=MARCH, department_id=units["G"].id, points=3.0,
                           reason="表扬信", created_at=AS_OF))  # fmt: skip
    save_scheme(session, values=scheme_values("2026-03", min_cases="2"), at=AS_OF, by="admin")
    board = month_board(session, month=MARCH, as_of=AS_OF)
    # G: 91.6 + 3 = 94.6; D is ranked with 2 cases, sharing first place with A
    assert board.card(units["G"].id).score == 94.6
    assert (board.card(units["D"].id).rank, board.card(units["A"].id).rank) == (1, 1)
    assert board.card(units["F"].id).rank == 3


def test_every_figure_lists_the_cases_it_counts(session, city):
    units, cases = city
    b = units["B"].id

    def rows(kpi, side):
        stmt = figure_cases(month=MARCH, department_id=b, kpi=kpi, side=side, as_of=AS_OF)
        return set(session.scalars(stmt))

    board = month_board(session, month=MARCH, as_of=AS_OF)
    n, d = board.card(b).figures["satisfaction"]
    assert (n, d) == (4, 5)
    assert len(rows("satisfaction", "numerator")) == 4
    assert rows("satisfaction", "denominator") - rows("satisfaction", "numerator") == {cases["B0"]}
    assert len(rows("dispatched", "denominator")) == 5
    assert rows("supervision", "numerator") == set()
