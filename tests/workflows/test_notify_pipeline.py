"""Notices to people: the fan-out to recipients, the citizens' SMS rules, delivery and failure.

The channels here are an in-process sender that keeps what it is given (the real adapters are
tested against real local servers in test_channels*.py); everything else is the real pipeline
driven by the real loop, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import OutboxMessage
from workflows.departments.service import by_code
from workflows.notifications.channels.base import DeliveryError, Outgoing
from workflows.notifications.models import Message, Notification, NotificationTemplate, SmsOptOut
from workflows.notifications.pipeline import (
    DELIVER_TOPIC,
    local_text,
    quiet_until,
    retry_message,
)
from workflows.notifications.templates import invalidate
from workflows.users.models import User

from .test_scenarios import accept_reply, call_back, dispatch, reply, sign


class Keeper:
    """A sender that keeps every message; ``fail`` makes it raise instead."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.sent: list[Outgoing] = []
        self.fail: DeliveryError | None = None

    def send(self, outgoing: Outgoing) -> str:
        if self.fail is not None:
            raise self.fail
        self.sent.append(outgoing)
        return f"ref-{len(self.sent)}"


@pytest.fixture
def channels(city):
    keepers = {name: Keeper(name) for name in ("sms", "email", "webhook")}
    for keeper in keepers.values():
        city.hotline.notify.senders.set(keeper)
    return keepers


def messages(city, **where) -> list[Message]:
    city.session.rollback()
    stmt = select(Message).order_by(Message.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(Message, name) == value)
    return list(city.session.scalars(stmt))


def texts(keeper: Keeper) -> list[str]:
    return [o.text for o in keeper.sent]


def test_a_citizen_hears_of_acceptance_reply_survey_and_closing(city, channels, deliver):
    case = city.intake()
    deliver()
    [accepted] = channels["sms"].sent
    assert accepted.to == "13800138000"
    assert case.number in accepted.text and accepted.text.startswith("【12345热线】")
    assert "个工作日内答复" in accepted.text  # the policy's reply limit, in words
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")
    reply(city, case, "h_mr", text="已责令商家退款，商家已于当日退还全部货款")
    accept_reply(city, case)
    deliver()
    citizen = [o for o in channels["sms"].sent if o.to == "13800138000"]
    assert [o.id.split(":")[0] for o in citizen] == ["accepted", "replied", "survey"]
    assert "已责令商家退款" in citizen[1].text and "市场监督管理局" in citizen[1].text
    assert "回复1满意" in citizen[2].text
    call_back(city, case)
    deliver()
    closed = [o for o in channels["sms"].sent if o.to == "13800138000"][-1]
    assert closed.id.startswith("closed:") and "已办结" in closed.text
    rows = messages(city, audience="citizen")
    assert {r.status for r in rows} == {"sent"}
    assert all(r.sent_at is not None and r.provider_ref.startswith("ref-") for r in rows)
    assert {r.notice for r in rows} == {"case_accepted", "case_replied", "survey", "case_closed"}


def test_answered_at_once_sends_the_caller_nothing(city, channels, deliver):
    city.intake(intake_outcome="answered", answer="已当场解答")
    deliver()
    assert channels["sms"].sent == []


def test_quiet_hours_hold_a_citizens_sms_until_morning_but_not_a_critical_cases(
    city, channels, deliver
):
    city.clock.set(datetime(2026, 3, 2, 15, 30, tzinfo=UTC))  # 23:30 in Beijing
    city.intake()
    critical = city.intake(urgency="critical", caller_phone="13900139000")
    deliver()
    assert [o.to for o in channels["sms"].sent] == ["13900139000"]  # the critical one only
    [held] = messages(city, status="held")
    assert held.reason == "quiet hours"
    assert held.not_before == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # 08:00 local
    assert messages(city, recipient="13900139000")[0].critical
    city.clock.set(datetime(2026, 3, 2, 23, 59, tzinfo=UTC))  # 07:59 local
    deliver()
    assert len(channels["sms"].sent) == 1
    city.clock.set(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
    deliver()
    assert [o.to for o in channels["sms"].sent] == ["13900139000", "13800138000"]
    assert messages(city, id=held.id)[0].status == "sent"
    assert critical.number in channels["sms"].sent[0].text


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("21:59", None),
        ("22:00", "2026-03-03 08:00"),
        ("03:00", "2026-03-02 08:00"),
        ("07:59", "2026-03-02 08:00"),
        ("08:00", None),
    ],
)
def test_quiet_hours_across_midnight(local, expected):
    from datetime import time
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    hour, minute = map(int, local.split(":"))
    now = datetime(2026, 3, 2, hour, minute, tzinfo=tz)
    until = quiet_until(now, time(22), time(8), tz)
    assert (until.strftime("%Y-%m-%d %H:%M") if until else None) == expected
    assert quiet_until(now, None, None, tz) is None


def test_the_daily_limit_per_number_suppresses_the_rest_and_says_why(city, channels, deliver):
    city.hotline.notify.daily_limit = 2
    for _ in range(3):
        city.intake()
    deliver()
    assert len(channels["sms"].sent) == 2
    [over] = messages(city, status="suppressed")
    assert over.reason == "daily limit of 2 SMS to this number reached"
    city.clock.advance(timedelta(days=1))  # a new local day
    city.intake()
    deliver()
    assert len(channels["sms"].sent) == 3


def test_an_opted_out_number_gets_nothing_even_when_it_opted_out_while_held(
    city, channels, deliver
):
    with unit_of_work(city.session):
        city.session.add(SmsOptOut(phone="13800138000", created_at=city.clock.now()))
    city.intake()
    deliver()
    assert channels["sms"].sent == []
    assert messages(city)[0].reason == "the citizen replied TD (opted out)"
    # held overnight, then the citizen replies TD before the morning
    city.clock.set(datetime(2026, 3, 2, 15, 30, tzinfo=UTC))
    city.intake(caller_phone="13700137000")
    deliver()
    with unit_of_work(city.session):
        city.session.add(SmsOptOut(phone="13700137000", created_at=city.clock.now()))
    city.clock.set(datetime(2026, 3, 3, 0, 1, tzinfo=UTC))
    deliver()
    assert channels["sms"].sent == []
    assert messages(city, recipient="13700137000")[0].status == "suppressed"


def test_a_landline_gets_no_sms(city, channels, deliver):
    city.intake(caller_phone="0750-3201234")
    deliver()
    assert channels["sms"].sent == []
    assert messages(city)[0].reason == "not a mobile number: SMS cannot reach it"


def test_a_department_is_alerted_by_duty_phone_mail_webhook_and_its_handlers(
    city, channels, deliver
):
    with unit_of_work(city.session):
        department = by_code(city.session, "B-MR")
        department.duty_phone = "13600136000"
        department.duty_email = "duty@mr.example.gov.cn"
        department.webhook_url = "http://127.0.0.1:9/hook"
        department.webhook_secret = "s3cret"
        handler = city.session.scalar(select(User).where(User.username == "h_mr"))
        handler.phone = "13500135000"
        handler.lang = "en"
        handler.notify_prefs = {"dispatched": ["sms", "inapp"]}
    case = city.intake()
    deliver()
    dispatch(city, case, "B-MR")
    deliver()
    duty = [o for o in channels["sms"].sent if o.to == "13600136000"]
    assert len(duty) == 1 and "新派工单" in duty[0].text and "请于" in duty[0].text
    [mail] = channels["email"].sent
    assert mail.to == "duty@mr.example.gov.cn" and case.number in mail.subject
    [hook] = channels["webhook"].sent
    assert hook.to == "http://127.0.0.1:9/hook" and hook.secret == "s3cret"
    assert hook.payload["event"] == "dispatched"
    assert hook.payload["case"]["number"] == case.number
    assert hook.payload["case"]["sign_due"]
    [personal] = [o for o in channels["sms"].sent if o.to == "13500135000"]
    assert personal.text.startswith("[12345热线] New case")  # in the handler's language
    bell = city.session.scalars(
        select(Notification.text).where(Notification.user_id == handler.id)
    ).all()
    due = local_text(city.case(case).sign_due, city.hotline.tz, "en")
    assert bell == [f"New case {case.number} ({case.category}): sign for it by {due}."]


def test_an_edited_template_is_used(city, channels, deliver):
    with unit_of_work(city.session):
        city.session.add(
            NotificationTemplate(
                notice="case_accepted",
                channel="sms",
                lang="zh",
                body="【{{ centre }}】受理号{{ case_number }}",
                updated_by="admin",
                updated_at=city.clock.now(),
            )
        )
    invalidate()  # as saving on the administrators' page does
    case = city.intake()
    deliver()
    assert texts(channels["sms"]) == [f"【12345热线】受理号{case.number}"]


def test_with_no_channel_configured_messages_are_recorded(city, deliver):
    case = city.intake()
    deliver()
    [row] = messages(city)
    assert (row.status, row.reason) == ("recorded", "no channel configured")
    assert case.number in row.body
    delivered = city.session.scalars(
        select(OutboxMessage.topic).where(OutboxMessage.topic == DELIVER_TOPIC)
    ).all()
    assert delivered == []


def test_a_failing_gateway_is_retried_then_an_incident_that_admins_hear_of_and_can_retry(
    city, channels, deliver
):
    channels["sms"].fail = DeliveryError("gateway answered 503")
    city.intake()
    deliver()
    # (the administrators also hear of the incident by e-mail: the demo city gives them addresses)
    [row] = messages(city, audience="citizen")
    assert (row.status, row.attempts, row.last_error) == (
        "failed",
        1,
        "DeliveryError: gateway answered 503",
    )
    for wait in (30, 60):
        city.clock.advance(timedelta(seconds=wait))
        deliver()
    [row] = messages(city, audience="citizen")
    assert (row.status, row.attempts) == ("incident", 3)
    admin = city.user("admin")
    alerts = city.session.scalars(
        select(Notification.text).where(Notification.user_id == admin.id)
    ).all()
    assert len(alerts) == 1 and "138****8000" in alerts[0] and "503" in alerts[0]
    channels["sms"].fail = None
    retry_message(city.session, city.hotline.runtime.outbox, row.id)
    assert messages(city, audience="citizen")[0].status == "queued"
    deliver()
    assert messages(city, audience="citizen")[0].status == "sent"
    assert len(channels["sms"].sent) == 1


def test_a_message_that_can_never_be_delivered_is_an_incident_at_once(city, channels, deliver):
    channels["sms"].fail = DeliveryError("invalid number", retry=False)
    city.intake()
    deliver()
    [row] = messages(city, audience="citizen")
    assert (row.status, row.attempts, row.last_error) == ("incident", 1, "invalid number")


def test_retrying_a_sent_or_unknown_message_says_why(city, channels, deliver):
    from workflows.errors import DomainError

    city.intake()
    deliver()
    [row] = messages(city)
    with pytest.raises(DomainError, match=f"message {row.id} is sent"):
        retry_message(city.session, city.hotline.runtime.outbox, row.id)
    with pytest.raises(DomainError, match="message 999999 does not exist"):
        retry_message(city.session, city.hotline.runtime.outbox, 999999)


def test_staff_are_told_of_tasks_for_their_group(city, channels, deliver):
    case = city.intake()
    deliver()
    dispatchers = city.session.scalars(
        select(User.username)
        .join(Notification, Notification.user_id == User.id)
        .where(Notification.kind == "task_assigned", Notification.case_id == case.id)
    ).all()
    assert "disp1" in dispatchers
    assert "h_mr" not in dispatchers and "op1" not in dispatchers


def test_a_reopen_after_an_unsatisfied_callback_tells_the_department(city, channels, deliver):
    case = city.intake()
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")
    reply(city, case, "h_mr")
    accept_reply(city, case)
    call_back(city, case, satisfaction="unsatisfied", reopen=True)
    deliver()
    handler = city.user("h_mr")
    kinds = city.session.scalars(
        select(Notification.kind).where(Notification.user_id == handler.id)
    ).all()
    assert kinds[-1] == "reopened"


def test_a_co_handling_unit_is_asked_with_its_deadline(city, channels, deliver):
    case = city.intake()
    dispatch(city, case, "B-MR", co=("B-HU",))
    deliver()
    task = city.task(case, "cohandle")
    handler = city.user("h_hu")
    [text] = city.session.scalars(
        select(Notification.text).where(
            Notification.user_id == handler.id, Notification.kind == "cohandle_requested"
        )
    ).all()
    due = local_text(task.due_at, city.hotline.tz, handler.lang or "zh")
    assert case.number in text and "市场监督管理局" in text and due in text


def test_an_example_address_is_recorded_not_tried(city, channels, deliver):
    """The demo city's contacts are on reserved domains (RFC 2606): shown, never tried."""
    with unit_of_work(city.session):
        department = by_code(city.session, "B-MR")
        department.duty_email = "duty@mr.jiangmen12345.example"
        department.webhook_url = "https://oa.market-regulation.example/hotline/webhook"
    case = city.intake()
    dispatch(city, case, "B-MR")
    deliver()
    assert channels["email"].sent == [] and channels["webhook"].sent == []
    rows = [r for r in messages(city, audience="department") if r.channel != "sms"]
    assert {(r.channel, r.status) for r in rows} == {("email", "recorded"), ("webhook", "recorded")}
    assert rows[0].reason == "an example address (RFC 2606): recorded, not sent"


def test_a_template_with_an_unknown_filter_is_refused_by_the_check():
    from workflows.notifications.notices import Notice
    from workflows.notifications.templates import check

    assert check(Notice.DISPATCHED, "{{ case_number|nosuch }}") == [
        "line 1: No filter named 'nosuch'."
    ]
    assert check(Notice.DISPATCHED, "{{ case_number|upper }}") == []
