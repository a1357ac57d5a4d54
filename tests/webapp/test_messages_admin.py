"""The delivery log page (/admin/messages) and the case page's notifications section: what an
administrator sees, the filters (bad values are a message, not a 500), the
masking of citizens' numbers, the retry of a failed message, and the banner of the demo."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import OutboxMessage
from tests.webapp.pages import csrf_token, post
from tests.webapp.test_inbox import act
from tests.webapp.test_intake import open_case
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.audit.models import AuditEntry
from workflows.cases.models import Case
from workflows.notifications.models import Message

CITIZEN = "13800138000"


def add_message(app, number: str | None, *, status: str = "sent", **fields) -> int:
    """A Message row (and, unless recorded or suppressed, its outbox row in the same state),
    as the pipeline writes them; its id."""
    with app.app_context():
        session = db.session
        now = get_hotline().clock.now() + fields.pop("later", timedelta())
        case_id = session.scalar(select(Case.id).where(Case.number == number)) if number else None
        with unit_of_work(session):
            count = session.query(Message).count()
            values = {
                "key": f"notify:test:{count}:{status}",
                "channel": "sms",
                "notice": "case_accepted",
                "audience": "citizen",
                "recipient": CITIZEN,
                "case_id": case_id,
                "lang": "zh",
                "subject": "",
                "body": "您的诉求已受理",
                "status": status,
                "reason": "",
                "attempts": 0,
                "last_error": "",
                "provider_ref": "",
                "event_at": now,
                "created_at": now,
                "sent_at": now if status == "sent" else None,
                **fields,
            }
            message = Message(**values)
            session.add(message)
            session.flush()
            if status not in ("recorded", "suppressed"):
                session.add(
                    OutboxMessage(
                        topic="notify.deliver",
                        key=message.key,
                        payload={"message_id": message.id},
                        status={"sent": "done", "queued": "pending", "held": "pending"}.get(
                            status, status
                        ),
                        attempts=message.attempts,
                        last_error=message.last_error or None,
                        created_at=now,
                        done_at=now if status == "sent" else None,
                    )
                )
            return message.id


def some_messages(app, number: str | None = None) -> tuple[str, dict[str, int]]:
    number = number or open_case(app)
    ids = {
        "sent": add_message(app, number),
        "incident": add_message(
            app,
            number,
            status="incident",
            notice="dispatched",
            audience="department",
            recipient="0750-3333333",
            attempts=5,
            last_error="gateway answered 503",
            later=timedelta(minutes=1),
        ),
        "email": add_message(
            app,
            None,
            status="recorded",
            channel="email",
            notice="task_assigned",
            audience="staff",
            recipient="zhang.wei@example.org",
            reason="no channel configured",
            later=timedelta(minutes=2),
        ),
    }
    return number, ids


def test_administrators_read_the_log_with_counts_and_masked_citizens(hotline_app, as_role):
    number, ids = some_messages(hotline_app)
    html = as_role("admin").get("/admin/messages").get_data(as_text=True)
    assert "138****8000" in html and CITIZEN not in html  # a citizen's number is masked
    assert "0750-3333333" in html  # a department's duty phone is not a citizen's
    assert "zhang.wei@example.org" in html
    assert "gateway answered 503" in html
    assert number in html
    # newest first
    assert html.index("zhang.wei@example.org") < html.index("0750-3333333") < html.index("138*")
    counts = html[html.index('id="message-counts"') : html.index('id="message-filter"')]
    assert ">1</dd>" in counts.split("count-sent")[1].split("</div>")[0]
    assert "count-incident" in counts and 'class="alert">1<' in counts
    # a retry button only for the one given up on
    assert html.count("/retry") == 1 and f"/admin/messages/{ids['incident']}/retry" in html


def test_the_filters_narrow_the_log(hotline_app, as_role):
    number, ids = some_messages(hotline_app)
    client = as_role("admin")

    def shown(query: str) -> set[int]:
        response = client.get(f"/admin/messages?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        html = response.get_data(as_text=True)
        return {i for i in ids.values() if f"<td>{i}</td>" in html}

    assert shown("") == set(ids.values())
    assert shown("status=incident") == {ids["incident"]}
    assert shown("channel=email") == {ids["email"]}
    assert shown("notice=case_accepted") == {ids["sent"]}
    assert shown("audience=department") == {ids["incident"]}
    assert shown(f"case={number}") == {ids["sent"], ids["incident"]}
    assert shown("recipient=3333") == {ids["incident"]}
    assert shown("recipient=%25") == set()  # a LIKE wildcard is a character
    today = get_hotline_today(hotline_app)
    assert shown(f"since={today}&until={today}") == set(ids.values())
    assert shown("since=2000-01-01&until=2000-01-02") == set()


def get_hotline_today(app) -> str:
    with app.app_context():
        hotline = get_hotline()
        return hotline.clock.now().astimezone(hotline.tz).date().isoformat()


def test_bad_filters_are_a_message_naming_the_field(hotline_app, as_role):
    client = as_role("admin")
    for query, field_message in [
        ("status=nonsense", "从列表中选择状态"),
        ("channel=pigeon", "从列表中选择渠道"),
        ("notice=x", "从列表中选择通知"),
        ("audience=x", "从列表中选择对象"),
        ("since=yesterday", "YYYY-MM-DD"),
        ("since=2026-02-01&until=2026-01-01", "YYYY-MM-DD"),
        ("recipient=" + "9" * 500, "100"),
    ]:
        response = client.get(f"/admin/messages?{query}")
        assert response.status_code == 400, query
        assert field_message in response.get_data(as_text=True), query


def test_only_administrators_see_the_log(hotline_app, as_role):
    _number, ids = some_messages(hotline_app)
    for role in ("supervisor", "operator", "handler", "dispatcher", "callback", "lead", "auditor"):
        client = as_role(role)
        assert client.get("/admin/messages").status_code == 403, role
        token = csrf_token(client, "/cases" if role != "auditor" else "/audit/")
        retry = client.post(f"/admin/messages/{ids['incident']}/retry", data={"csrf_token": token})
        assert retry.status_code == 403, role
    with hotline_app.app_context():
        assert db.session.get(Message, ids["incident"]).status == "incident"


def test_retry_requeues_a_message_given_up_on_and_is_audited(hotline_app, as_role):
    _number, ids = some_messages(hotline_app)
    client = as_role("admin")
    token = csrf_token(client, "/admin/messages")
    response = client.post(
        f"/admin/messages/{ids['incident']}/retry",
        data={"csrf_token": token, "back": "/admin/messages?status=incident"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/messages?status=incident"
    html = client.get("/admin/messages").get_data(as_text=True)
    assert f"消息 {ids['incident']} 已重新排队" in html
    with hotline_app.app_context():
        message = db.session.get(Message, ids["incident"])
        assert message.status == "queued"
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == message.key))
        assert (row.status, row.attempts) == ("pending", 0)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "message.retry"))
        assert entry.target_id == str(ids["incident"])
    # a sent message cannot be retried: a message saying so, nothing changed
    response = client.post(
        f"/admin/messages/{ids['sent']}/retry", data={"csrf_token": token}, follow_redirects=True
    )
    assert f"消息 {ids['sent']} 的状态为" in response.get_data(
        as_text=True
    )  # in the page's language
    # an open redirect is refused
    response = client.post(
        f"/admin/messages/{ids['incident']}/retry",
        data={"csrf_token": token, "back": "//evil.example/admin/messages"},
    )
    assert response.headers["Location"] == "/admin/messages"


def test_the_demo_banner_says_messages_are_only_recorded(hotline_app, as_role):
    client = as_role("admin")
    with hotline_app.app_context():
        senders = get_hotline().notify.senders
    assert not senders.configured("sms") and not senders.configured("email")  # the demo
    html = client.get("/admin/messages").get_data(as_text=True)
    assert 'id="recorded-only"' in html and "仅记录在此" in html

    class Stub:
        def __init__(self, channel: str) -> None:
            self.channel = channel

        def send(self, outgoing) -> None:
            return None

    senders.set(Stub("sms"))
    html = client.get("/admin/messages").get_data(as_text=True)
    assert "未配置邮件服务器" in html  # SMS leave; e-mails are still only recorded
    senders.set(Stub("email"))
    assert 'id="recorded-only"' not in client.get("/admin/messages").get_data(as_text=True)


def test_the_pages_speak_english_too(hotline_app, as_role):
    some_messages(hotline_app)
    client = as_role("admin")
    post(client, "/language", {"lang": "en", "next": "/admin"}, token_from="/admin")
    html = client.get("/admin/messages").get_data(as_text=True)
    assert "Delivery log" in html and "Case accepted" in html and "given up" in html
    post(client, "/language", {"lang": "zh", "next": "/admin"}, token_from="/admin")
    html = client.get("/admin/messages").get_data(as_text=True)
    assert "发送记录" in html and "受理回执" in html


def test_the_case_page_lists_its_messages_masked_per_role(hotline_app, as_role):
    number = open_case(hotline_app)
    act(hotline_app, number, "dispatch", "disp1", {"lead_department": "B-MR"})
    number, ids = some_messages(hotline_app, number)
    html = as_role("supervisor").get(f"/cases/{number}").get_data(as_text=True)
    section = html[html.index('id="notifications"') :]
    section = section[: section.index("</section>")]
    assert "受理回执" in section and "派单通知" in section
    assert CITIZEN in section  # the centre sees the caller in full on the case page
    assert "gateway answered 503" in section
    assert "zhang.wei" not in section  # not this case's
    # a department's handler sees the caller masked on the case page, so the SMS to them too
    handler = as_role("handler").get(f"/cases/{number}").get_data(as_text=True)
    section = handler[handler.index('id="notifications"') :].split("</section>")[0]
    assert "138****8000" in section and CITIZEN not in section
    assert "受理回执" in section
