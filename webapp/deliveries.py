"""What the pages show of the delivery log (``messages``): the labels of statuses, channels,
audiences and notices in the page's language, the recipient as the viewer may see it, and the
case page's "Notifications" section."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from workflows.cases.models import Case
from workflows.notifications.log import mask_recipient, of_case
from workflows.notifications.models import Message
from workflows.notifications.notices import NOTICE_NAMES, Notice

from . import identity
from .extensions import db
from .i18n import lang


def status_labels() -> dict[str, str]:
    return {
        "queued": _("queued"),
        "held": _("held (quiet hours)"),
        "sent": _("sent"),
        "failed": _("failed, retrying"),
        "incident": _("given up (incident)"),
        "suppressed": _("not sent"),
        "recorded": _("recorded only"),
    }


def channel_labels() -> dict[str, str]:
    return {"sms": _("SMS"), "email": _("E-mail"), "webhook": _("Webhook")}


def audience_labels() -> dict[str, str]:
    return {"citizen": _("Citizen"), "department": _("Department"), "staff": _("Staff")}


def notice_name(notice: str) -> str:
    try:
        zh, en = NOTICE_NAMES[Notice(notice)]
    except ValueError:
        return notice
    return zh if lang() == "zh" else en


def labels() -> dict[str, dict[str, str]]:
    return {
        "statuses": status_labels(),
        "channels": channel_labels(),
        "audiences": audience_labels(),
    }


def recipient(message: Message, *, masked: bool) -> str:
    """A citizen's number masked when the viewer sees the caller masked here; a department's
    or a person's contact as configured (no citizen's data)."""
    if masked and message.audience == "citizen":
        return mask_recipient(message.recipient)
    return message.recipient


@dataclass(frozen=True)
class Delivery:
    message: Message
    recipient: str
    notice: str


def of_case_page(case: Case) -> list[Delivery]:
    """The case's messages for its page, oldest first (one indexed read, ``ix_messages_case``),
    a citizen's number masked as the page masks the caller."""
    masked = identity.shown(case).masked
    return [
        Delivery(m, recipient(m, masked=masked), notice_name(m.notice))
        for m in of_case(db.session, case_id=case.id)
    ]
