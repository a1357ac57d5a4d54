"""The on-duty lead's board page (``/calls/board``) and operators setting their own state
(``/calls/state``, the control in the page header): who may, what they see, bad input."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from tests.webapp.pages import csrf_token, login
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.calls.models import AgentState, Call
from workflows.calls.service import CallEventIn, ingest
from workflows.users.service import by_username

from .test_urgency import EN

#: the tests' clock: Monday 2 March 2026, 09:00 in Beijing (01:00 UTC)
NOW = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


def send(app, call_id: str, event: str, at: datetime, **fields) -> None:
    with app.app_context():
        hotline = get_hotline()
        ingest(
            db.session,
            CallEventIn(call_id=call_id, event=event, at=at, **fields),
            clock=hotline.clock,
            calendar=hotline.calendar.get(),
        )


def state_of(app, username: str) -> tuple[str, str] | None:
    with app.app_context():
        row = db.session.get(AgentState, by_username(db.session, username).id)
        return (row.state, row.set_by) if row is not None else None


def set_state(client, state: str, next_page: str = "/intake"):
    return client.post(
        "/calls/state",
        data={"state": state, "next": next_page, "csrf_token": csrf_token(client, "/intake")},
    )


def header_state(html: str) -> str | None:
    found = re.search(r'class="agent-now state-[a-z_]+" data-state="([a-z_]+)"', html)
    return found.group(1) if found else None


def test_who_sees_the_board(as_role):
    for role in ("lead", "supervisor", "admin"):
        client = as_role(role)
        page = client.get("/calls/board")
        assert page.status_code == 200, role
        assert "值班长看板" in page.get_data(as_text=True)
        assert 'href="/calls/board"' in client.get("/cases").get_data(as_text=True)  # the nav
    for role in ("operator", "handler", "dispatcher", "callback"):
        client = as_role(role)
        assert client.get("/calls/board").status_code == 403, role
        assert 'href="/calls/board"' not in client.get("/cases").get_data(as_text=True)


def test_the_board_shows_the_floor(hotline_app, as_role):
    send(hotline_app, "b1", "ringing", NOW - timedelta(seconds=75), caller="13800138000")
    send(hotline_app, "b2", "ringing", NOW - timedelta(minutes=3), caller="13700137000")
    send(hotline_app, "b2", "answered", NOW - timedelta(minutes=2), agent="op1")
    send(hotline_app, "b3", "missed", NOW - timedelta(minutes=1), caller="13600136000")
    html = as_role("lead").get("/calls/board").get_data(as_text=True)
    waiting = html[html.index('id="waiting-calls"') : html.index('id="talking-calls"')]
    assert 'data-call="b1"' in waiting and "138****8000" in waiting  # masked: a wall screen
    assert "13800138000" not in html
    assert 'data-seconds="75">1:15<' in waiting
    talking = html[html.index('id="talking-calls"') : html.index('id="operators"')]
    assert 'data-call="b2"' in talking and "接线员 李娜 Li Na" in talking
    operators = html[html.index('id="operators"') :]
    assert re.search(r'data-operator="op1" data-state="on_call">\s*<td>接线员 李娜', operators)
    assert 'data-operator="op2" data-state="offline"' in operators
    assert "通话中" in operators and "离线" in operators
    # 3 calls today, 1 answered: 33.3%, red against the 95% target; one task to call back
    assert '<div class="tile alert" id="tile-answer-rate" data-below-target="yes">' in html
    rate = html[html.index('id="tile-answer-rate"') : html.index('id="tile-abandon-rate"')]
    assert "33.3%" in rate and "呼入 3，接通 1；目标 95.0%" in rate
    backlog = html[html.index('id="tile-backlog"') :]
    assert re.search(r'<span class="figure">1</span>', backlog)
    english = as_role("lead").get("/calls/board", headers=EN).get_data(as_text=True)
    assert "<h1>On-duty lead's board</h1>" in english and "Answer rate today" in english


def test_an_answer_rate_at_target_is_not_red(hotline_app, as_role):
    send(hotline_app, "g1", "ringing", NOW - timedelta(minutes=3), caller="13800138000")
    send(hotline_app, "g1", "answered", NOW - timedelta(minutes=2), agent="op1")
    html = as_role("lead").get("/calls/board").get_data(as_text=True)
    assert '<div class="tile" id="tile-answer-rate" data-below-target="no">' in html
    rate = html[html.index('id="tile-answer-rate"') : html.index('id="tile-abandon-rate"')]
    assert "100.0%" in rate


def test_an_operator_sets_their_state(hotline_app, as_role):
    client = as_role("operator")  # signing in made op1 available
    assert state_of(hotline_app, "op1") == ("available", "sign-in")
    assert header_state(client.get("/intake").get_data(as_text=True)) == "available"

    response = set_state(client, "away", "/cases?page=2")
    assert response.status_code == 303 and response.headers["Location"] == "/cases?page=2"
    assert state_of(hotline_app, "op1") == ("away", "self")
    html = client.get("/intake").get_data(as_text=True)
    assert header_state(html) == "away"
    assert '<span class="agent-now state-away" data-state="away">离开</span>' in html
    # the other choices are the buttons
    assert 'value="available" class="link" aria-label="将我的状态设为：空闲">空闲<' in html
    assert 'value="away"' not in html

    # a page elsewhere is no place to go back to
    assert set_state(client, "offline", "https://evil.example/").headers["Location"] == "/"
    assert state_of(hotline_app, "op1") == ("offline", "self")


def test_after_call_work_ends_when_the_operator_is_available(hotline_app, as_role, clock):
    client = as_role("operator")
    send(hotline_app, "w1", "ringing", NOW, caller="13800138000", agent="op1")
    send(hotline_app, "w1", "answered", NOW + timedelta(seconds=5), agent="op1")
    send(hotline_app, "w1", "ended", NOW + timedelta(seconds=65))
    assert header_state(client.get("/intake").get_data(as_text=True)) == "after_call_work"
    clock.advance(timedelta(seconds=95))  # 30 seconds after the end
    set_state(client, "available")
    assert state_of(hotline_app, "op1") == ("available", "self")
    with hotline_app.app_context():
        call = db.session.scalars(select(Call).where(Call.call_id == "w1")).one()
        assert call.wrap_seconds == 30


def test_a_state_not_theirs_to_set_is_refused(hotline_app, as_role):
    client = as_role("operator")
    for bad in ("on_call", "after_call_work", "asleep", ""):
        response = set_state(client, bad)
        assert response.status_code == 400, bad
        text = response.get_data(as_text=True)
        assert "状态：请选择 空闲, 离开, 离线 之一。" in text
        assert state_of(hotline_app, "op1") == ("available", "sign-in")  # unchanged
    # no CSRF token: refused before anything runs
    assert client.post("/calls/state", data={"state": "away"}).status_code == 400
    assert state_of(hotline_app, "op1") == ("available", "sign-in")


def test_only_operators_set_a_state(as_role):
    for role in ("lead", "handler"):
        client = as_role(role)
        token = csrf_token(client, "/cases")
        response = client.post("/calls/state", data={"state": "away", "csrf_token": token})
        assert response.status_code == 403, role
        assert 'id="live-agent-state"' not in client.get("/cases").get_data(as_text=True)


def test_signing_out_is_offline_and_in_available(hotline_app, as_role):
    client = as_role("operator")
    set_state(client, "away")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/intake")})
    assert state_of(hotline_app, "op1") == ("offline", "sign-out")
    login(client, "op1")
    assert state_of(hotline_app, "op1") == ("available", "sign-in")


def test_signing_in_on_a_call_keeps_it(hotline_app, client):
    send(hotline_app, "s1", "ringing", NOW, caller="13800138000", agent="op2")
    send(hotline_app, "s1", "answered", NOW, agent="op2")
    login(client, "op2")
    assert state_of(hotline_app, "op2") == ("on_call", "call")


def test_the_live_tokens(hotline_app, as_role, clock):
    lead = as_role("lead")
    token = lead.get("/live?views=call_board").get_json()["versions"]["call_board"]
    page = lead.get("/calls/board").get_data(as_text=True)
    assert f'data-live-view="call_board" data-live-version="{token}"' in page
    send(hotline_app, "t1", "ringing", NOW, caller="13800138000")
    moved = lead.get("/live?views=call_board").get_json()["versions"]["call_board"]
    assert moved != token
    assert lead.get("/live?views=call_board").get_json()["versions"]["call_board"] == moved
    assert as_role("operator").get("/live?views=call_board").status_code == 403

    operator = as_role("operator")
    before = operator.get("/live?views=agent_state").get_json()["versions"]["agent_state"]
    send(hotline_app, "t1", "answered", NOW + timedelta(seconds=3), agent="op1")
    after = operator.get("/live?views=agent_state").get_json()["versions"]["agent_state"]
    assert after != before
    assert lead.get("/live?views=agent_state").status_code == 403
