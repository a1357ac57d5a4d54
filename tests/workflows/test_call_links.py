"""A call's outcome as its operator records it (``workflows/calls/links.py``): the case it
recorded, the earlier case it was about, or no case with a reason; each refusal names its
field and changes nothing; recording ends the operator's after-call work for that call."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from workflows.calls import links
from workflows.calls.models import AgentState, Call
from workflows.calls.service import CallEventIn, ingest
from workflows.errors import FormInvalid

from .conftest import TZ

#: a Wednesday, inside working hours
T0 = datetime(2026, 3, 4, 10, 0, tzinfo=TZ)


@pytest.fixture
def mode() -> str:
    return "straight"


def send(city, call_id: str, event: str, seconds: float, **fields) -> None:
    ingest(
        city.session,
        CallEventIn(call_id=call_id, event=event, at=T0 + timedelta(seconds=seconds), **fields),
        clock=city.clock,
        calendar=city.hotline.calendar.get(),
    )


def answered(city, call_id: str, agent: str = "op1", *, ended: bool = True) -> None:
    """A call from 138 0013 8000 that rang at ``agent``, was answered 10 s later and (if
    ``ended``) ended after 2 minutes' talk."""
    send(city, call_id, "ringing", 0, caller="13800138000", queue="12345", agent=agent)
    send(city, call_id, "answered", 10, agent=agent)
    if ended:
        send(city, call_id, "ended", 130)


def row(city, call_id: str) -> Call:
    city.session.expire_all()
    return city.session.scalars(select(Call).where(Call.call_id == call_id)).one()


def agent_state(city, username: str) -> AgentState:
    city.session.expire_all()
    return city.session.get(AgentState, city.user(username).id)


def now(city, seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def refused(city, fn, **kwargs) -> dict:
    with pytest.raises(FormInvalid) as caught, unit_of_work(city.session):
        fn(city.session, **kwargs)
    return caught.value.errors


def test_link_case_records_the_case_and_ends_after_call_work(city):
    answered(city, "L1")
    assert agent_state(city, "op1").state == "after_call_work"
    case = city.intake(caller_phone="13800138000")
    with unit_of_work(city.session):
        links.link_case(
            city.session, call_id="L1", case=case, user=city.user("op1"), now=now(city, 190)
        )
    call = row(city, "L1")
    assert (call.case_id, call.settled_by, call.settled_at) == (case.id, "op1", now(city, 190))
    # ended at 130 s, recorded at 190 s: one minute of after-call work
    assert call.wrap_seconds == 60
    state = agent_state(city, "op1")
    assert (state.state, state.call_id) == ("available", "")


def test_linking_during_the_call_leaves_the_operator_on_it(city):
    answered(city, "L2", ended=False)
    case = city.intake()
    with unit_of_work(city.session):
        links.link_case(
            city.session, call_id="L2", case=case, user=city.user("op1"), now=now(city, 60)
        )
    assert row(city, "L2").case_id == case.id
    assert agent_state(city, "op1").state == "on_call"


def test_after_call_work_about_another_call_goes_on(city):
    answered(city, "L3a", ended=False)
    send(city, "L3a", "ended", 40)
    # op1's after-call work is about L3a; a case recorded for an earlier call leaves it alone
    case = city.intake()
    send(city, "L3b", "ringing", -600, caller="13900000000", agent="op1")
    send(city, "L3b", "answered", -590, agent="op1")
    with unit_of_work(city.session):
        links.link_case(
            city.session, call_id="L3b", case=case, user=city.user("op1"), now=now(city, 50)
        )
    state = agent_state(city, "op1")
    assert (state.state, state.call_id) == ("after_call_work", "L3a")
    assert row(city, "L3a").wrap_seconds is None


def test_a_ringing_call_may_be_linked_by_the_operator_it_rings_at(city):
    send(city, "L4", "ringing", 0, caller="13800138000", agent="op1")
    case = city.intake()
    with unit_of_work(city.session):
        links.link_case(
            city.session, call_id="L4", case=case, user=city.user("op1"), now=now(city, 5)
        )
    assert row(city, "L4").case_id == case.id


@pytest.mark.parametrize(
    ("setup", "call_id", "username", "message"),
    [
        (None, "nope", "op1", "There is no call nope."),
        (None, "", "op1", "There is no call ."),
        ("answered", "L5", "op2", "The call L5 did not ring or was not answered at you."),
        ("missed", "L5", "op1", "The call L5 was not answered: it is a missed call"),
    ],
)
def test_link_case_refuses_on_the_call_field(city, setup, call_id, username, message):
    if setup == "answered":
        answered(city, "L5")
    elif setup == "missed":
        send(city, "L5", "ringing", 0, caller="13800138000", agent="op1")
        send(city, "L5", "missed", 30)
    case = city.intake()
    errors = refused(
        city, links.link_case, call_id=call_id, case=case, user=city.user(username), now=T0
    )
    assert list(errors) == ["call_id"]
    assert errors["call_id"][0].startswith(message)
    if setup:
        assert row(city, "L5").case_id is None


def test_a_call_recorded_with_a_case_is_not_linked_to_another(city):
    answered(city, "L6")
    first, second = city.intake(), city.intake()
    op1 = city.user("op1")
    with unit_of_work(city.session):
        links.link_case(city.session, call_id="L6", case=first, user=op1, now=now(city, 200))
    errors = refused(city, links.link_case, call_id="L6", case=second, user=op1, now=T0)
    assert errors == {"call_id": [f"The call L6 is already recorded with case {first.number}."]}
    # the same case again is no change of mind: allowed
    with unit_of_work(city.session):
        links.link_case(city.session, call_id="L6", case=first, user=op1, now=now(city, 300))
    assert row(city, "L6").case_id == first.id


def test_link_existing_case_for_a_follow_up_call(city):
    earlier = city.intake(caller_phone="13800138000")
    answered(city, "L7")
    with unit_of_work(city.session):
        call, case = links.link_existing_case(
            city.session,
            call_id="L7",
            case_number=f"  {earlier.number} ",
            user=city.user("op1"),
            now=now(city, 150),
        )
    assert case.id == earlier.id
    stored = row(city, "L7")
    assert (stored.case_id, stored.settled_by, stored.no_case_reason) == (earlier.id, "op1", "")
    assert agent_state(city, "op1").state == "available"


@pytest.mark.parametrize("number", ["", "2099-999999"])
def test_link_existing_case_names_the_case_field(city, number):
    answered(city, "L8")
    errors = refused(
        city,
        links.link_existing_case,
        call_id="L8",
        case_number=number,
        user=city.user("op1"),
        now=T0,
    )
    assert errors == {"case": [f"There is no case {number} you may see."]}
    assert row(city, "L8").settled_at is None


def test_settle_no_case_with_a_reason(city):
    answered(city, "L9")
    with unit_of_work(city.session):
        links.settle_no_case(
            city.session,
            call_id="L9",
            reason="silent",
            note="  ",
            user=city.user("op1"),
            now=now(city, 140),
        )
    call = row(city, "L9")
    assert (call.case_id, call.no_case_reason, call.no_case_note) == (None, "silent", "")
    assert (call.settled_by, call.settled_at, call.wrap_seconds) == ("op1", now(city, 140), 10)
    assert agent_state(city, "op1").state == "available"


@pytest.mark.parametrize(
    ("reason", "note", "errors"),
    [
        ("", "", {"reason": ["Choose why the call made no case."]}),
        ("bored", "", {"reason": ["Choose why the call made no case."]}),
        (
            "other",
            "   ",
            {"note": ["Say why the call made no case (a note is required for “other”)."]},
        ),
        ("wrong_number", "x" * 501, {"note": ["The note may have at most 500 characters."]}),
    ],
)
def test_settle_no_case_refusals_name_the_field(city, reason, note, errors):
    answered(city, "L10")
    got = refused(
        city,
        links.settle_no_case,
        call_id="L10",
        reason=reason,
        note=note,
        user=city.user("op1"),
        now=T0,
    )
    assert got == errors
    call = row(city, "L10")
    assert (call.no_case_reason, call.settled_at) == ("", None)
    assert agent_state(city, "op1").state == "after_call_work"


def test_other_with_a_note_and_a_later_case_replaces_the_reason(city):
    answered(city, "L11")
    op1 = city.user("op1")
    with unit_of_work(city.session):
        links.settle_no_case(
            city.session,
            call_id="L11",
            reason="other",
            note="asked for the bus timetable",
            user=op1,
            now=now(city, 150),
        )
    assert (row(city, "L11").no_case_reason, row(city, "L11").no_case_note) == (
        "other",
        "asked for the bus timetable",
    )
    # the operator thought better of it: the case recorded after all takes the reason's place
    case = city.intake()
    with unit_of_work(city.session):
        links.link_case(city.session, call_id="L11", case=case, user=op1, now=now(city, 400))
    call = row(city, "L11")
    assert (call.case_id, call.no_case_reason, call.no_case_note) == (case.id, "", "")


def test_no_case_for_a_call_with_a_case_is_refused(city):
    answered(city, "L12")
    case = city.intake()
    op1 = city.user("op1")
    with unit_of_work(city.session):
        links.link_case(city.session, call_id="L12", case=case, user=op1, now=now(city, 150))
    errors = refused(
        city, links.settle_no_case, call_id="L12", reason="silent", note="", user=op1, now=T0
    )
    assert errors == {"call_id": [f"The call L12 is already recorded with case {case.number}."]}
    assert row(city, "L12").case_id == case.id
