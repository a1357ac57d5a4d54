"""Every human task has its own clock from the policy: the dispatch task first (the other
steps get theirs the same way, through ``clock()`` in scripts/gen_diagrams.py)."""

from __future__ import annotations

from tests.workflows.test_scenarios import local
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
