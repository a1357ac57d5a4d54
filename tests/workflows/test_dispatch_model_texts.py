"""The simulator's descriptions vary by sub-topic, each with its true unit, and the simulated
units send back what is not theirs to the true unit: a history that differs from the catalogue
as a real one does (workflows/insight/sim_texts.py)."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import select

from workflows.cases.models import Case
from workflows.departments.models import Department
from workflows.insight.sim_texts import DISTRICT, TOPICS, catalogue_share, describe
from workflows.seed import DISPATCH_RULES
from workflows.simulation import Rates, Simulation


def test_a_category_has_several_units_and_the_catalogue_knows_its_biggest_one():
    catalogue = {c: d for c, a, d, _ in DISPATCH_RULES if a in ("*", "D-JH")}
    for category, topics in TOPICS.items():
        units = {t.unit for t in topics}
        assert len(units) >= 2, category
        biggest = max(topics, key=lambda t: t.weight)
        expected = "D-JH" if biggest.unit == DISTRICT else biggest.unit
        assert catalogue[category] == expected, category
        assert 0.4 <= catalogue_share(category) < 0.9


def test_texts_vary_and_tell_the_unit_mostly_but_not_always():
    rng = random.Random(3)
    drawn = [describe(rng, "噪音扰民", "D-PJ") for _ in range(600)]
    texts = {t for t, _ in drawn}
    assert len(texts) > 400  # not one sentence per unit
    units = Counter(u for _, u in drawn)
    assert set(units) == {"B-UM", "B-HU", "D-PJ"} and units["B-UM"] < 0.55 * len(drawn)
    # the same words never go with two units, except the vague callers' (category only)
    by_text: dict[str, set[str]] = {}
    for text, unit in drawn:
        by_text.setdefault(text, set()).add(unit)
    vague = [t for t in texts if "噪音扰民" in t]
    assert 0.05 * len(drawn) < sum(1 for t, _ in drawn if "噪音扰民" in t) < 0.2 * len(drawn)
    assert all(len(u) == 1 for t, u in by_text.items() if t not in vague)
    assert any("工地" in t and u == "B-HU" for t, u in drawn)
    assert any("喇叭" in t and u == "B-UM" for t, u in drawn)
    # a seed gives the same texts
    first, again = random.Random(9), random.Random(9)
    assert [describe(first, "道路设施", "D-XH") for _ in range(5)] == [
        describe(again, "道路设施", "D-XH") for _ in range(5)
    ]


@pytest.mark.parametrize("mode", ["straight"])
def test_a_wrong_unit_returns_the_case_and_it_goes_to_the_true_unit(hotline, database):
    rates = Rates(
        return_=1e-9, wrong_unit_return=1.0, sign_late=0, late_reply=0, extension=0,
        suspension=0, redo=0, unsatisfied=0, duplicate=0, cohandle=0, answered=0.05,
    )  # fmt: skip
    sim = Simulation(hotline, database.session, seed=4, rates=rates)
    true_units = sim.true_units
    sim.run(cases=50, days=8)
    with database.session() as session:
        codes = {d.id: d for d in session.scalars(select(Department))}
        found = session.scalars(select(Case).where(Case.number.in_(list(true_units)))).all()
    moved = 0
    for case in found:
        if case.lead_department_id is None:
            continue
        lead = codes[case.lead_department_id]
        parent = codes.get(lead.parent_id) if lead.parent_id else None
        unit = (
            parent.code
            if parent is not None and parent.is_platform and parent.parent_id
            else lead.code
        )
        true = true_units[case.number]
        if case.return_count:
            # returned only by a unit that was not the true one; re-sent to the true one (or,
            # when the return was refused, still with the catalogue's unit)
            moved += unit == true
        else:
            assert unit == true or case.status == "dispatched", case.number
    assert moved >= 3
