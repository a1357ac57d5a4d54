"""Callback outcomes that end: reached (rated), rating declined, or not reached after the
policy's attempts spread over its span; the callback team's lane and the callback deadline.

Straight and restored at every step (``mode``). The clock starts on Monday 2026-03-02 09:00
Beijing time; the complaint's policy asks 3 attempts over 2 working days, within 3 working
days of the reply's acceptance.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from workflows.cases.models import CallbackAttempt
from workflows.errors import Forbidden, FormInvalid

from .test_scenarios import accept_reply, dispatch, local, reply, sign


def awaiting_callback(city):
    case = city.intake()
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")
    reply(city, case, "h_mr")
    accept_reply(city, case)
    assert city.case(case).status == "awaiting_callback"
    return case


def not_reached(city, case, reason="no_answer", user="cb1"):
    return city.act(
        case, "callback", user, {"contact_result": "not_reached", "unreached_reason": reason}
    )


def attempts(city, case) -> list[tuple[str, str, str, str | None]]:
    """(local time, user, result, reason) of each recorded attempt, oldest first."""
    c = city.case(case)
    rows = city.session.scalars(
        select(CallbackAttempt).where(CallbackAttempt.case_id == c.id).order_by(CallbackAttempt.id)
    )
    return [(local(r.at), r.user, r.result, r.reason) for r in rows]


def test_reached_and_satisfied_closes_as_handled(city):
    case = awaiting_callback(city)
    city.advance(hours=1)
    city.act(
        case,
        "callback",
        "cb1",
        {"contact_result": "reached", "satisfaction": "satisfied", "resolved": "yes"},
    )
    c = city.case(case)
    assert (c.status, c.outcome, c.satisfaction, c.resolved) == (
        "closed",
        "handled",
        "satisfied",
        True,
    )
    assert attempts(city, case) == [("2026-03-02T10:00:00+08:00", "cb1", "reached", None)]


def test_three_unreached_attempts_over_two_working_days_close_not_reached(city):
    case = awaiting_callback(city)
    not_reached(city, case, "no_answer")  # Monday
    assert city.case(case).status == "awaiting_callback"
    city.advance(days=1)
    not_reached(city, case, "busy")  # Tuesday
    assert city.case(case).status == "awaiting_callback"
    city.advance(days=1)
    not_reached(city, case, "wrong_number")  # Wednesday: two working days after Monday
    c = city.case(case)
    assert (c.status, c.outcome) == ("closed", "not_reached")
    assert c.satisfaction is None and c.resolved is None and c.callback_at is not None
    assert c.first_contact_resolution is True  # on time, never reopened nor escalated
    assert attempts(city, case) == [
        ("2026-03-02T09:00:00+08:00", "cb1", "not_reached", "no_answer"),
        ("2026-03-03T09:00:00+08:00", "cb1", "not_reached", "busy"),
        ("2026-03-04T09:00:00+08:00", "cb1", "not_reached", "wrong_number"),
    ]
    assert city.ready(case) == []
    assert "instance.completed" in city.events(case)


def test_three_unreached_attempts_in_one_day_do_not_close_yet(city):
    case = awaiting_callback(city)
    for reason in ("no_answer", "busy", "declined"):
        not_reached(city, case, reason)
        city.advance(hours=2)
    c = city.case(case)
    assert c.status == "awaiting_callback" and c.outcome == ""
    assert city.task(case, "callback")  # tried again
    city.advance(days=1)  # Tuesday: still only one working day after the first attempt
    not_reached(city, case)
    assert city.case(case).status == "awaiting_callback"
    city.advance(days=1)  # Wednesday
    not_reached(city, case)
    assert (city.case(case).status, city.case(case).outcome) == ("closed", "not_reached")
    assert len(attempts(city, case)) == 5


def test_a_weekend_does_not_count_toward_the_span(city):
    case = awaiting_callback(city)
    city.advance(days=4)  # Friday
    not_reached(city, case)
    city.advance(days=1)  # Saturday
    not_reached(city, case)
    city.advance(days=2)  # Monday: one working day after Friday
    not_reached(city, case)
    assert city.case(case).status == "awaiting_callback"
    city.advance(days=1)  # Tuesday
    not_reached(city, case)
    assert city.case(case).outcome == "not_reached"


def test_reached_after_unreached_attempts_is_rated_and_handled(city):
    case = awaiting_callback(city)
    not_reached(city, case)
    city.advance(days=1)
    city.act(
        case,
        "callback",
        "cb1",
        {"contact_result": "reached", "satisfaction": "basically_satisfied", "resolved": "yes"},
    )
    c = city.case(case)
    assert (c.outcome, c.satisfaction) == ("handled", "basically_satisfied")
    assert [a[2] for a in attempts(city, case)] == ["not_reached", "reached"]


def test_rating_declined_closes_without_a_rating(city):
    case = awaiting_callback(city)
    city.act(
        case,
        "callback",
        "cb1",
        {"contact_result": "rating_declined", "callback_note": "市民表示不愿评价"},
    )
    c = city.case(case)
    assert (c.status, c.outcome, c.satisfaction, c.resolved) == (
        "closed",
        "rating_declined",
        None,
        None,
    )
    assert attempts(city, case) == [("2026-03-02T09:00:00+08:00", "cb1", "rating_declined", None)]


def test_the_form_asks_a_rating_only_of_a_reached_citizen_and_a_reason_otherwise(city):
    case = awaiting_callback(city)
    with pytest.raises(FormInvalid) as info:
        city.act(case, "callback", "cb1", {"contact_result": "reached"})
    assert set(info.value.errors) == {"satisfaction", "resolved"}
    with pytest.raises(FormInvalid) as info:
        city.act(case, "callback", "cb1", {"contact_result": "not_reached"})
    assert set(info.value.errors) == {"unreached_reason"}
    with pytest.raises(FormInvalid) as info:
        city.act(case, "callback", "cb1", {"contact_result": "maybe"})
    assert set(info.value.errors) == {"contact_result"}
    assert attempts(city, case) == [] and city.case(case).status == "awaiting_callback"


def test_the_callback_team_calls_back_within_one_deadline(city):
    case = awaiting_callback(city)
    task = city.task(case, "callback")
    assert task.lane == "callback" and task.candidate_group is None
    # three working days from the reply's acceptance on Monday: Thursday's end
    assert local(task.due_at) == "2026-03-05T23:59:59+08:00"
    with pytest.raises(Forbidden):
        city.act(case, "callback", "sup1", {"satisfaction": "satisfied", "resolved": "yes"})
    not_reached(city, case)
    again = city.task(case, "callback")
    assert again.task_id != task.task_id
    assert again.due_at == task.due_at  # set once, before the first attempt
    city.advance(days=4)  # Friday: the callback is overdue
    assert "task.overdue" in city.events(case)
    assert city.case(case).status == "awaiting_callback"  # the task stays with the team
    not_reached(city, case)
    assert city.case(case).status == "awaiting_callback"  # two attempts of three
    not_reached(city, case)
    assert city.case(case).outcome == "not_reached"


def test_a_case_on_a_diagram_without_failed_callbacks_records_reached_ones_only(city):
    """Cases started before callbacks could fail run on a diagram that never reads the
    contact result: the form's new choices would close them as handled, so they are refused
    there (an administrator moves such cases to the new version)."""
    from tests.conftest import ROOT

    xml = (ROOT / "bpmn" / "complaint.bpmn").read_text(encoding="utf-8")
    for condition in ("contact_result == 'not_reached'", "contact_result == 'rating_declined'"):
        assert condition in xml
        xml = xml.replace(condition, "False")
    xml = xml.replace("contact_result", "reached_gateway")  # the gateway's id
    city.hotline.runtime.deploy(
        city.session,
        xml.encode(),
        "complaint.bpmn",
        deployed_by="tests",
        form_exists=city.hotline.forms.exists,
    )
    case = awaiting_callback(city)
    with pytest.raises(FormInvalid) as info:
        not_reached(city, case)
    assert set(info.value.errors) == {"contact_result"}
    with pytest.raises(FormInvalid):
        city.act(case, "callback", "cb1", {"contact_result": "rating_declined"})
    assert attempts(city, case) == []
    city.act(case, "callback", "cb1", {"satisfaction": "satisfied", "resolved": "yes"})
    assert (city.case(case).status, city.case(case).outcome) == ("closed", "handled")
