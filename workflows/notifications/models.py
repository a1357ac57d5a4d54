"""What the hotline tells people: in-app notifications, the log of every message sent through a
channel, the templates administrators edit, and the citizens' SMS opt-outs and replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId, JSONType


class Notification(Base):
    """One in-app notice to one person (the bell), delivered once per message key.

    Rows written before notices went to people (department-wide ones) have no ``user_id``."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_department_read", "department_id", "read_at"),
        Index("ix_notifications_user_read", "user_id", "read_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: the message's key: a message handled twice still makes one notification
    key: Mapped[str] = mapped_column(String(255), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    #: the notice (``notices.Notice``); older rows: dispatched, sign_overdue, reply_overdue,
    #: supervised
    kind: Mapped[str] = mapped_column(String(32))
    #: the text shown, rendered from the in-app template in the person's language
    text: Mapped[str] = mapped_column(Text, default="")
    #: when the event happened (the step's time), not when the worker delivered it
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class Message(Base):
    """One message through a channel (SMS, e-mail, webhook) to one recipient: the delivery log.

    Written by the fan-out (``pipeline.py``) in the same transaction as the outbox row that
    delivers it; that row's handler moves ``status`` along."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_case", "case_id", "id"),
        Index("ix_messages_status_id", "status", "id"),
        # the daily limit per citizen number, and matching an SMS reply to its survey
        Index("ix_messages_recipient_created", "recipient", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: the idempotency key the gateway sees (``id`` of the SMS gateway's body), unique
    key: Mapped[str] = mapped_column(String(255), unique=True)
    #: sms, email, webhook
    channel: Mapped[str] = mapped_column(String(16))
    #: the notice (``notices.Notice``)
    notice: Mapped[str] = mapped_column(String(32))
    #: citizen, department, user
    audience: Mapped[str] = mapped_column(String(16))
    #: a phone number, an e-mail address or a webhook URL
    recipient: Mapped[str] = mapped_column(String(300))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    #: queued (waiting for the worker), held (quiet hours: ``not_before``), sent, failed
    #: (retrying), incident (given up), suppressed (not sent: ``reason``), recorded (no
    #: channel is configured: kept here only)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(300), default="")
    #: the case was critical: sent in quiet hours
    critical: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: the provider's id of the message, when it gives one
    provider_ref: Mapped[str] = mapped_column(String(120), default="")
    #: when the event happened
    event_at: Mapped[datetime]
    created_at: Mapped[datetime]
    not_before: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class NotificationTemplate(Base):
    """An administrator's text for one notice, channel and language (the defaults are in
    ``notices.py``; a row here replaces its default)."""

    __tablename__ = "notification_templates"
    __table_args__ = (UniqueConstraint("notice", "channel", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice: Mapped[str] = mapped_column(String(32))
    #: sms, email, inapp
    channel: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime]


class SmsOptOut(Base):
    """A citizen's number that replied ``TD``: no SMS to it until it replies ``KT``."""

    __tablename__ = "sms_optouts"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime]


class SmsInbound(Base):
    """An SMS a citizen sent to the centre (the gateway's inbound webhook)."""

    __tablename__ = "sms_inbound"
    __table_args__ = (
        Index("ix_sms_inbound_status", "status", "received_at"),
        Index("ix_sms_inbound_from", "from_phone", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    from_phone: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    #: the case it was matched to (a survey or a reply notice sent to this number)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    #: survey (1/2/3 recorded as the callback), optout (TD), optin (KT), text (kept for a
    #: person), unmatched (no case: for a person)
    kind: Mapped[str] = mapped_column(String(16))
    #: open (waiting for a person), done
    status: Mapped[str] = mapped_column(String(16))
    #: what was done with it, in words (the satisfaction recorded, the note written...)
    result: Mapped[str] = mapped_column(Text, default="")
    handled_by: Mapped[str | None] = mapped_column(String(64))
    handled_at: Mapped[datetime | None]
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
