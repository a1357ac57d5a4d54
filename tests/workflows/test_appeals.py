"""Appeals (申诉): the window in working days, each ground, duplicates, the wrong department,
a second review refused, and an upheld appeal taking the case out of the KPI rates.

The clock starts on Monday 2026-03-02 09:00 Beijing. Cases are taken at intake (so they have
an instance and a timeline), then given by hand the columns the ground reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.errors import NotFound
from workflows.appeals import service as appeals
from workflows.appeals.models import Appeal, AppealStatus
from workflows.calendar.service import set_day
from workflows.cases.models import Case, CaseDepartment
from workflows.departments.service import by_code
from workflows.errors import Forbidden, FormInvalid
from workflows.events import AppealUpheld, CaseEventKind
from workflows.kpi.service import Ratio, compute_kpis

H = timedelta(hours=1)
D = timedelta(days=1)
#: Thursday 2026-03-05 10:00 Beijing
THU = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
MARCH = {
    "start": datetime(2026, 2, 28, 16, 0, tzinfo=UTC),
    "end": datetime(2026, 3, 31, 16, 0, tzinfo=UTC),
}


@pytest.fixture
def mode() -> str:
    return "straight"  # no diagram is stepped here: once is enough


def dispatched(city, code: str = "B-MR", **columns) -> Case:
    """A case taken at intake, then dispatched to ``code`` on Monday (its columns by hand)."""
    case = city.intake()
    values = {
        "lead_department_id": by_code(city.session, code).id,
        "dispatched_at": city.clock.now(),
        "sign_due": city.clock.now() + 24 * H,
        "signed_at": city.clock.now() + H,
        "reply_due": THU + 5 * D,
        "status": "in_progress",
    }
    values.update(columns)
    for key, value in values.items():
        setattr(case, key, value)
    city.session.add(
        CaseDepartment(case_id=case.id, department_id=values["lead_department_id"], role="lead")
    )
    city.session.commit()
    return case


def file(city, case, ground="overdue", who="h_mr", reason="系统故障导致无法按时答复"):
    return appeals.file_appeal(
        city.session, city.hotline, number=case.number, ground=ground, reason=reason,
        user=city.user(who), lang="en",
    )  # fmt: skip


def review(city, appeal, decision="upheld", who="sup1", reason="核实属实"):
    return appeals.review_appeal(
        city.session, city.hotline, appeal_id=appeal.id, decision=decision, reason=reason,
        user=city.user(who), lang="en",
    )  # fmt: skip


def errors(excinfo) -> dict[str, list[str]]:
    return excinfo.value.errors


def test_the_window_counts_working_days_across_a_weekend_and_a_holiday(city):
    # signed for late on Thursday 10:00 (due then); Monday 9 March made a holiday: with the
    # default 5 working days the window is Fri 6, Tue 10, Wed 11, Thu 12, Fri 13, to 23:59:59
    set_day(city.session, day=date(2026, 3, 9), kind="holiday", name="test", clock=city.clock)
    city.hotline.calendar.invalidate()
    case = dispatched(city, sign_due=THU, signed_at=THU + 3 * H, reply_due=THU + 30 * D)
    last = datetime(2026, 3, 13, 15, 59, 59, tzinfo=UTC)  # Friday 23:59:59 Beijing
    city.clock.set(last + timedelta(seconds=1))
    with pytest.raises(FormInvalid) as refused:
        file(city, case)
    assert errors(refused) == {"ground": ["The appeal window closed at 2026-03-13 23:59."]}
    city.clock.set(last)
    appeal = file(city, case)
    assert (appeal.occurred_at, appeal.window_ends_at) == (THU, last)
    assert appeal.status == AppealStatus.PENDING


def test_the_window_is_the_administrators_setting(city):
    appeals.save_settings(city.session, window_workdays=1, by="admin", now=city.clock.now())
    case = dispatched(city, sign_due=THU, signed_at=THU + 3 * H, reply_due=THU + 30 * D)
    city.clock.set(datetime(2026, 3, 6, 16, 0, tzinfo=UTC))  # Saturday 00:00 Beijing
    with pytest.raises(FormInvalid) as refused:
        file(city, case)
    assert errors(refused) == {"ground": ["The appeal window closed at 2026-03-06 23:59."]}
    with pytest.raises(FormInvalid) as bad:
        appeals.save_settings(
            city.session, window_workdays=0, by="admin", now=city.clock.now(), lang="en"
        )
    assert errors(bad) == {"window_workdays": ["From 1 to 60."]}


def test_overdue_applies_to_a_late_reply_an_unreplied_case_past_due_and_a_late_sign_for(city):
    on_time = dispatched(city)
    with pytest.raises(FormInvalid) as refused:
        file(city, on_time)
    assert errors(refused) == {"ground": ["The case was not overdue."]}
    city.clock.set(THU + 6 * D)  # Tuesday 10 March: the reply deadline (Tue 10:00) passed
    unreplied = dispatched(city)
    late_reply = dispatched(city, replied_at=THU + 5 * D + H)
    assert file(city, unreplied).occurred_at == THU + 5 * D
    assert file(city, late_reply).occurred_at == THU + 5 * D


def test_rating_applies_to_an_unsatisfied_or_unresolved_rating(city):
    satisfied = dispatched(city, satisfaction="satisfied", resolved=True, callback_at=THU)
    with pytest.raises(FormInvalid) as refused:
        file(city, satisfied, ground="rating")
    assert errors(refused) == {"ground": ["The case has no unsatisfied or unresolved rating."]}
    unresolved = dispatched(city, satisfaction="satisfied", resolved=False, callback_at=THU)
    unsatisfied = dispatched(city, satisfaction="unsatisfied", callback_at=THU + H)
    assert file(city, unresolved, ground="rating").occurred_at == THU
    assert file(city, unsatisfied, ground="rating").occurred_at == THU + H


def test_reopen_applies_from_the_reopen_on_the_timeline(city):
    never = dispatched(city)
    with pytest.raises(FormInvalid) as refused:
        file(city, never, ground="reopen")
    assert errors(refused) == {"ground": ["The case was not reopened."]}
    case = dispatched(city, reopen_count=1)
    city.clock.set(THU)
    city.hotline.runtime.record_event(
        city.session, case.instance_id, CaseEventKind.STATUS, actor="cb1",
        payload={"case": case.number, "from": "awaiting_callback", "to": "in_progress"},
    )  # fmt: skip
    city.session.commit()
    city.clock.set(THU + D)
    assert file(city, case, ground="reopen").occurred_at == THU


def test_refusals_name_their_field(city):
    city.clock.set(THU + 6 * D)
    case = dispatched(city)
    with pytest.raises(FormInvalid) as refused:
        file(city, case, ground="weather", reason="  ")
    assert errors(refused) == {
        "ground": ["Not one of the choices."],
        "reason": ["This field is required."],
    }
    file(city, case)
    with pytest.raises(FormInvalid) as twice:
        file(city, case)
    assert errors(twice) == {"ground": ["An appeal on this ground is pending."]}
    # another department cannot see the case; a co-handling unit sees it but is not the lead
    with pytest.raises(NotFound):
        file(city, case, who="h_hu")
    with pytest.raises(Forbidden):
        file(city, case, who="sup1")
    assert city.session.scalar(select(Appeal.id).where(Appeal.filed_by == "h_hu")) is None


def test_only_the_lead_department_appeals(city):
    city.clock.set(THU + 6 * D)
    case = dispatched(city)
    city.session.add(
        CaseDepartment(case_id=case.id, department_id=by_code(city.session, "B-HU").id, role="co")
    )
    city.session.commit()
    with pytest.raises(FormInvalid) as refused:
        file(city, case, who="h_hu")
    assert errors(refused) == {"case": ["Only the case's lead department may appeal."]}


def test_review_upholds_once_and_the_case_leaves_the_rates(city):
    city.clock.set(THU + 6 * D)
    published = []
    city.hotline.events.subscribe(AppealUpheld, lambda session, event: published.append(event))
    late = dispatched(city, closed_at=THU + 6 * D, replied_at=THU + 6 * D, status="closed")
    dispatched(city, closed_at=THU + D, replied_at=THU + D, status="closed")
    mr = by_code(city.session, "B-MR").id
    kw = {**MARCH, "as_of": city.clock.now(), "department_ids": [mr]}
    (before,) = compute_kpis(city.session, **kw)
    assert before.overdue == Ratio(1, 2)
    appeal = file(city, late)
    with pytest.raises(Forbidden):
        review(city, appeal, who="h_mr")
    with pytest.raises(FormInvalid) as bad:
        review(city, appeal, decision="maybe", reason="")
    assert errors(bad) == {
        "decision": ["Not one of the choices."],
        "reason": ["This field is required."],
    }
    review(city, appeal, who="lead1")
    (after,) = compute_kpis(city.session, **kw)
    assert after.overdue == Ratio(0, 1)
    assert (after.cases, after.dispatched) == (2, 2)
    assert city.case(late).appeal_upheld_at == THU + 6 * D
    assert [(e.case_number, e.ground, e.actor) for e in published] == [
        (late.number, "overdue", "lead1")
    ]
    with pytest.raises(FormInvalid) as twice:
        review(city, appeal, decision="rejected")
    assert errors(twice) == {
        "appeal": ["This appeal was already decided by lead1 at 2026-03-11 10:00."]
    }
    kinds = city.events(late)
    assert kinds[-2:] == [CaseEventKind.APPEAL_FILED, CaseEventKind.APPEAL_DECIDED]


def test_appeal_kpis_per_month_and_department(city):
    city.clock.set(THU + 6 * D)
    cases = [dispatched(city) for _ in range(3)]
    hu_case = dispatched(city, code="B-HU")
    first, second, third = (file(city, c) for c in cases)
    review(city, first)
    review(city, second, decision="rejected")
    hu_appeal = file(city, hu_case, who="h_hu")
    mr, hu = by_code(city.session, "B-MR").id, by_code(city.session, "B-HU").id
    rows = appeals.appeal_kpis(city.session, **MARCH, tz=city.hotline.tz)
    got = [(r.month, r.department_id, r.filed, r.upheld, r.rejected, r.pending) for r in rows]
    march = date(2026, 3, 1)
    assert sorted(got) == sorted([(march, mr, 3, 1, 1, 1), (march, hu, 1, 0, 0, 1)])
    assert next(r for r in rows if r.department_id == mr).upheld_share == Ratio(1, 2)
    queue = city.session.scalars(appeals.appeal_list(city.user("sup1"))).all()
    assert [a.id for a in queue] == [third.id, hu_appeal.id, first.id, second.id]
    own = city.session.scalars(appeals.appeal_list(city.user("h_hu"))).all()
    assert [a.department_id for a in own] == [hu]


def test_an_upheld_appeal_revises_the_published_bulletin_of_the_cases_month(city):
    from workflows.evaluation.bulletins import publish, published

    city.clock.set(datetime(2026, 3, 25, 2, 0, tzinfo=UTC))  # Wednesday 25 March, 10:00
    due = datetime(2026, 3, 30, 2, 0, tzinfo=UTC)  # Monday 30 March, 10:00
    late = dispatched(city, reply_due=due, replied_at=due + D, closed_at=due + D, status="closed")
    city.clock.set(datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
    bulletin = publish(city.session, month=date(2026, 3, 1), at=city.clock.now(), by="lead1")
    city.session.commit()
    assert late.number in {c["number"] for c in bulletin.snapshot["overdue_cases"]}
    review(city, file(city, late))
    city.session.expire_all()
    revised = published(city.session, month=date(2026, 3, 1))
    (item,) = revised.revisions["items"]
    assert (item["case_number"], item["department_id"]) == (
        late.number,
        by_code(city.session, "B-MR").id,
    )
    assert late.number not in {c["number"] for c in revised.snapshot["overdue_cases"]}
