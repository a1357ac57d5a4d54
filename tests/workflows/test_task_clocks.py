"""Every human task has its own clock from the policy: the dispatch task first (the other
steps get theirs the same way, through ``clock()`` in scripts/gen_diagrams.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.models import HumanTask
from tests.workflows.test_scenarios import dispatch, local, reply, sign
from workflows.cases import service as cases
from workflows.cases import task_due
from workflows.cases.models import Case
from workflows.cases.task_due import due_states
from workflows.events import CaseEventKind


def test_dispatch_task_is_due_two_working_hours_after_intake(city):
    case = city.intake()  # Monday 2026-03-02 09:00 Beijing
    task = city.task(case, "dispatch")
    assert task.due_at is not None
    assert local(task.due_at) == "2026-03-02T11:00:00+08:00"


def test_a_late_dispatch_turns_yellow_then_red_and_stays_with_the_dispatchers(city):
    case = city.intake()
    task = city.task(case, "dispatch")
    city.advance(hours=1, minutes=36)  # 80% of two working hours
    assert CaseEventKind.TASK_WARNING in city.events(case)
    assert CaseEventKind.TASK_OVERDUE not in city.events(case)
    city.advance(minutes=25)
    assert CaseEventKind.TASK_OVERDUE in city.events(case)
    still = city.task(case, "dispatch")
    assert still.task_id == task.task_id and still.due_at == task.due_at


def test_an_urgent_case_must_be_dispatched_within_an_hour(city):
    case = city.intake(urgency="urgent")
    assert local(city.task(case, "dispatch").due_at) == "2026-03-02T10:00:00+08:00"


# -- every other task of the centre and the departments ---------------------------------------


def returned(city, case, handler="h_mr"):
    """Dispatched to B-MR and returned by it: the return waits for the dispatcher's review."""
    dispatch(city, case, "B-MR")
    city.act(
        case, "sign_for", handler, {"action": "return", "return_reason": "不属于本单位职责范围"}
    )
    return city.task(case, "review_return")


def clock_events(city, case, kind: str) -> list[dict]:
    """The payloads of a case's ``task.warning`` or ``task.overdue`` events."""
    case = city.case(case)
    events = city.hotline.runtime.events(city.session, case.instance_id)
    return [e.payload for e in events if e.kind == kind]


def state(city, case, task) -> str:
    """The task's own deadline state, as every list shows it (and filters on it: the same)."""
    task, now = city.task(case, task.kind), city.clock.now()
    shown = due_states(city.session, [(task, city.case(case))], now=now)[task.task_id]
    filtered = city.session.scalar(
        select(task_due.due_state(now))
        .select_from(HumanTask)
        .join(Case, Case.instance_id == HumanTask.instance_id)
        .where(HumanTask.task_id == task.task_id)
    )
    assert shown == filtered, (task.kind, shown, filtered)
    return shown


def test_a_review_is_due_one_working_day_after_it_opens(city):
    case = city.intake()  # Monday 09:00
    review = returned(city, case)
    assert local(review.due_at) == "2026-03-03T23:59:59+08:00"
    assert review.due_at < city.case(case).reply_due  # its own, not the case's
    assert (review.lane, review.candidate_group) == ("dispatcher", "CITY")


def test_a_late_review_turns_yellow_then_red_and_stays_with_the_dispatchers(city):
    case = city.intake()
    review = returned(city, case)
    assert state(city, case, review) == "normal"
    city.advance(hours=30)  # Tuesday 15:00: 80% of the review's working day has passed
    assert state(city, case, review) == "yellow"
    [warned] = clock_events(city, case, CaseEventKind.TASK_WARNING)
    assert (warned["task"], warned["clock"]) == ("review_return", "review")
    assert not clock_events(city, case, CaseEventKind.TASK_OVERDUE)
    city.advance(hours=9)  # Wednesday 00:00
    assert state(city, case, review) == "red"
    [late] = clock_events(city, case, CaseEventKind.TASK_OVERDUE)
    assert (late["task"], late["step"], late["clock"]) == (
        "review_return",
        "review_return",
        "review",
    )
    still = city.task(case, "review_return")
    assert (still.task_id, still.due_at, still.lane, still.candidate_group) == (
        review.task_id,
        review.due_at,
        "dispatcher",
        "CITY",
    )
    assert city.case(case).status == "return_requested"
    city.act(case, "review_return", "disp1", {"decision": "reject", "note": "确属市场监管职责"})
    assert city.case(case).status == "dispatched"


def test_an_approved_return_reopens_dispatch_with_a_new_dispatch_deadline(city):
    case = city.intake()
    first = city.task(case, "dispatch")
    returned(city, case)
    city.advance(hours=4)  # Monday 13:00
    city.act(case, "review_return", "disp1", {"decision": "approve"})
    again = city.task(case, "dispatch")
    assert again.task_id != first.task_id
    assert local(first.due_at) == "2026-03-02T11:00:00+08:00"
    assert local(again.due_at) == "2026-03-02T15:00:00+08:00"  # two working hours from 13:00
    assert state(city, case, again) == "normal"


def test_an_urgent_review_is_due_within_two_hours(city):
    case = city.intake(urgency="urgent")
    review = returned(city, case)
    assert local(review.due_at) == "2026-03-02T11:00:00+08:00"


def test_re_dispatch_by_a_district_platform_is_due_two_working_hours_later(city):
    case = city.intake(category="道路设施")
    city.advance(minutes=30)
    dispatch(city, case, "D-PJ")
    task = city.task(case, "redispatch")
    assert local(task.due_at) == "2026-03-02T11:30:00+08:00"
    assert task.candidate_group == "D-PJ"
    city.advance(hours=2, minutes=1)
    assert state(city, case, task) == "red"
    assert [p["task"] for p in clock_events(city, case, CaseEventKind.TASK_OVERDUE)] == [
        "redispatch"
    ]


def handling(city, case):
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")


def test_extension_and_suspension_reviews_are_due_one_working_day_after_the_request(city):
    case = city.intake()
    handling(city, case)
    city.act(
        case,
        "handle",
        "h_mr",
        {"action": "request_extension", "extension_days": 3, "extension_reason": "需要检测报告"},
    )
    review = city.task(case, "review_extension")
    assert local(review.due_at) == "2026-03-03T23:59:59+08:00"
    city.act(case, "review_extension", "disp1", {"decision": "refuse", "note": "按期办结"})
    city.advance(days=1)  # Tuesday 09:00
    city.act(
        case,
        "handle",
        "h_mr",
        {"action": "request_suspension", "suspension_reason": "当事人出国，需等待其回国取证"},
    )
    review = city.task(case, "review_suspension")
    assert local(review.due_at) == "2026-03-04T23:59:59+08:00"
    assert (review.lane, review.candidate_group) == ("dispatcher", "CITY")


def test_a_suspended_case_is_due_to_resume_within_thirty_days_and_turns_red_after(city):
    case = city.intake()
    handling(city, case)
    city.act(
        case,
        "handle",
        "h_mr",
        {"action": "request_suspension", "suspension_reason": "当事人出国，需等待其回国取证"},
    )
    city.act(case, "review_suspension", "disp1", {"decision": "approve"})
    resume = city.task(case, "resume")
    assert local(resume.due_at) == "2026-04-01T09:00:00+08:00"  # 30 calendar days
    assert (resume.lane, resume.candidate_group) == ("handler", "B-MR")
    city.advance(days=25)  # 24 of 30 days: the yellow share
    assert state(city, case, resume) == "yellow"
    city.advance(days=6)
    assert state(city, case, resume) == "red"
    [late] = clock_events(city, case, CaseEventKind.TASK_OVERDUE)
    assert (late["task"], late["clock"]) == ("resume", "suspension_max")
    # the case stays suspended with its department, whose deadline (paused) is not red
    c = city.case(case)
    assert c.status == "suspended" and c.due_state == "normal"
    assert city.task(case, "resume").task_id == resume.task_id


def test_a_reply_review_is_due_one_working_day_after_the_reply(city):
    case = city.intake()
    handling(city, case)
    city.advance(days=2)  # Wednesday 09:00
    reply(city, case, "h_mr")
    review = city.task(case, "review_reply")
    assert local(review.due_at) == "2026-03-05T23:59:59+08:00"
    assert review.due_at != city.case(case).reply_due
    assert state(city, case, review) == "normal"
    city.advance(days=2)  # Friday 09:00: past it
    assert state(city, case, review) == "red"
    assert "review_reply" in [
        p["task"] for p in clock_events(city, case, CaseEventKind.TASK_OVERDUE)
    ]


def test_the_handling_task_shows_the_reply_deadline_and_its_yellow(city):
    case = city.intake()
    handling(city, case)
    task = city.task(case, "handle")
    c = city.case(case)
    assert task.due_at == c.reply_due
    assert state(city, case, task) == "normal"
    city.clock.set(c.warn_at)
    city.advance(seconds=1)
    assert city.case(case).due_state == "yellow" == state(city, case, task)


# -- the same for every one of them -----------------------------------------------------------


def _to_review_return(city, case):
    returned(city, case)


def _to_redispatch(city, case):
    dispatch(city, case, "D-PJ")


def _to_review_extension(city, case):
    handling(city, case)
    extension = {"extension_days": 3, "extension_reason": "需要检测报告"}
    city.act(case, "handle", "h_mr", {"action": "request_extension", **extension})


def _to_review_suspension(city, case):
    handling(city, case)
    suspension = {"suspension_reason": "当事人出国，需等待其回国取证"}
    city.act(case, "handle", "h_mr", {"action": "request_suspension", **suspension})


def _to_resume(city, case):
    _to_review_suspension(city, case)
    city.act(case, "review_suspension", "disp1", {"decision": "approve"})


def _to_review_reply(city, case):
    handling(city, case)
    reply(city, case, "h_mr")


#: step -> (how a case gets there, the policy limit its clock runs on, its owner group)
CLOCKED = {
    "redispatch": (_to_redispatch, "dispatch", "D-PJ"),
    "review_return": (_to_review_return, "review", "CITY"),
    "review_extension": (_to_review_extension, "review", "CITY"),
    "review_suspension": (_to_review_suspension, "review", "CITY"),
    "resume": (_to_resume, "suspension_max", "B-MR"),
    "review_reply": (_to_review_reply, "review", "CITY"),
}


@pytest.mark.parametrize("urgency", ["normal", "urgent"])
@pytest.mark.parametrize("step", sorted(CLOCKED))
def test_each_task_is_due_by_its_limit_turns_yellow_then_red_and_stays(city, step, urgency):
    to_step, limit, group = CLOCKED[step]
    case = city.intake(urgency=urgency, category="道路设施" if step == "redispatch" else "食品安全")
    city.advance(minutes=20)  # the task opens at 09:20, not on the hour
    to_step(city, case)
    task = city.task(case, step)
    policy = city.hotline.runtime.data(city.session, city.case(case).instance_id)["policy"]
    calendar = city.hotline.calendar.get()
    due = calendar.after(task.created_at, policy[limit]["value"], policy[limit]["unit"])
    assert task.due_at == due, (step, local(task.due_at), local(due))
    warn = calendar.warn_time(task.created_at, due, policy["warn_share"], policy[limit]["unit"])
    assert task.created_at < warn < due
    assert state(city, case, task) == "normal"

    city.clock.set(warn - timedelta(seconds=1))
    city.advance(seconds=0)
    assert state(city, case, task) == "normal"
    assert not clock_events(city, case, CaseEventKind.TASK_WARNING)
    city.advance(seconds=1)
    assert state(city, case, task) == "yellow"
    [warned] = clock_events(city, case, CaseEventKind.TASK_WARNING)
    assert (warned["task"], warned["step"], warned["clock"]) == (step, step, limit)

    city.clock.set(due)
    city.advance(seconds=0)
    assert state(city, case, task) == "red"
    [late] = clock_events(city, case, CaseEventKind.TASK_OVERDUE)
    assert (late["task"], late["step"], late["clock"]) == (step, step, limit)
    still = city.task(case, step)
    assert (still.task_id, still.due_at, still.candidate_group) == (task.task_id, due, group)


def test_a_review_queue_lists_urgency_first_then_each_reviews_own_due_time(city):
    first = city.intake()
    returned(city, first)
    city.advance(hours=1)
    second = city.intake(caller_phone="13700137000")
    returned(city, second)
    city.advance(hours=1)
    urgent = city.intake(urgency="urgent", caller_phone="13600136000")
    returned(city, urgent)
    queue = cases.inbox(city.session, user=city.user("disp1"), step="review_return")
    assert [c.number for _, c in queue] == [urgent.number, first.number, second.number]
    dues = [t.due_at for t, _ in queue]
    assert dues[0] < dues[1] <= dues[2]  # the urgent review is due in two hours


def test_sign_for_turns_yellow_before_its_red_escalation(city):
    """Sign-for keeps its department deadline (sign_due, red: escalated) and gets the same
    yellow card as every other task, at the warning share of the time since dispatch."""
    case = city.intake()  # Monday 09:00
    dispatch(city, case, "B-MR")
    task = city.task(case, "sign_for")
    c = city.case(case)
    assert task.due_at == c.sign_due and state(city, case, task) == "normal"
    city.clock.set(c.sign_due - timedelta(hours=4))  # past 80% of the working time
    city.advance(seconds=1)
    [warning] = clock_events(city, case, CaseEventKind.TASK_WARNING)
    assert (warning["step"], warning["clock"]) == ("sign_for", "sign")
    assert state(city, case, task) == "yellow" and not city.case(case).sign_escalated
    city.clock.set(c.sign_due)
    city.advance(seconds=1)
    assert state(city, case, task) == "red" and city.case(case).sign_escalated
    assert city.task(case, "sign_for").task_id == task.task_id  # still the unit's to sign
