"""``/api/v1/calls``: the phone system's events in (order, repeats, every bad field), the calls
and their timelines out, and who may do what."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.api.test_errors import assert_error
from tests.webapp.test_intake import open_case
from webapp.cli import cli
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.calls.models import Call
from workflows.calls.service import CallEventIn, ingest
from workflows.cases.models import Case, CaseNote

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


def test_a_call_id_is_read_back_at_its_address(pbx):
    posted = pbx.post(EVENTS, json=event("1709370000.42:7?x#y%", "ringing", -1))
    assert posted.status_code == 201
    assert pbx.get(posted.headers["Location"]).json["call_id"] == "1709370000.42:7?x#y%"


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
    "value",
    [None, "", "x" * 65, "two words", "tab\there", "bidi\u202e", "bell\x07", "a/b", 12],
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


# -- reading calls ------------------------------------------------------------------------------


def link_case(app, call_id: str, number: str, reason: str = "") -> None:
    with app.app_context():
        call = db.session.scalars(select(Call).where(Call.call_id == call_id)).one()
        call.case_id = db.session.scalars(select(Case.id).where(Case.number == number)).one()
        call.no_case_reason = reason
        db.session.commit()


@pytest.fixture
def floor(pbx, hotline_app):
    """Five calls, oldest first: c1 answered by op1 (a case), c2 abandoned, c3 missed at
    night (withheld), c4 answered by op2 on queue 110, c5 ringing at op1 now."""
    send(pbx, "c1", "ringing", -50, caller="13800138000", queue="12345", agent="op1")
    send(pbx, "c1", "answered", -49, agent="op1")
    send(pbx, "c1", "ended", -45)
    send(pbx, "c2", "ringing", -40, caller="0750-1234567", queue="12345")
    send(pbx, "c2", "ended", -39)
    send(pbx, "c3", "missed", -30, caller="anonymous", queue="12345")
    send(pbx, "c4", "ringing", -20, caller="13800138000", queue="110", agent="op2")
    send(pbx, "c4", "answered", -19.5, agent="op2")
    send(pbx, "c4", "ended", -10)
    send(pbx, "c5", "ringing", -1, caller="13900139000", queue="12345", agent="op1")
    number = open_case(hotline_app, caller_phone="13800138000")
    link_case(hotline_app, "c1", number)
    return number


def ids(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [c["call_id"] for c in response.json["items"]]


def test_the_list_is_newest_first(api, floor):
    page = api("supervisor").get("/api/v1/calls")
    assert ids(page) == ["c5", "c4", "c3", "c2", "c1"]
    assert (page.json["total"], page.json["pages"], page.json["total_capped"]) == (5, 1, False)
    first = page.json["items"][-1]
    assert first["case"] == floor and first["outcome"] == "answered"
    assert first["arrived_at"] == "2026-03-02T08:10:00+08:00"
    assert page.json["items"][0]["outcome"] == "" and page.json["items"][0]["case"] is None


def test_the_list_sorts_as_the_call_records_do(api, floor):
    supervisor = api("supervisor")
    assert ids(supervisor.get("/api/v1/calls?sort=arrived&dir=asc")) == [
        "c1",
        "c2",
        "c3",
        "c4",
        "c5",
    ]
    assert ids(supervisor.get("/api/v1/calls?sort=case&dir=asc"))[0] == "c1"  # the one linked
    by_queue = supervisor.get("/api/v1/calls?sort=queue&dir=asc").json["items"]
    assert [c["queue"] for c in by_queue] == sorted(c["queue"] for c in by_queue)
    bad = supervisor.get("/api/v1/calls?sort=caller&dir=up")
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"sort", "dir"}
    alone = supervisor.get("/api/v1/calls?dir=asc")
    assert alone.status_code == 422 and list(alone.json["errors"]) == ["dir"]


def test_the_list_in_pages(api, floor):
    supervisor = api("supervisor")
    second = supervisor.get("/api/v1/calls?per_page=2&page=2")
    assert ids(second) == ["c3", "c2"]
    assert (second.json["total"], second.json["pages"], second.json["per_page"]) == (5, 3, 2)
    assert ids(supervisor.get("/api/v1/calls?per_page=2&page=3")) == ["c1"]
    assert ids(supervisor.get("/api/v1/calls?per_page=2&page=4")) == []


@pytest.mark.parametrize(
    "query, expected",
    [
        ("since=2026-03-02T08:20:00%2B08:00", ["c5", "c4", "c3", "c2"]),
        ("until=2026-03-02T08:30:00%2B08:00", ["c2", "c1"]),  # before, not at
        ("since=2026-03-02T08:20:00&until=2026-03-02T08:45:00", ["c4", "c3", "c2"]),  # local
        ("queue=110", ["c4"]),
        ("agent=op1", ["c5", "c1"]),
        ("caller=138-0013-8000", ["c4", "c1"]),  # any written form
        ("caller=%2B86%20138%200013%208000", ["c4", "c1"]),
        ("caller=0750-1234567", ["c2"]),
        ("caller=", ["c3"]),  # withheld
        ("outcome=answered", ["c4", "c1"]),
        ("outcome=abandoned", ["c2"]),
        ("outcome=missed", ["c3"]),
        ("outcome=live", ["c5"]),
        ("state=ringing", ["c5"]),
        ("state=ended", ["c4", "c2", "c1"]),
        ("queue=12345&outcome=answered", ["c1"]),
        ("case=404404", []),
    ],
)
def test_the_list_filters(api, floor, query, expected):
    assert ids(api("lead").get(f"/api/v1/calls?{query}")) == expected


def test_the_list_by_case(api, floor):
    assert ids(api("admin").get(f"/api/v1/calls?case={floor}")) == ["c1"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("outcome=hung", "outcome"),
        ("state=talking", "state"),
        ("since=yesterday", "since"),
        ("since=2026-03-02T09:00:00&until=2026-03-02T08:00:00", "until"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("queue=" + "q" * 33, "queue"),
        ("colour=red", "colour"),
    ],
)
def test_a_bad_filter(api, floor, query, field):
    error = assert_error(api("supervisor").get(f"/api/v1/calls?{query}"), 422)
    assert field in error["errors"]


def test_an_operator_reads_only_their_own_calls(api, floor):
    operator = api("operator")  # op1
    assert ids(operator.get("/api/v1/calls")) == ["c5", "c1"]
    assert ids(operator.get("/api/v1/calls?agent=op2")) == []
    assert operator.get("/api/v1/calls/c1").status_code == 200
    assert_error(operator.get("/api/v1/calls/c4"), 404)  # op2's


def test_the_phone_system_reads_every_call(pbx, floor):
    assert ids(pbx.get("/api/v1/calls")) == ["c5", "c4", "c3", "c2", "c1"]


@pytest.mark.parametrize("role", ["dispatcher", "handler", "callback"])
def test_other_roles_may_not_read_calls(api, floor, role):
    assert_error(api(role).get("/api/v1/calls"), 403)
    assert_error(api(role).get("/api/v1/calls/c1"), 403)


def test_an_auditor_may_not_read_calls(hotline_app, floor):
    from tests.api.conftest import ApiClient, make_token

    auditor = ApiClient(hotline_app, make_token(hotline_app, "audit1"))
    assert_error(auditor.get("/api/v1/calls"), 403)


def test_one_call_with_its_timeline(api, floor, hotline_app):
    link_case(hotline_app, "c4", floor)
    with hotline_app.app_context():  # the timeline says when each event was received
        get_hotline().clock.advance(timedelta(minutes=3))
    pbx = api("telephony")
    send(pbx, "c4", "transferred", -12, status=201)  # late, and before the end
    call = api("supervisor").get("/api/v1/calls/c4").json
    assert call["call_id"] == "c4" and call["case"] == floor and call["callback_id"] is None
    assert call["no_case_reason"] == ""
    assert call["state"] == "ended" and call["outcome"] == "answered"
    assert call["timeline"] == [
        {
            "event": "ringing",
            "at": "2026-03-02T08:40:00+08:00",
            "received_at": "2026-03-02T09:00:00+08:00",
            "agent": "op2",
            "payload": {"caller": "13800138000", "queue": "110"},
        },
        {
            "event": "answered",
            "at": "2026-03-02T08:40:30+08:00",
            "received_at": "2026-03-02T09:00:00+08:00",
            "agent": "op2",
            "payload": {},
        },
        {
            "event": "transferred",
            "at": "2026-03-02T08:48:00+08:00",
            "received_at": "2026-03-02T09:03:00+08:00",
            "agent": "",
            "payload": {},
        },
        {
            "event": "ended",
            "at": "2026-03-02T08:50:00+08:00",
            "received_at": "2026-03-02T09:00:00+08:00",
            "agent": "",
            "payload": {},
        },
    ]


def test_a_missed_call_shows_its_callback_task(api, floor):
    abandoned = api("supervisor").get("/api/v1/calls/c2").json
    assert abandoned["outcome"] == "abandoned" and isinstance(abandoned["callback_id"], int)
    assert abandoned["caller"] == "07501234567" and abandoned["wait_seconds"] == 60.0


def test_an_unknown_call(api):
    body = assert_error(api("supervisor").get("/api/v1/calls/no-such-call"), 404)
    assert "no-such-call" in body["message"]


# -- a telephony token does nothing else -------------------------------------------------------


def test_the_phone_system_knows_who_it_is(pbx):
    me = pbx.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json == {
        "username": "pbx",
        "display_name": "电话系统 Phone system",
        "role": "telephony",
        "department": None,
    }


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/v1/cases"),
        ("POST", "/api/v1/cases"),
        ("GET", "/api/v1/cases/{case}"),
        ("GET", "/api/v1/cases/{case}/history"),
        ("POST", "/api/v1/cases/{case}/notes"),
        ("GET", "/api/v1/tasks"),
        ("GET", "/api/v1/kpis"),
        ("GET", "/api/v1/definitions"),
        ("GET", "/api/v1/departments"),
        ("GET", "/api/v1/calendar/days"),
        ("POST", "/api/v1/supervision"),
    ],
)
def test_a_telephony_token_may_do_nothing_else(pbx, hotline_app, method, path):
    number = open_case(hotline_app)
    response = pbx.open(path.format(case=number), method, json={"body": "from the pbx"})
    body = assert_error(response, 403)
    assert "telephony" in body["message"]
    with hotline_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CaseNote)) == 0


def test_the_openapi_document_describes_the_calls_api(hotline_app):
    spec = hotline_app.test_client().get("/api/openapi.json").json
    post = spec["paths"]["/api/v1/calls/events"]["post"]
    assert spec["security"] == [{"bearerAuth": []}] and "security" not in post  # a user's token
    assert {"200", "201", "400", "415", "422"} <= set(post["responses"])
    body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    event_args = spec["components"]["schemas"][body]
    assert set(event_args["required"]) == {"call_id", "event", "at"}
    assert event_args["properties"]["event"]["enum"] == [
        "ringing",
        "answered",
        "ended",
        "missed",
        "transferred",
    ]
    assert "oneOf" in event_args["properties"]["ivr_path"]
    detail = spec["paths"]["/api/v1/calls/{call_id}"]["get"]["responses"]["200"]
    ref = detail["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert "timeline" in spec["components"]["schemas"][ref]["properties"]
    listed = {p["name"] for p in spec["paths"]["/api/v1/calls"]["get"]["parameters"]}
    expected = {"since", "until", "queue", "agent", "caller", "outcome", "state", "case"}
    assert expected | {"page", "per_page"} <= listed


# -- a case recorded through the API from a call ----------------------------------------------


def test_a_case_recorded_through_the_api_links_its_call(api, hotline_app, pbx):
    from tests.webapp.test_intake import INTAKE

    a_call(hotline_app, "api-case", agent="op1", caller="13800138000")
    operator = api("operator")
    created = operator.post("/api/v1/cases", json={**INTAKE, "call_id": "api-case"})
    assert created.status_code == 201, created.get_data(as_text=True)
    number = created.json["number"]
    got = pbx.get("/api/v1/calls/api-case").json
    assert got["case"] == number
    # the same call cannot record a second case, and nothing is half-made
    again = operator.post("/api/v1/cases", json={**INTAKE, "call_id": "api-case"})
    assert again.status_code == 422 and "call_id" in again.json["errors"]
    unknown = operator.post("/api/v1/cases", json={**INTAKE, "call_id": "no-such-call"})
    assert unknown.status_code == 422 and "call_id" in unknown.json["errors"]
    wrong_type = operator.post("/api/v1/cases", json={**INTAKE, "call_id": 7})
    assert wrong_type.status_code == 422 and "call_id" in wrong_type.json["errors"]
    listed = operator.get("/api/v1/cases?per_page=100").json
    assert listed["total"] == 1
