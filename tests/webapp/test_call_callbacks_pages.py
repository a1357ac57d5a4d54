"""The missed-call callback pages (``/calls/callbacks``) and the call settings
(``/admin/calls``): the list by wait with its deadline marks, a task worked from claim to
close, conflicts and bad input, who may, the line on the operators' start page."""

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
            CallEventIn(call_id=call_id, event="missed", at=at, caller=caller, queue="12345"),
            clock=hotline.clock,
            calendar=hotline.calendar.get(),
        )
        return db.session.scalar(select(CallCallback.id).where(CallCallback.caller == caller))


def task(app, task_id: int) -> CallCallback:
    with app.app_context():
        row = db.session.get(CallCallback, task_id)
        db.session.expunge(row)
        return row


def post(client, path: str, data: dict | None = None, **kwargs):
    token = csrf_token(client, "/calls/callbacks")
    return client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)


def listed(html: str) -> list[str]:
    """The list's rows as their numbers (as shown) and deadline marks."""
    return re.findall(r'data-due="(\w+)">\s*<td class="phone"><a [^>]*>([^<]+)</a>', html)


def audits(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_list_by_wait_with_deadline_marks(hotline_app, as_role, clock):
    # Friday 16:00: due Monday 10:00, red by Monday 11:00
    missed(hotline_app, "c1", NOW - timedelta(days=2, hours=17), "13800000001")
    # today 09:00: due 11:00; 80% of two working hours is at 10:36
    missed(hotline_app, "c2", NOW, "13800000002")
    # Sunday night: due 11:00 too, but it has waited longer
    missed(hotline_app, "c3", NOW - timedelta(hours=10), "13800000003")
    clock.advance(timedelta(hours=1, minutes=40))  # 10:40
    operator = as_role("operator")
    html = operator.get("/calls/callbacks").get_data(as_text=True)
    assert listed(html) == [
        ("red", "13800000001"),
        ("yellow", "13800000003"),
        ("yellow", "13800000002"),
    ]
    assert "3 位未接来电人等待回拨" in html
    assert 'data-live-view="call_callbacks"' in html
    # supervisors see the numbers masked, as on the case lists
    html = as_role("supervisor").get("/calls/callbacks").get_data(as_text=True)
    assert [number for _due, number in listed(html)] == [
        "138****0001",
        "138****0003",
        "138****0002",
    ]


def test_a_task_from_claim_to_no_case_needed(hotline_app, as_role):
    task_id = missed(hotline_app, "c1", NOW, "13800138000")
    op1 = as_role("operator")
    page = op1.get(f"/calls/callbacks/{task_id}").get_data(as_text=True)
    assert "13800138000" in page and "认领回拨" in page
    answer = post(op1, f"/calls/callbacks/{task_id}/claim")
    assert answer.status_code == 303
    assert task(hotline_app, task_id).claimed_by == "op1"
    # another operator: a conflict naming who works on it, nothing changes
    op2 = as_role("operator", "op2")
    refused = post(op2, f"/calls/callbacks/{task_id}/attempts", {"result": "reached"})
    assert refused.status_code == 409
    assert "正在处理该回拨任务" in refused.get_data(as_text=True)
    assert post(op2, f"/calls/callbacks/{task_id}/claim").status_code == 409
    assert task(hotline_app, task_id).attempts == 0
    # op1 reaches the caller: the case link and the close form appear
    post(op1, f"/calls/callbacks/{task_id}/attempts", {"result": "reached", "note": "公交时刻"})
    page = op1.get(f"/calls/callbacks/{task_id}").get_data(as_text=True)
    assert f'href="/intake?callback={task_id}"' in page
    # closing with no note: the note is named, nothing closes
    empty = post(op1, f"/calls/callbacks/{task_id}/close", {"note": " "})
    assert empty.status_code == 400 and "备注" in empty.get_data(as_text=True)
    assert task(hotline_app, task_id).state == "open"
    done = post(op1, f"/calls/callbacks/{task_id}/close", {"note": "已告知公交时刻，无需登记"})
    assert done.status_code == 303
    row = task(hotline_app, task_id)
    assert (row.state, row.outcome, row.closed_by, row.note) == (
        "done",
        "reached",
        "op1",
        "已告知公交时刻，无需登记",
    )
    assert [e.action for e in audits(hotline_app, "call_callback.close")] == ["call_callback.close"]
    assert len(audits(hotline_app, "call_callback.attempt")) == 1
    closed = op1.get("/calls/callbacks?show=closed").get_data(as_text=True)
    assert "13800138000" in closed and "已联系上来电人" in closed
    assert "13800138000" not in op1.get("/calls/callbacks").get_data(as_text=True)


def test_failed_attempts_then_unreachable(hotline_app, as_role):
    task_id = missed(hotline_app, "c1", NOW, "13800138000")
    op1 = as_role("operator")
    for reason in ("no_answer", "busy"):
        answer = post(
            op1, f"/calls/callbacks/{task_id}/attempts", {"result": "not_reached", "reason": reason}
        )
        assert answer.status_code == 303
    row = task(hotline_app, task_id)
    assert (row.state, row.attempts, row.claimed_by) == ("open", 2, "")
    post(op1, f"/calls/callbacks/{task_id}/attempts", {"result": "not_reached", "reason": "busy"})
    assert task(hotline_app, task_id).state == "unreachable"
    page = op1.get(f"/calls/callbacks/{task_id}").get_data(as_text=True)
    assert page.count('data-result="not_reached"') == 3
    assert 'id="callback-attempt"' not in page  # no form on a closed task
    again = post(op1, f"/calls/callbacks/{task_id}/claim")
    assert again.status_code == 409 and "已关闭" in again.get_data(as_text=True)


def test_a_wrong_number_closes_at_once(hotline_app, as_role):
    task_id = missed(hotline_app, "c1", NOW, "13800138000")
    op1 = as_role("operator")
    data = {"result": "not_reached", "reason": "wrong_number"}
    post(op1, f"/calls/callbacks/{task_id}/attempts", data)
    assert task(hotline_app, task_id).state == "unreachable"


def test_bad_attempts_name_their_field(hotline_app, as_role):
    task_id = missed(hotline_app, "c1", NOW, "13800138000")
    op1 = as_role("operator")
    for data, words in (
        ({}, "回拨结果"),
        ({"result": "perhaps"}, "回拨结果"),
        ({"result": "not_reached"}, "未联系上原因"),
        ({"result": "not_reached", "reason": "asleep"}, "未联系上原因"),
        ({"result": "reached", "note": "x" * 501}, "最多 500 个字"),
    ):
        answer = post(op1, f"/calls/callbacks/{task_id}/attempts", data)
        assert answer.status_code == 400, data
        assert words in answer.get_data(as_text=True), data
    row = task(hotline_app, task_id)
    assert (row.attempts, row.claimed_by) == (0, "")
    assert audits(hotline_app, "call_callback.attempt") == []
    english = post(op1, f"/calls/callbacks/{task_id}/attempts", {}, headers=EN)
    assert "Result: choose reached or not reached." in english.get_data(as_text=True)
    assert post(op1, "/calls/callbacks/999/attempts", {"result": "reached"}).status_code == 404


def test_releasing(hotline_app, as_role):
    task_id = missed(hotline_app, "c1", NOW, "13800138000")
    op1, op2 = as_role("operator"), as_role("operator", "op2")
    post(op1, f"/calls/callbacks/{task_id}/claim")
    assert post(op2, f"/calls/callbacks/{task_id}/release").status_code == 409
    # the lead frees a task its operator left
    lead = as_role("lead")
    assert "放回列表" in lead.get(f"/calls/callbacks/{task_id}").get_data(as_text=True)
    assert post(lead, f"/calls/callbacks/{task_id}/release").status_code == 303
    assert task(hotline_app, task_id).claimed_by == ""
    (entry,) = audits(hotline_app, "call_callback.release")
    assert (entry.actor_name, entry.detail["held_by"]) == ("lead1", "op1")


def test_who_may(hotline_app, as_role):
    task_id = missed(hotline_app, "c1", NOW, "13800138000")
    for role in ("handler", "dispatcher", "callback", "auditor"):
        client = as_role(role)
        assert client.get("/calls/callbacks").status_code == 403, role
        assert client.get(f"/calls/callbacks/{task_id}").status_code == 403, role
        token = csrf_token(client, "/notifications")
        answer = client.post(f"/calls/callbacks/{task_id}/claim", data={"csrf_token": token})
        assert answer.status_code == 403, role
        assert 'href="/calls/callbacks"' not in client.get("/notifications").get_data(as_text=True)
    assert task(hotline_app, task_id).claimed_by == ""


def test_the_operators_start_page_counts_the_waiting_callers(hotline_app, as_role):
    op1 = as_role("operator")
    assert "未接来电回拨 0 件" in op1.get("/intake").get_data(as_text=True)
    missed(hotline_app, "c1", NOW, "13800000001")
    missed(hotline_app, "c2", NOW, "13800000002")
    html = op1.get("/intake").get_data(as_text=True)
    assert re.search(r'<a href="/calls/callbacks">未接来电回拨 2 件</a>', html)
    # the nav link, and the live poll's token for the list
    assert html.count('href="/calls/callbacks"') == 2
    before = op1.get("/live?views=call_callbacks").get_json()
    missed(hotline_app, "c3", NOW, "13800000003")
    after = op1.get("/live?views=call_callbacks").get_json()
    assert before != after


def test_call_settings(hotline_app, as_role):
    admin = as_role("admin")
    page = admin.get("/admin/calls").get_data(as_text=True)
    assert "话务设置" in page and 'value="2"' in page and "尚未保存" in page
    token = csrf_token(admin, "/admin/calls")
    bad = admin.post(
        "/admin/calls",
        data={
            "csrf_token": token,
            "callback_value": "0",
            "callback_unit": "weeks",
            "repeat_window_minutes": "abc",
            "callback_attempts": "21",
            "stale_minutes": "",
            "answer_rate_target": "1.5",
        },
    )
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    errors = dict(
        re.findall(r'id="f_(\w+)"[\s\S]*?<p class="field-error" role="alert">([^<]+)</p>', html)
    )
    assert set(errors) >= {
        "callback_value",
        "repeat_window_minutes",
        "callback_attempts",
        "stale_minutes",
        "answer_rate_target",
    }
    assert html.count('class="field-error"') == 6  # the unit's error too
    with hotline_app.app_context():
        assert db.session.get(CallSettings, 1) is None
    good = admin.post(
        "/admin/calls",
        data={
            "csrf_token": token,
            "callback_value": "1",
            "callback_unit": "workdays",
            "repeat_window_minutes": "60",
            "callback_attempts": "2",
            "stale_minutes": "30",
            "answer_rate_target": "0.9",
        },
    )
    assert good.status_code == 302
    with hotline_app.app_context():
        row = db.session.get(CallSettings, 1)
        assert (
            row.callback_value,
            row.callback_unit,
            row.repeat_window_minutes,
            row.callback_attempts,
            row.stale_minutes,
            row.answer_rate_target,
            row.updated_by,
        ) == (1, "workdays", 60, 2, 30, 0.9, "admin")
    (entry,) = audits(hotline_app, "call_settings.update")
    assert entry.detail["callback_unit"] == "workdays"
    # a missed call now: due by the end of the next working day (the calendar's working days)
    task_id = missed(hotline_app, "c1", NOW, "13800138000")
    due = datetime.fromisoformat("2026-03-03T23:59:59+08:00")
    assert task(hotline_app, task_id).due_at == due
    for role in ("operator", "supervisor", "lead"):
        assert as_role(role).get("/admin/calls").status_code == 403
