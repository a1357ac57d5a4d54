"""The screen pop (docs/calls.md, "Screen pop"): the operator's poll, the intake page opened
for a call, the case recorded linked to its call, a call with no case, a call about an
earlier case, and the case page's calls."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.webapp.pages import post as post_form
from tests.workflows.conftest import INTAKE
from webapp.extensions import db
from webapp.headers import allow_recordings
from webapp.hotline import get_hotline
from workflows.calls.models import AgentState, Call, CallCallback
from workflows.calls.service import CallEventIn, ingest
from workflows.cases import flows
from workflows.cases.models import Case

PHONE = "13800138000"


def post(client, path: str, data: dict, **kwargs):
    """POST with the CSRF token of the operator's intake page."""
    return post_form(client, path, data, token_from="/intake", **kwargs)


def send(app, call_id: str, event: str, seconds: float = 0, **fields) -> None:
    with app.app_context():
        hotline = get_hotline()
        ingest(
            db.session,
            CallEventIn(
                call_id=call_id,
                event=event,
                at=hotline.clock.now() + timedelta(seconds=seconds),
                **fields,
            ),
            clock=hotline.clock,
            calendar=hotline.calendar.get(),
        )


def answered(app, call_id: str = "c1", agent: str = "op1", caller: str = PHONE, **fields):
    send(app, call_id, "ringing", 0, caller=caller, queue="12345", agent=agent, **fields)
    send(app, call_id, "answered", 10, agent=agent)


def call_row(app, call_id: str) -> Call:
    with app.app_context():
        row = db.session.scalars(select(Call).where(Call.call_id == call_id)).one()
        db.session.expunge(row)
        return row


def case_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def newest_case(app) -> Case:
    with app.app_context():
        case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
        db.session.expunge(case)
        return case


def earlier_case(app, **overrides) -> str:
    with app.app_context():
        data = {**INTAKE, **overrides}
        return flows.open_case(db.session, get_hotline(), data=data, actor="op1").number


def agent_state(app, username: str) -> str:
    from workflows.users.service import by_username

    with app.app_context():
        row = db.session.get(AgentState, by_username(db.session, username).id)
        return row.state if row else "offline"


def dispatch(app, number: str, lead: str) -> None:
    from engine.models import HumanTask
    from workflows.users.service import by_username

    with app.app_context():
        session = db.session
        case = session.scalars(select(Case).where(Case.number == number)).one()
        task_id = session.scalar(
            select(HumanTask.task_id).where(
                HumanTask.instance_id == case.instance_id, HumanTask.state == "ready"
            )
        )
        flows.complete_task(
            session,
            get_hotline(),
            task_id=task_id,
            data={"lead_department": lead},
            user=by_username(session, "disp1"),
        )


# -- the poll ------------------------------------------------------------------------------


def test_nothing_new_is_204(as_role):
    op = as_role("operator")
    response = op.get("/calls/pop?seen=0")
    assert response.status_code == 204 and response.data == b""


def test_a_ringing_call_pops_up_once_for_the_operator_it_rang_at(hotline_app, as_role):
    op1, op2 = as_role("operator"), as_role("operator", "op2")
    send(hotline_app, "c1", "ringing", caller="138-0013-8000", queue="12345", agent="op1")
    answer = op1.get("/calls/pop?seen=0")
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["seq"] == 1
    assert data["call"] == {"call_id": "c1", "caller": PHONE, "queue": "12345", "state": "ringing"}
    assert "来电 13800138000" in data["banner"]
    # the page has shown it: nothing new until the next event at op1
    assert op1.get("/calls/pop?seen=1").status_code == 204
    # another operator sees nothing of it
    assert op2.get("/calls/pop?seen=0").status_code == 204
    send(hotline_app, "c1", "answered", 10, agent="op1")
    data = op1.get("/calls/pop?seen=1").get_json()
    assert (data["seq"], data["call"]["state"]) == (2, "answered")


@pytest.mark.parametrize("role", ["handler", "dispatcher", "supervisor", "lead"])
def test_other_roles_have_no_pop(hotline_app, as_role, role):
    answered(hotline_app)
    assert as_role(role).get("/calls/pop?seen=0").status_code == 403


def test_a_bad_seen_is_400(as_role):
    answer = as_role("operator").get("/calls/pop?seen=x")
    assert answer.status_code == 400 and "seen" in answer.get_json()["errors"]


def test_the_pop_shows_the_callers_earlier_cases_and_calls(hotline_app, as_role):
    first = earlier_case(hotline_app, description="路灯坏了三天")
    other = earlier_case(hotline_app, caller_phone="13900139000")
    answered(hotline_app, "c0")
    op = as_role("operator")
    post(op, "/calls/pop/no-case", {"call_id": "c0", "reason": "hung_up"})
    send(hotline_app, "c0", "ended", 60)
    get_hotline_clock(hotline_app).advance(timedelta(minutes=10))
    answered(hotline_app, "c1")
    data = op.get("/calls/pop?seen=0").get_json()
    history = data["history"]
    assert first in history and "路灯坏了三天" in history
    assert other not in history  # another caller's case
    calls = re.findall(r'data-call="([^"]+)"', history)
    assert calls == ["c0"]  # the earlier call, not this one
    assert "no case: 来电挂断" in history or "未立案：来电挂断" in history
    # the banner offers the earlier case to link the call to
    assert f'<option value="{first}">' in data["banner"]


def get_hotline_clock(app):
    with app.app_context():
        return get_hotline().clock


def test_a_withheld_number_pops_without_history(hotline_app, as_role):
    send(hotline_app, "c1", "ringing", queue="12345", agent="op1")
    data = as_role("operator").get("/calls/pop?seen=0").get_json()
    assert data["call"]["caller"] == ""
    assert "未显示号码" in data["banner"]


def test_a_missed_call_does_not_pop(hotline_app, as_role):
    send(hotline_app, "c1", "missed", caller=PHONE, agent="op1")
    assert as_role("operator").get("/calls/pop?seen=0").status_code == 204


def test_a_call_given_up_before_the_poll_moves_the_page_on(hotline_app, as_role):
    op = as_role("operator")
    # rang at op1 and the caller hung up before the page asked: nothing to show
    send(hotline_app, "c1", "ringing", caller=PHONE, queue="12345", agent="op1")
    send(hotline_app, "c1", "ended", 3)
    answer = op.get("/calls/pop?seen=0")
    assert (answer.status_code, answer.data) == (204, b"")
    # the page is told the counter it missed, so its next polls are the cheap ones again
    assert answer.headers["X-Pop-Seq"] == "1"
    again = op.get("/calls/pop?seen=1")
    assert again.status_code == 204 and "X-Pop-Seq" not in again.headers
    # the next call pops up as usual
    send(hotline_app, "c2", "ringing", 20, caller=PHONE, queue="12345", agent="op1")
    data = op.get("/calls/pop?seen=1").get_json()
    assert (data["seq"], data["call"]["call_id"]) == (2, "c2")


# -- the intake page -----------------------------------------------------------------------


def test_the_intake_page_opened_for_a_call_is_prefilled(hotline_app, as_role):
    answered(hotline_app, "c1")
    send(hotline_app, "c1", "ended", 100)  # after the call: not shown by itself any more
    op = as_role("operator")
    plain = op.get("/intake").get_data(as_text=True)
    assert 'name="call_id" id="intake-call-id" value=""' in plain
    html = op.get("/intake?call=c1").get_data(as_text=True)
    assert 'name="call_id" id="intake-call-id" value="c1"' in html
    assert f'id="f_caller_phone" name="caller_phone" type="tel" value="{PHONE}"' in html or (
        re.search(rf'id="f_caller_phone"[^>]*value="{PHONE}"', html)
    )
    assert "来电 13800138000" in html
    assert 'data-seen="2"' in html  # the poll starts after what the page shows


def test_the_intake_page_during_a_call_shows_it(hotline_app, as_role):
    answered(hotline_app, "c1")
    html = as_role("operator").get("/intake").get_data(as_text=True)
    assert 'id="intake-call-id" value="c1"' in html
    assert re.search(rf'id="f_caller_phone"[^>]*value="{PHONE}"', html)


def test_a_foreign_call_is_not_prefilled(hotline_app, as_role):
    answered(hotline_app, "c1", agent="op2")
    html = as_role("operator").get("/intake?call=c1").get_data(as_text=True)
    assert 'id="intake-call-id" value=""' in html
    assert "did not ring or was not answered at you" in html or "不是在您这里" in html
    assert not re.search(rf'id="f_caller_phone"[^>]*value="{PHONE}"', html)


# -- linking a case ------------------------------------------------------------------------


def test_the_case_recorded_links_its_call_and_ends_wrap_up(hotline_app, as_role):
    answered(hotline_app, "c1")
    send(hotline_app, "c1", "ended", 100, recording_url="https://rec.pbx.example/c1.wav")
    assert agent_state(hotline_app, "op1") == "after_call_work"
    op = as_role("operator")
    get_hotline_clock(hotline_app).advance(timedelta(seconds=130))
    response = post(op, "/intake", {**INTAKE, "call_id": "c1"})
    assert response.status_code == 303
    case = newest_case(hotline_app)
    row = call_row(hotline_app, "c1")
    assert (row.case_id, row.settled_by) == (case.id, "op1")
    assert row.settled_at is not None
    assert row.wrap_seconds == 30  # ended at +100 s, recorded at +130 s
    assert agent_state(hotline_app, "op1") == "available"


@pytest.mark.parametrize(
    ("call_id", "message"),
    [
        ("nope", "There is no call nope."),
        ("theirs", "The call theirs did not ring or was not answered at you."),
        ("missed", "The call missed was not answered"),
        ("settled", "The call settled is already recorded with case"),
    ],
)
def test_a_bad_call_refuses_the_case_whole(hotline_app, as_role, call_id, message):
    answered(hotline_app, "theirs", agent="op2")
    send(hotline_app, "missed", "ringing", caller=PHONE, agent="op1")
    send(hotline_app, "missed", "ended", 30)
    answered(hotline_app, "settled")
    op = as_role("operator")
    assert post(op, "/intake", {**INTAKE, "call_id": "settled"}).status_code == 303
    before = case_count(hotline_app)
    en = {"Accept-Language": "en"}
    response = post(op, "/intake", {**INTAKE, "call_id": call_id}, headers=en)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert case_count(hotline_app) == before  # no case, no half of one
    # sent again, the case is recorded without the call
    assert 'id="intake-call-id" value=""' in html
    assert post(op, "/intake", {**INTAKE, "call_id": ""}).status_code == 303
    assert case_count(hotline_app) == before + 1


def test_a_callback_task_is_done_by_the_case_recorded_from_it(hotline_app, as_role):
    send(hotline_app, "m1", "missed", caller="13700137000", queue="12345")
    with hotline_app.app_context():
        task_id = db.session.scalar(select(CallCallback.id))
    op = as_role("operator")
    html = op.get(f"/intake?callback={task_id}").get_data(as_text=True)
    assert re.search(r'id="f_caller_phone"[^>]*value="13700137000"', html)
    assert f'id="intake-callback" value="{task_id}"' in html
    data = {**INTAKE, "caller_phone": "13700137000", "callback": str(task_id)}
    assert post(op, "/intake", data).status_code == 303
    case = newest_case(hotline_app)
    with hotline_app.app_context():
        task = db.session.get(CallCallback, task_id)
        assert (task.case_id, task.state, task.outcome) == (case.id, "done", "reached")
    # a task already recorded with a case refuses a second one
    before = case_count(hotline_app)
    response = post(op, "/intake", data, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert f"already recorded with case {case.number}" in response.get_data(as_text=True)
    assert case_count(hotline_app) == before


# -- no case, an earlier case --------------------------------------------------------------


def test_a_call_with_no_case_is_recorded_with_its_reason(hotline_app, as_role):
    answered(hotline_app, "c1")
    send(hotline_app, "c1", "ended", 20)
    op = as_role("operator")
    response = post(op, "/calls/pop/no-case", {"call_id": "c1", "reason": "wrong_number"})
    assert response.status_code == 303 and response.headers["Location"] == "/intake"
    row = call_row(hotline_app, "c1")
    assert (row.no_case_reason, row.case_id, row.settled_by) == ("wrong_number", None, "op1")
    assert agent_state(hotline_app, "op1") == "available"
    assert "打错电话" in op.get("/intake").get_data(as_text=True)  # the flash


@pytest.mark.parametrize(
    ("form", "field_message"),
    [
        ({"reason": "other", "note": "  "}, "a note is required"),
        ({"reason": "because"}, "Choose why the call made no case."),
        ({"reason": ""}, "Choose why the call made no case."),
        ({"reason": "silent", "note": "x" * 501}, "at most 500 characters"),
    ],
)
def test_no_case_needs_a_reason_and_other_a_note(hotline_app, as_role, form, field_message):
    answered(hotline_app, "c1")
    op = as_role("operator")
    response = post(
        op,
        "/calls/pop/no-case",
        {"call_id": "c1", **form},
        headers={"X-Pop": "1", "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    row = call_row(hotline_app, "c1")
    assert (row.no_case_reason, row.settled_at) == ("", None)
    ok = post(
        op,
        "/calls/pop/no-case",
        {"call_id": "c1", "reason": "other", "note": "问路"},
        headers={"X-Pop": "1"},
    )
    assert ok.status_code == 200 and "其他" in ok.get_data(as_text=True)
    assert call_row(hotline_app, "c1").no_case_note == "问路"


def test_no_case_for_a_call_recorded_with_a_case_is_refused(hotline_app, as_role):
    answered(hotline_app, "c1")
    op = as_role("operator")
    assert post(op, "/intake", {**INTAKE, "call_id": "c1"}).status_code == 303
    response = post(op, "/calls/pop/no-case", {"call_id": "c1", "reason": "silent"})
    assert response.status_code == 303 and "call=c1" in response.headers["Location"]
    assert call_row(hotline_app, "c1").no_case_reason == ""


def test_a_call_about_an_earlier_case(hotline_app, as_role):
    number = earlier_case(hotline_app)
    answered(hotline_app, "c1")
    op = as_role("operator")
    response = post(
        op, "/calls/pop/about", {"call_id": "c1", "case": number}, headers={"X-Pop": "1"}
    )
    assert response.status_code == 200
    assert number in response.get_data(as_text=True)
    with hotline_app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.number == number))
    assert call_row(hotline_app, "c1").case_id == case_id
    # the case page lists the call
    html = as_role("supervisor").get(f"/cases/{number}").get_data(as_text=True)
    assert 'data-call="c1"' in html


def test_about_an_unknown_case_names_the_field(hotline_app, as_role):
    answered(hotline_app, "c1")
    response = post(
        as_role("operator"),
        "/calls/pop/about",
        {"call_id": "c1", "case": "NOPE"},
        headers={"X-Pop": "1", "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "There is no case NOPE you may see." in response.get_data(as_text=True)
    assert call_row(hotline_app, "c1").case_id is None


# -- the case page ---------------------------------------------------------------------------


def test_the_case_page_lists_its_calls_with_a_player(hotline_app, as_role):
    answered(hotline_app, "c1", recording_url="https://rec.pbx.example/c1.wav")
    send(hotline_app, "c1", "ended", 70)
    answered(hotline_app, "c2", recording_url="javascript:alert(1)")
    op = as_role("operator")
    assert post(op, "/intake", {**INTAKE, "call_id": "c1"}).status_code == 303
    number = newest_case(hotline_app).number
    assert post(op, "/calls/pop/about", {"call_id": "c2", "case": number}).status_code == 303
    html = as_role("supervisor").get(f"/cases/{number}").get_data(as_text=True)
    section = html[html.index('id="calls"') : html.index('id="deadlines"')]
    assert re.findall(r'data-call="([^"]+)"', section) == ["c1", "c2"]
    # the recording host is not allowed (HOTLINE_RECORDING_HOSTS): linked, not played
    assert "<audio" not in section
    assert 'href="https://rec.pbx.example/c1.wav"' in section
    allow_recordings(hotline_app, "https://rec.pbx.example")
    response = as_role("supervisor").get(f"/cases/{number}")
    policy = response.headers["Content-Security-Policy"]
    assert policy.endswith("; media-src 'self' https://rec.pbx.example")
    html = response.get_data(as_text=True)
    section = html[html.index('id="calls"') : html.index('id="deadlines"')]
    assert '<audio controls preload="none" src="https://rec.pbx.example/c1.wav"' in section
    assert section.count("<audio") == 1
    assert "javascript:" not in section  # no player for what is not http(s)
    assert "0:10" in section and "1:00" in section  # wait 10 s, talk 60 s
    assert "13800138000" in section  # the centre sees the number
    # the department's handler sees the case's phone masked there, and the calls' too
    dispatch(hotline_app, number, "B-MR")
    text = as_role("handler").get(f"/cases/{number}").get_data(as_text=True)
    part = text[text.index('id="calls"') : text.index('id="deadlines"')]
    assert "13800138000" not in part and "138****8000" in part


def test_recording_hosts_open_the_media_policy(hotline_app, as_role):
    from webapp.headers import PAGE_CSP, page_csp, recording_hosts

    assert hotline_app.extensions["hotline.page_csp"] == PAGE_CSP  # none set: unchanged
    hosts = recording_hosts("https://rec.pbx.example, http://10.0.0.5:8080")
    assert page_csp(hosts).endswith(
        "; media-src 'self' https://rec.pbx.example http://10.0.0.5:8080"
    )
    from webapp.config import ConfigError

    for bad in ("rec.pbx.example", "https://x/path", "ftp://x", "https://x'; script-src *"):
        with pytest.raises(ConfigError):
            recording_hosts(bad)


# -- the translations ----------------------------------------------------------------------


def test_every_string_of_the_pop_has_a_chinese_translation():
    root = Path(__file__).resolve().parents[2]
    files = [
        root / "webapp/calls/pop.py",
        root / "webapp/templates/calls/_pop.html",
        root / "webapp/templates/calls/_pop_history.html",
    ]
    catalog = "".join(
        p.read_text(encoding="utf-8")
        for p in (root / "webapp").rglob("translations/zh/LC_MESSAGES/*.po")
    )
    missing = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for msgid in re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', text):
            if f'msgid "{msgid}"' not in catalog:
                missing.append(msgid)
    assert missing == []
