"""The demo's appeals (``hotline init --demo``): one left pending for the review queue, one
upheld, one rejected, from different departments, each within its window."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from workflows.appeals.demo import demo_appeals
from workflows.appeals.models import Appeal
from workflows.departments.service import by_code

from .test_appeals import THU, D, dispatched


@pytest.fixture
def mode() -> str:
    return "straight"


def test_the_demo_leaves_a_pending_an_upheld_and_a_rejected_appeal(city):
    city.clock.set(THU + 6 * D)  # Tuesday 10 March 10:00: the reply deadlines (THU + 5 D) passed
    # marked too long ago: overdue since Monday 23 February, the window closed on 2 March
    stale = dispatched(city, "B-UM", reply_due=THU - 10 * D)
    cases = [dispatched(city, code) for code in ("B-MR", "B-HU", "B-WA")]
    lines = list(demo_appeals(city.session, city.hotline))
    assert lines == ["demo appeals: 3 filed, 2 decided, 1 pending review"]
    city.session.expire_all()
    rows = city.session.scalars(select(Appeal).order_by(Appeal.id)).all()
    # the newest cases first, one department each
    assert [(r.case_id, r.ground, r.status, r.filed_by, r.decided_by) for r in rows] == [
        (cases[2].id, "overdue", "pending", "h_wa", None),
        (cases[1].id, "overdue", "upheld", "h_hu", "sup1"),
        (cases[0].id, "overdue", "rejected", "h_mr", "lead1"),
    ]
    assert stale.id not in {r.case_id for r in rows}
    assert city.case(cases[1]).appeal_upheld_at == THU + 6 * D
    assert rows[1].department_id == by_code(city.session, "B-HU").id
    assert city.events(cases[1])[-2:] == ["case.appeal_filed", "case.appeal_decided"]
