"""``/api/v1/calls``: the phone system's events in (order, repeats, every bad field), the calls
and their timelines out, and who may do what."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.api.test_errors import assert_error
from webapp.cli import cli
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.calls.service import CallEventIn, ingest

TZ = ZoneInfo("Asia/Shanghai")
#: the tests' clock: Monday 2 March 2026, 09:00 in the hotline's zone
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
EVENTS = "/api/v1/calls/events"


def at(minutes: float) -> str:
    """A time ``minutes`` after the tests' now (negative: before), as the phone system writes it."""
    return (NOW + timedelta(minutes=minutes)).isoformat()


def event(call_id: str, name: str, minutes: float, **fields) -> dict:
    return {"call_id": call_id, "event": name, "at": at(minutes), **fields}


@pytest.fixture
def pbx(api):
    return api("telephony")


def a_call(app, call_id: str = "c0", **fields) -> str:
    """A call rung at ``agent`` (if given), through the service as the API would."""
    with app.app_context():
        hotline = get_hotline()
        ingest(
            db.session,
            CallEventIn(call_id=call_id, event="ringing", at=NOW - timedelta(minutes=1), **fields),
            clock=hotline.clock,
            calendar=hotline.calendar.get(),
        )
    return call_id


def send(pbx, call_id: str, name: str, minutes: float, status: int = 201, **fields) -> dict:
    response = pbx.post(EVENTS, json=event(call_id, name, minutes, **fields))
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


# -- taking events in -------------------------------------------------------------------------


def test_the_pbx_token_from_the_command_line_sends_events(hotline_app, runner):
    result = runner.invoke(cli, ["token", "create", "pbx"])
    assert result.exit_code == 0, result.output
    token = re.search(r"hl_[\w-]+", result.output).group(0)
    client = hotline_app.test_client()
    response = client.post(
        EVENTS,
        json=event("c1", "ringing", -1, caller="138-0013-8000", queue="12345"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/api/v1/calls/c1")
    body = response.json
    assert body["call_id"] == "c1" and body["duplicate"] is False
    assert body["caller"] == "13800138000"  # canonical
    assert body["state"] == "ringing" and body["outcome"] == ""
    assert body["arrived_at"] == "2026-03-02T08:59:00+08:00"


def test_a_call_in_order(pbx):
    send(pbx, "c1", "ringing", -3, caller="13800138000", queue="12345", agent="op1")
    answered = send(pbx, "c1", "answered", -2.5, agent="op1")
    assert answered["state"] == "answered" and answered["outcome"] == "answered"
    assert answered["wait_seconds"] == 30.0 and answered["talk_seconds"] is None
    ended = send(
        pbx,
        "c1",
        "ended",
        -0.5,
        recording_url="https://pbx.example/rec/c1.wav",
        ivr_path=["普通话", "投诉"],
    )
    assert ended["state"] == "ended" and ended["outcome"] == "answered"
    assert ended["agent"] == "op1" and ended["queue"] == "12345"
    assert (ended["wait_seconds"], ended["talk_seconds"]) == (30.0, 120.0)
    assert ended["recording_url"] == "https://pbx.example/rec/c1.wav"
    assert ended["ivr_path"] == "普通话 > 投诉"
    assert ended["answered_at"] == "2026-03-02T08:57:30+08:00"


def test_the_same_event_twice_is_one_event(pbx):
    first = send(pbx, "c1", "ringing", -2, caller="13800138000", queue="12345")
    again = send(pbx, "c1", "ringing", -2, status=200, caller="13800138000", queue="12345")
    assert again["duplicate"] is True
    assert {k: v for k, v in again.items() if k != "duplicate"} == {
        k: v for k, v in first.items() if k != "duplicate"
    }
    assert [e["event"] for e in pbx.get("/api/v1/calls/c1").json["timeline"]] == ["ringing"]


def test_a_repeat_with_other_fields_changes_nothing(pbx):
    send(pbx, "c1", "ringing", -2, caller="13800138000", queue="12345")
    again = send(pbx, "c1", "ringing", -1, status=200, caller="13900139000", queue="110")
    assert again["duplicate"] is True
    assert (again["caller"], again["queue"]) == ("13800138000", "12345")
    assert again["arrived_at"] == "2026-03-02T08:58:00+08:00"
    timeline = pbx.get("/api/v1/calls/c1").json["timeline"]
    assert [(e["at"], e["payload"]) for e in timeline] == [
        ("2026-03-02T08:58:00+08:00", {"caller": "13800138000", "queue": "12345"})
    ]


def test_events_out_of_order_give_the_same_call(pbx):
    fields = {"caller": "13800138000", "queue": "12345"}
    send(pbx, "in-order", "ringing", -3, **fields)
    send(pbx, "in-order", "answered", -2.5, agent="op1")
    in_order = send(pbx, "in-order", "ended", -1)
    early_end = send(pbx, "shuffled", "ended", -1)
    assert early_end["outcome"] == "abandoned"  # as far as it knows
    send(pbx, "shuffled", "answered", -2.5, agent="op1")
    shuffled = send(pbx, "shuffled", "ringing", -3, **fields)
    differs = {"call_id", "updated_at", "callback_id"}
    assert {k: v for k, v in shuffled.items() if k not in differs} == {
        k: v for k, v in in_order.items() if k not in differs
    }
    assert shuffled["outcome"] == "answered" and shuffled["talk_seconds"] == 90.0
    assert shuffled["callback_id"] is None  # the abandoned call's task went with the answer


def test_a_withheld_number(pbx):
    assert send(pbx, "c1", "missed", -1, caller="anonymous")["caller"] == ""
    assert send(pbx, "c2", "missed", -1, caller="")["caller"] == ""
    assert send(pbx, "c3", "missed", -1, caller=None, queue=None)["caller"] == ""
    assert pbx.get("/api/v1/calls/c1").json["callback_id"] is None  # no number to call back


def test_an_event_a_little_ahead_of_the_hotline_is_taken(pbx):
    assert send(pbx, "c1", "ringing", 4.9)["arrived_at"] == "2026-03-02T09:04:54+08:00"


# -- bad events: 400/415 for the body, 422 naming the field --------------------------------


def refused(pbx, body, field: str, status: int = 422) -> dict:
    error = assert_error(pbx.post(EVENTS, json=body), status)
    assert field in error["errors"], error
    return error


def nothing_stored(pbx) -> None:
    assert pbx.get("/api/v1/calls").json["total"] == 0


@pytest.mark.parametrize(
    "value", [None, "", "x" * 65, "two words", "tab\there", "bidi\u202e", "bell\x07", 12]
)
def test_a_bad_call_id(pbx, value):
    refused(pbx, {**event("c1", "ringing", -1), "call_id": value}, "call_id")
    nothing_stored(pbx)


def test_a_nul_is_refused_as_everywhere_in_the_api(pbx):
    refused(pbx, event("c1\x00", "ringing", -1), "call_id", status=400)
    nothing_stored(pbx)


def test_a_call_id_is_required(pbx):
    body = event("c1", "ringing", -1)
    del body["call_id"]
    refused(pbx, body, "call_id")


@pytest.mark.parametrize("value", [None, "", "hangup", "RINGING"])
def test_a_bad_event(pbx, value):
    refused(pbx, {**event("c1", "ringing", -1), "event": value}, "event")
    nothing_stored(pbx)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "yesterday",
        "2026-03-02T08:59:00",  # no offset
        "2026-03-02T09:05:01+08:00",  # more than 5 minutes ahead of the hotline
        "2026-03-02T01:06:00Z",
        "1999-12-31T23:00:00+08:00",
        "2101-01-01T00:00:00+08:00",
        1772413140,
    ],
)
def test_a_bad_time(pbx, value):
    refused(pbx, {**event("c1", "ringing", -1), "at": value}, "at")
    nothing_stored(pbx)


def test_a_time_is_required(pbx):
    body = event("c1", "ringing", -1)
    del body["at"]
    refused(pbx, body, "at")


@pytest.mark.parametrize("value", ["abc", "12", "138 0013 800a", "1" * 40, 13800138000])
def test_a_bad_caller(pbx, value):
    refused(pbx, event("c1", "ringing", -1, caller=value), "caller")
    nothing_stored(pbx)


@pytest.mark.parametrize("value", ["q" * 33, 12345])
def test_a_bad_queue(pbx, value):
    refused(pbx, event("c1", "ringing", -1, queue=value), "queue")
    nothing_stored(pbx)


@pytest.mark.parametrize(
    "fields",
    [
        {},  # answered by nobody
        {"agent": ""},
        {"agent": "  "},
        {"agent": "nobody"},  # no such user (the domain's refusal)
        {"agent": "a" * 65},
    ],
)
def test_a_bad_agent(pbx, fields):
    error = refused(pbx, event("c1", "answered", -1, **fields), "agent")
    assert set(error["errors"]) == {"agent"}
    nothing_stored(pbx)


@pytest.mark.parametrize(
    "value",
    ["ftp://pbx.example/rec.wav", "javascript:alert(1)", "not a url", "https://x/" + "a" * 500],
)
def test_a_bad_recording_url(pbx, value):
    refused(pbx, event("c1", "ended", -1, recording_url=value), "recording_url")
    nothing_stored(pbx)


@pytest.mark.parametrize(
    "value",
    ["x" * 201, ["a", 1], ["x" * 41], ["ok"] * 21, ["x" * 40] * 5, {"menu": "1"}, 7],
)
def test_a_bad_ivr_path(pbx, value):
    refused(pbx, event("c1", "ringing", -1, ivr_path=value), "ivr_path")
    nothing_stored(pbx)


def test_an_unknown_field(pbx):
    error = refused(pbx, event("c1", "ringing", -1, direction="inbound"), "direction")
    assert error["errors"]["direction"] == ["Unknown field."]


def test_a_body_that_is_not_a_json_object(pbx):
    headers = {"Content-Type": "application/json"}
    assert_error(pbx.post(EVENTS, data="{", headers=headers), 400)
    assert_error(pbx.post(EVENTS, data="[1]", headers=headers), 400)
    assert_error(pbx.post(EVENTS, data="call_id=c1", headers={"Content-Type": "text/plain"}), 415)
    assert_error(pbx.post(EVENTS, data="call_id=c1&event=ringing"), 415)
    nothing_stored(pbx)


# -- who may send ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["operator", "supervisor", "lead", "admin"])
def test_only_the_phone_system_sends_events(api, role):
    body = assert_error(api(role).post(EVENTS, json=event("c1", "ringing", -1)), 403)
    assert "telephony" in body["message"]
    assert api("supervisor").get("/api/v1/calls").json["total"] == 0


def test_no_token_no_event(hotline_app):
    assert_error(hotline_app.test_client().post(EVENTS, json=event("c1", "ringing", -1)), 401)
