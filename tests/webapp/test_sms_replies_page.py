"""The SMS replies queue: citizens' texts waiting for a person, newest first, the number
masked for the roles that see lists masked, the case linked; marking one handled (with a
note, recorded on the audit log); in Chinese and English."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests.webapp.pages import post
from tests.webapp.test_callback_pages import awaiting_callback
from tests.webapp.test_sms_inbound_api import survey_sent
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.audit.models import AuditEntry
from workflows.notifications.inbound import receive_sms
from workflows.notifications.models import SmsInbound

EN = {"Accept-Language": "en"}
PAGE = "/sms/replies"


def sms(app, text: str, phone: str = "13800138000", minutes: int = 0) -> int:
    with app.app_context():
        hotline = get_hotline()
        at = hotline.clock.now() + timedelta(minutes=minutes)
        return receive_sms(db.session, hotline, phone=phone, body=text, received_at=at).row.id


def rows(html: str) -> list[str]:
    table = re.search(r'<table id="sms-replies">.*?</table>', html, re.S).group(0)
    return re.findall(r"<tr data-id=.*?</tr>", table, re.S)


def open_count(html: str) -> int:
    return int(re.search(r'id="sms-open-count"[^>]*data-count="(\d+)"', html).group(1))


def test_the_callback_agent_reads_the_queue_in_full(hotline_app, as_role):
    number = awaiting_callback(hotline_app)
    survey_sent(hotline_app, number)
    sms(hotline_app, "餐馆又开门了，请回电13912345678")
    sms(hotline_app, "你好", phone="13700001111", minutes=1)
    sms(hotline_app, "TD", phone="13700002222", minutes=2)  # done by itself: not in the queue
    client = as_role("callback")
    html = client.get(PAGE).get_data(as_text=True)
    assert open_count(html) == 2 and "有 2 条短信回复待人工处理" in html
    first, second = rows(html)
    assert 'data-kind="unmatched"' in first and "13700001111" in first and "未匹配工单" in first
    assert "13800138000" in second and "请回电13912345678" in second
    assert f'href="/cases/{number}"' in second
    assert "短信回复" in client.get("/inbox").get_data(as_text=True)  # in the menu
    english = client.get(PAGE, headers=EN).get_data(as_text=True)
    assert "2 SMS replies are waiting for a person." in english and "Mark handled" in english
    with hotline_app.app_context():  # the numbers shown in full are recorded
        seen = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "personal.view")
        ).all()
        assert seen and seen[-1].detail["path"] == PAGE and seen[-1].detail["in_full"] == 2


def test_supervisors_see_the_numbers_masked(hotline_app, as_role):
    sms(hotline_app, "请回电13912345678", phone="13700001111")
    html = as_role("supervisor").get(PAGE).get_data(as_text=True)
    [row] = rows(html)
    assert "137****1111" in row and "139****5678" in row
    assert "13700001111" not in row and "13912345678" not in row


def test_marking_one_handled_with_a_note(hotline_app, as_role):
    reply = sms(hotline_app, "你好", phone="13700001111")
    client = as_role("callback")
    response = post(
        client, f"/sms/replies/{reply}/handle", {"note": "已回电，咨询类"}, token_from=PAGE
    )
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已标记为已处理" in html and open_count(html) == 0 and rows(html) == []
    done = client.get(PAGE + "?show=done").get_data(as_text=True)
    [row] = rows(done)
    assert "已回电，咨询类" in row and "回访员 许静" in row
    with hotline_app.app_context():
        item = db.session.get(SmsInbound, reply)
        assert (item.status, item.handled_by) == ("done", "cb1")
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sms.handle")
        ).one()
        assert (entry.actor_name, entry.target_id, entry.detail["note"]) == (
            "cb1",
            str(reply),
            "已回电，咨询类",
        )
    # a second person is told, and nothing changes
    supervisor = as_role("supervisor")
    again = post(supervisor, f"/sms/replies/{reply}/handle", {"note": ""}, token_from=PAGE)
    assert again.status_code == 303
    assert "已由 cb1 处理" in supervisor.get(PAGE).get_data(as_text=True)


def test_a_note_too_long_is_refused_on_its_field(hotline_app, as_role):
    reply = sms(hotline_app, "你好", phone="13700001111")
    client = as_role("supervisor")
    response = post(
        client, f"/sms/replies/{reply}/handle", {"note": "长" * 501}, headers=EN, token_from=PAGE
    )
    assert response.status_code == 400
    [row] = rows(response.get_data(as_text=True))
    assert 'class="field-error"' in row and "At most 500 characters; this has 501." in row
    with hotline_app.app_context():
        assert db.session.get(SmsInbound, reply).status == "open"


def test_an_unknown_reply_is_404(hotline_app, as_role):
    assert (
        post(as_role("callback"), "/sms/replies/999999/handle", token_from=PAGE).status_code == 404
    )


def test_the_queue_is_paginated_newest_first(hotline_app, as_role):
    for i in range(30):
        sms(hotline_app, f"第{i}条", phone=f"137{i:08d}", minutes=i)
    client = as_role("callback")
    html = client.get(PAGE).get_data(as_text=True)
    assert open_count(html) == 30 and len(rows(html)) == 25
    assert "第29条" in rows(html)[0] and 'rel="next"' in html
    second = client.get(PAGE + "?page=2").get_data(as_text=True)
    assert len(rows(second)) == 5 and "第0条" in rows(second)[-1]
