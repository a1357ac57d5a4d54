"""The demo's quality review (``hotline init --demo``): last month's samples drawn, most of
them scored by qa1 on the sheet in force, one review disputed by its operator; run again, it
changes nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from workflows.quality.demo import demo_quality
from workflows.quality.models import Dispute, Review, SampledCase
from workflows.quality.sheets import max_total, sheet_in_force


@pytest.fixture
def mode() -> str:
    return "straight"


def test_the_demo_samples_scores_and_disputes_last_month(city):
    city.clock.set(datetime(2026, 2, 10, 2, 0, tzinfo=UTC))  # February: cases by op1
    for _ in range(12):
        city.intake()
    city.session.commit()
    city.clock.set(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # March: February has ended
    (line,) = demo_quality(city.session, city.hotline, size=5)
    assert line.startswith("quality review 2026-02: 5 cases sampled from 1 operators, ")
    reviews = city.session.scalars(select(Review)).all()
    assert 1 <= len(reviews) <= 5
    sheet = sheet_in_force(city.session, now=city.clock.now())
    for review in reviews:
        assert review.reviewer == "qa1" and review.operator == "op1"
        assert review.max_total == max_total(sheet) == 100
        assert 0 <= review.total <= 100 and review.total == sum(review.scores.values())
    assert f"{len(reviews)} scored by qa1" in line
    disputes = city.session.scalars(select(Dispute)).all()
    assert len(disputes) <= 1 and all(d.operator == "op1" for d in disputes)
    # again: the stored sample and its reviews stay
    list(demo_quality(city.session, city.hotline, size=5))
    assert city.session.scalar(select(func.count()).select_from(SampledCase)) == 5
    assert city.session.scalar(select(func.count()).select_from(Review)) == len(reviews)
