"""The missed-call callback pages (``/calls/callbacks``) and the call settings
(``/admin/calls``): who may, the list by wait, the forms and their errors, the landing line."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from tests.webapp.pages import csrf_token
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.audit.models import AuditEntry
from workflows.calls.models import CallCallback, CallSettings
from workflows.calls.service import CallEventIn, ingest

from .test_urgency import EN

#: the tests' clock: Monday 2 March 2026, 09:00 in Beijing
NOW = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


def missed(app, call_id: str, at: datetime, caller: str) -> int:
    with app.app_context():
        hotline = get_hotline()
        ingest(
            db.session,
            CallEventIn(call_id=call_id, event="missed", at=at, caller=caller),
            clock=hotline.clock,
            calendar=hotline.calendar.get(),
        )
        return db.session.scalar(
            select(CallCallback.id).where(CallCallback.caller == caller.replace("-", ""))
        )


def task(app, callback_id: int) -> CallCallback:
    with app.app_context():
        row = db.session.get(CallCallback, callback_id)
        db.session.expunge(row)
        return row


def post(client, path: str, **data):
    data["csrf_token"] = csrf_token(client, "/calls/callbacks")
    return client.post(path, data=data)


def test_who_sees_the_tasks(hotline_app, as_role):
    tid = missed(hotline_app, "p1", NOW - timedelta(minutes=5), "13800138000")
    for role in ("operator", "lead", "supervisor", "admin"):
        client = as_role(role)
        assert client.get("/calls/callbacks").status_code == 200, role
        assert client.get(f"/calls/callbacks/{tid}").status_code == 200, role
    for role in ("handler", "dispatcher", "callback", "auditor"):
        client = as_role(role)
        assert client.get("/calls/callbacks").status_code == 403, role
        assert client.get(f"/calls/callbacks/{tid}").status_code == 403, role
    supervisor = as_role("supervisor")
    assert post(supervisor, f"/calls/callbacks/{tid}/claim").status_code == 403
    html = supervisor.get("/calls/callbacks").get_data(as_text=True)
    assert "138****8000" in html and "13800138000" not in html  # watching, not calling
    assert as_role("operator").get("/calls/callbacks/999999").status_code == 404


def test_the_list_is_by_wait_with_its_marks(hotline_app, as_role, clock):
    late = missed(hotline_app, "l1", NOW - timedelta(minutes=10), "13700137000")
    first = missed(hotline_app, "l2", NOW - timedelta(hours=3), "13600136000")  # Sunday night
    client = as_role("operator")
    html = client.get("/calls/callbacks").get_data(as_text=True)
    assert re.findall(r'<tr data-id="(\d+)"', html) == [str(first), str(late)]
    assert "未接来电回拨" in html and "13600136000" in html
    # Sunday 06:00 and Monday 08:50 are both due at 11:00 (two working hours from 9:00)
    assert html.count("2026-03-02 11:00") == 2
    clock.advance(timedelta(hours=1, minutes=50))  # 10:50: past 80% of both waits
    html = client.get("/calls/callbacks").get_data(as_text=True)
    assert f'<tr data-id="{first}" class="yellow">' in html
    clock.advance(timedelta(minutes=10))  # 11:00: overdue
    html = client.get("/calls/callbacks").get_data(as_text=True)
    assert f'<tr data-id="{first}" class="red">' in html
    landing = client.get("/intake").get_data(as_text=True)
    assert "未接来电回拨 2 件" in landing
    assert 'href="/calls/callbacks"' in landing  # the nav and the line


def test_claim_conflict_and_attempts(hotline_app, as_role):
    tid = missed(hotline_app, "c1", NOW - timedelta(minutes=5), "13800138000")
    op1 = as_role("operator")
    response = post(op1, f"/calls/callbacks/{tid}/claim")
    assert response.status_code == 303
    assert task(hotline_app, tid).claimed_by == "op1"
    lead = as_role("lead")
    response = post(lead, f"/calls/callbacks/{tid}/claim")
    assert response.status_code == 409
    assert "op1 正在回拨" in response.get_data(as_text=True)
    # the form's errors, each on its field; nothing recorded
    response = post(op1, f"/calls/callbacks/{tid}/attempt", result="not_reached", then="close")
    assert response.status_code == 422
    assert "原因" in response.get_data(as_text=True)
    response = post(op1, f"/calls/callbacks/{tid}/attempt", result="reached", then="close")
    assert response.status_code == 422 and "备注" in response.get_data(as_text=True)
    response = post(op1, f"/calls/callbacks/{tid}/attempt", then="close")
    assert response.status_code == 422 and "结果" in response.get_data(as_text=True)
    assert task(hotline_app, tid).attempts == 0
    response = post(
        op1, f"/calls/callbacks/{tid}/attempt", result="not_reached", reason="busy", then="close"
    )
    assert response.status_code == 303
    row = task(hotline_app, tid)
    assert (row.state, row.attempts, row.claimed_by) == ("open", 1, "")
    response = post(
        op1, f"/calls/callbacks/{tid}/attempt", result="reached", note="已答复，无需立案",
        then="close",
    )  # fmt: skip
    assert response.status_code == 303
    row = task(hotline_app, tid)
    assert (row.state, row.outcome, row.closed_by) == ("done", "reached", "op1")
    html = op1.get(f"/calls/callbacks/{tid}").get_data(as_text=True)
    assert "已答复，无需立案" in html and "忙线" in html
    with hotline_app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_type == "call_callback")
        ).all()
    assert actions == ["call_callback.claim", "call_callback.attempt", "call_callback.attempt"]
    # closed: a clear refusal
    response = post(op1, f"/calls/callbacks/{tid}/claim")
    assert response.status_code == 409 and "已关闭" in response.get_data(as_text=True)


def test_reached_with_a_case_to_record_goes_to_intake(hotline_app, as_role):
    tid = missed(hotline_app, "k1", NOW - timedelta(minutes=5), "13800138000")
    op1 = as_role("operator")
    response = post(op1, f"/calls/callbacks/{tid}/attempt", result="reached", then="case")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/intake?callback={tid}"
    row = task(hotline_app, tid)
    assert (row.state, row.claimed_by, row.attempts) == ("open", "op1", 1)


def test_the_closed_filter(hotline_app, as_role):
    tid = missed(hotline_app, "f1", NOW - timedelta(minutes=5), "13800138000")
    op1 = as_role("operator")
    post(op1, f"/calls/callbacks/{tid}/attempt", result="not_reached", reason="wrong_number")
    assert f'data-id="{tid}"' not in op1.get("/calls/callbacks").get_data(as_text=True)
    html = op1.get("/calls/callbacks?show=closed").get_data(as_text=True)
    assert f'data-id="{tid}"' in html and "无法联系" in html


def test_the_live_token_moves(hotline_app, as_role):
    client = as_role("operator")
    token = client.get("/live?views=call_callbacks").get_json()["versions"]["call_callbacks"]
    missed(hotline_app, "t1", NOW - timedelta(minutes=5), "13800138000")
    after = client.get("/live?views=call_callbacks").get_json()["versions"]["call_callbacks"]
    assert after != token
    assert as_role("handler").get("/live?views=call_callbacks").status_code == 403


def test_admin_call_settings(hotline_app, as_role):
    assert as_role("lead").get("/admin/calls").status_code == 403
    admin = as_role("admin")
    page = admin.get("/admin/calls")
    assert page.status_code == 200 and 'value="1440"' in page.get_data(as_text=True)
    good = {
        "callback_value": "4",
        "callback_unit": "hours",
        "repeat_window_minutes": "60",
        "callback_attempts": "2",
        "stale_minutes": "30",
        "answer_rate_target": "0.9",
    }
    bad = {
        "callback_value": "0",
        "callback_unit": "weeks",
        "repeat_window_minutes": "x",
        "callback_attempts": "",
        "stale_minutes": "-5",
        "answer_rate_target": "95",
    }
    token = csrf_token(admin, "/admin/calls")
    response = admin.post("/admin/calls", data={**bad, "csrf_token": token}, headers=EN)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for name in bad:
        assert re.search(rf'has-error">\s*<label for="f_{name}"', html), name
    assert "Between 0 and 1, such as 0.95." in html
    with hotline_app.app_context():
        assert db.session.get(CallSettings, 1) is None  # nothing saved
    response = admin.post("/admin/calls", data={**good, "csrf_token": token})
    assert response.status_code == 303
    with hotline_app.app_context():
        row = db.session.get(CallSettings, 1)
        assert (row.callback_value, row.callback_unit, row.callback_attempts) == (4, "hours", 2)
        assert (row.answer_rate_target, row.updated_by) == (0.9, "admin")
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "call_settings.update")
        ).one()
        assert entry.detail["callback_unit"] == "hours"
    # a new missed call is due 4 hours later
    tid = missed(hotline_app, "s1", NOW - timedelta(hours=1), "13800138000")
    assert task(hotline_app, tid).due_at == NOW + timedelta(hours=3)


def test_the_lead_gives_back_a_task_left_claimed(hotline_app, as_role):
    tid = missed(hotline_app, "c1", NOW - timedelta(minutes=5), "13800138000")
    op1, op2, lead = as_role("operator"), as_role("operator", "op2"), as_role("lead")
    post(op1, f"/calls/callbacks/{tid}/claim")
    # another operator may not; the page offers them nothing
    assert 'id="free-form"' not in op2.get(f"/calls/callbacks/{tid}").get_data(as_text=True)
    assert post(op2, f"/calls/callbacks/{tid}/release").status_code == 409
    assert task(hotline_app, tid).claimed_by == "op1"
    # the on-duty lead may
    assert 'id="free-form"' in lead.get(f"/calls/callbacks/{tid}").get_data(as_text=True)
    assert post(lead, f"/calls/callbacks/{tid}/release").status_code == 303
    assert task(hotline_app, tid).claimed_by == ""
    with hotline_app.app_context():
        (entry,) = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "call_callback.release")
        ).all()
        assert (entry.actor_name, entry.detail["held_by"]) == ("lead1", "op1")
    assert post(op2, f"/calls/callbacks/{tid}/claim").status_code == 303
    assert post(lead, "/calls/callbacks/999/release").status_code == 404


def test_numbers_shown_in_full_are_audited(hotline_app, as_role):
    tid = missed(hotline_app, "c1", NOW - timedelta(minutes=5), "13800138000")
    missed(hotline_app, "c2", NOW - timedelta(minutes=4), "13900139000")

    def views() -> list[tuple[str, int]]:
        with hotline_app.app_context():
            rows = db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "personal.view")
                .order_by(AuditEntry.id)
            ).all()
            return [(e.detail["channel"], e.detail["in_full"]) for e in rows]

    before = views()
    # a supervisor sees the numbers masked: nothing personal seen
    assert "138****8000" in as_role("supervisor").get("/calls/callbacks").get_data(as_text=True)
    as_role("supervisor").get(f"/calls/callbacks/{tid}")
    assert views() == before
    # an operator sees them in full: one row for the list (two numbers), one for the task
    op1 = as_role("operator")
    assert "13800138000" in op1.get("/calls/callbacks").get_data(as_text=True)
    op1.get(f"/calls/callbacks/{tid}")
    assert views()[len(before) :] == [("list", 2), ("page", 1)]
