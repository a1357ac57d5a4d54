"""Reads of the delivery log (``messages``): the filtered list of the admin page and of
``hotline notifications``, a case's messages, and the counts by status.

The filter is checked here, once, for every entry point: a value that is not a status, a
channel, a notice or a date is refused naming the field (:class:`BadFilter`), never passed on
to a query."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..cases.confidentiality import mask_phone
from ..cases.models import Case
from ..errors import DomainError
from .models import Message
from .notices import Audience, Channel, Notice

#: the statuses of a message, in the order the pages show their counts
STATUSES = ("queued", "held", "sent", "failed", "incident", "suppressed", "recorded")
#: statuses that need a person: retrying, or given up on
PROBLEMS = ("failed", "incident")
#: the statuses a person may put back in the queue
RETRYABLE = PROBLEMS
#: channels of the delivery log (the bell has its own table)
CHANNELS = tuple(str(c) for c in Channel if c != Channel.INAPP)
AUDIENCES = tuple(str(a) for a in Audience)
NOTICES = tuple(str(n) for n in Notice)
#: the longest text a "contains" filter takes (a recipient is at most 300 characters)
MAX_CONTAINS = 100


class BadFilter(DomainError):
    """A filter value that cannot be: names the field and says what it may be."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class MessageFilter:
    """What the log is narrowed to; empty fields do not narrow it."""

    status: str = ""
    channel: str = ""
    notice: str = ""
    audience: str = ""
    case: str = ""  # a case number
    recipient: str = ""  # a part of the recipient
    since: date | None = None  # local day, inclusive
    until: date | None = None  # local day, inclusive
    #: failed and incident ones only (``hotline notifications --failed``)
    problems: bool = False

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> MessageFilter:
        """From text (a query string): every field checked, the first bad one refused."""
        text = {f.name: (args.get(f.name) or "").strip() for f in fields(cls)}
        _one_of("status", text["status"], STATUSES)
        _one_of("channel", text["channel"], CHANNELS)
        _one_of("notice", text["notice"], NOTICES)
        _one_of("audience", text["audience"], AUDIENCES)
        if len(text["recipient"]) > MAX_CONTAINS:
            raise BadFilter("recipient", f"at most {MAX_CONTAINS} characters")
        if len(text["case"]) > 64:
            raise BadFilter("case", "a case number is at most 64 characters")
        since, until = _day("since", text["since"]), _day("until", text["until"])
        if since and until and since > until:
            raise BadFilter("until", f"{until.isoformat()} is before since {since.isoformat()}")
        return cls(
            status=text["status"],
            channel=text["channel"],
            notice=text["notice"],
            audience=text["audience"],
            case=text["case"],
            recipient=text["recipient"],
            since=since,
            until=until,
        )

    def apply(self, stmt: Select, tz: ZoneInfo) -> Select:
        if self.problems:
            stmt = stmt.where(Message.status.in_(PROBLEMS))
        for name in ("status", "channel", "notice", "audience"):
            if value := getattr(self, name):
                stmt = stmt.where(getattr(Message, name) == value)
        if self.case:
            stmt = stmt.where(Message.case_id.in_(select(Case.id).where(Case.number == self.case)))
        if self.recipient:
            needle = self.recipient.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(Message.recipient.like(f"%{needle}%", escape="\\"))
        if self.since:
            stmt = stmt.where(Message.created_at >= _start(self.since, tz))
        if self.until:
            stmt = stmt.where(Message.created_at < _start(self.until + timedelta(days=1), tz))
        return stmt


def _one_of(field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value and value not in allowed:
        raise BadFilter(field, f"{value[:40]!r} is not one of {', '.join(allowed)}")


def _day(field: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadFilter(field, f"{value[:40]!r} is not a date such as 2026-12-04") from None


def _start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def listing(flt: MessageFilter, *, tz: ZoneInfo) -> Select:
    """``(Message, case number)`` rows matching ``flt``, newest first."""
    stmt = (
        select(Message, Case.number)
        .outerjoin(Case, Case.id == Message.case_id)
        .order_by(Message.id.desc())
    )
    return flt.apply(stmt, tz)


def recent(
    session: Session, *, problems: bool = False, limit: int = 50, tz: ZoneInfo
) -> list[tuple[Message, str | None]]:
    """The newest messages (only failed and incident ones with ``problems``)."""
    stmt = listing(MessageFilter(problems=problems), tz=tz).limit(limit)
    return [(message, number) for message, number in session.execute(stmt).all()]


def counts_by_status(
    session: Session, flt: MessageFilter | None = None, *, tz: ZoneInfo | None = None
) -> dict[str, int]:
    """How many messages have each status (every status named, zero included)."""
    stmt = select(Message.status, func.count()).group_by(Message.status)
    if flt is not None and tz is not None:
        stmt = flt.apply(stmt, tz)
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(session.execute(stmt).all())
    return counts


def of_case(session: Session, *, case_id: int, limit: int = 200) -> list[Message]:
    """A case's messages, oldest first (the case page's delivery section)."""
    return list(
        session.scalars(
            select(Message).where(Message.case_id == case_id).order_by(Message.id).limit(limit)
        )
    )


def mask_recipient(recipient: str) -> str:
    """A recipient as a role that may not see a citizen's contact sees it: a phone as
    :func:`mask_phone`, an e-mail address with only its first character and its domain."""
    if "://" in recipient:  # a department's webhook: no citizen's contact
        return recipient
    name, at, domain = recipient.partition("@")
    if at:
        return f"{name[:1]}***@{domain}"
    return mask_phone(recipient)
