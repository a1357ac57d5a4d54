"""From a notice to messages people receive: the fan-out, the citizens' SMS rules, delivery.

Three stages, each a transaction of its own, none inside a person's request:

1. **The step** (``subscribers.py``) says *that* something is to be told: :meth:`Notifier.notice`
   writes one ``notify`` outbox message per notice, in the step's transaction (a rolled-back
   step tells nobody; a committed one is never forgotten). A step pays one insert per notice.
2. **The fan-out** (:class:`FanOut`, the ``notify`` handler, in the worker) decides *who* and
   *what*: the recipients of the notice's audience, each person's channels, the text of each
   message in its recipient's language. In-app notices (the bell) are written at once; every
   other message is a ``messages`` row (the delivery log) plus a ``notify.deliver`` outbox
   message with the same key, both in the fan-out's transaction. The citizens' rules apply
   here: an opted-out number or one over its daily limit gets a ``suppressed`` row (kept, not
   sent), and in quiet hours a non-critical SMS is ``held`` (its outbox row waits until the
   end of the quiet hours).
3. **The delivery** (:class:`Delivery`, an ``ExternalHandler``) hands the message to its
   channel's sender *outside* any transaction, then marks the row ``sent``; a failure is
   retried with the outbox's backoff and after the last attempt the row is an ``incident``
   and the administrators are told (in the app and by e-mail, never by a loop of incidents).
   A channel with no sender configured records its messages (``recorded``) instead: the demo
   runs with nothing set.

Every key is derived from the notice's key, so a stage run twice (at least once) writes
nothing twice; the gateway sees the message's key as its ``id`` and deduplicates a resend.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.connectors import TOPIC as CONNECTOR_TOPIC
from engine.db import unit_of_work
from engine.models import HumanTask
from engine.outbox import ExternalHandler, Message, Outbox, PermanentFailure

from ..cases.confidentiality import mask_phone
from ..cases.enums import Urgency
from ..cases.models import Case
from ..cases.phones import canonical_phone
from ..cases.types import BUILTIN, CaseTypes
from ..departments.models import Department
from ..errors import DomainError
from ..users.models import Role, User
from .channels.base import DeliveryError, Outgoing
from .models import Message as MessageRow
from .models import Notification, SmsOptOut
from .notices import (
    AUDIENCE,
    NOTICE_NAMES,
    Audience,
    Channel,
    Notice,
)
from .preferences import channels_for
from .settings import NotifySettings
from .templates import render

log = logging.getLogger(__name__)

#: the fan-out of one notice (stage 2)
NOTIFY_TOPIC = "notify"
#: one message through one channel (stage 3); its outbox key is the ``messages`` row's key
DELIVER_TOPIC = "notify.deliver"

#: a mobile number (only mobiles receive SMS)
_MOBILE_PREFIXES = tuple(str(n) for n in range(13, 20))


#: domains that never exist (RFC 2606, RFC 6761): the demo's contacts use them
_EXAMPLE_SUFFIXES = (".example", ".invalid", ".test", "example.com", "example.net", "example.org")


def is_example_address(address: str) -> bool:
    """Whether an e-mail address or URL is on a domain that can never be reached (messages to
    it are recorded: the demo city shows its alerts without a pile of failed deliveries)."""
    host = address.rsplit("@", 1)[-1] if "@" in address and "://" not in address else ""
    if "://" in address:
        host = urlsplit(address).hostname or ""
    host = host.lower().rstrip(".")
    return any(
        host == s.lstrip(".") or host.endswith(s if s.startswith(".") else "." + s)
        for s in _EXAMPLE_SUFFIXES
    )


def is_mobile(phone: str) -> bool:
    return len(phone) == 11 and phone.startswith(_MOBILE_PREFIXES) and phone.isdigit()


# --- stage 1: the step -------------------------------------------------------------------


class Notifier:
    """Writes notices into the outbox, in the caller's transaction."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def notice(
        self,
        session: Session,
        notice: Notice,
        *,
        key: str,
        at: datetime,
        case: Case | None = None,
        values: dict[str, Any] | None = None,
        department_id: int | None = None,
        lane: str | None = None,
        group: str | None = None,
        role: str | Collection[str] | None = None,
        task_id: str | None = None,
        audience: Audience | None = None,
    ) -> None:
        """Tell ``notice`` about ``case`` to its audience: the case's citizen; the department
        ``department_id``; or the staff who may take a task (``lane`` role, ``group``
        department code; or the task ``task_id``'s) or hold ``role`` (one role, or any of several).
        ``key`` names the occasion (one notice per key). ``audience``: another audience than
        the notice's own (a connector tells a department's notice to a role, say)."""
        payload: dict[str, Any] = {
            "notice": str(notice),
            "at": at.isoformat(),
            "case_id": case.id if case is not None else None,
            "values": _jsonable(values or {}),
        }
        if department_id is not None:
            payload["department_id"] = department_id
        if lane is not None:
            payload["lane"] = lane
        if group is not None:
            payload["group"] = group
        if role is not None:
            payload["role"] = role if isinstance(role, str) else sorted(str(r) for r in role)
        if task_id is not None:
            payload["task_id"] = task_id
        if audience is not None:
            payload["audience"] = str(audience)
        self.outbox.write(session, topic=NOTIFY_TOPIC, key=f"{NOTIFY_TOPIC}:{key}", payload=payload)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, datetime):
            out[name] = {"datetime": value.isoformat()}
        elif value is None or isinstance(value, str | int | float | bool):
            out[name] = value
        else:
            out[name] = str(value)
    return out


# --- stage 2: the fan-out ----------------------------------------------------------------


def local_text(value: datetime, tz: ZoneInfo, lang: str) -> str:
    """A time as people read it in messages: 12月8日 17:00 / 8 Dec 17:00."""
    local = value.astimezone(tz)
    if lang == "en":
        return f"{local.day} {local.strftime('%b')} {local:%H:%M}"
    return f"{local.month}月{local.day}日 {local:%H:%M}"


_UNIT_NAMES = {
    "workdays": ("个工作日", " working days"),
    "workhours": ("个工作小时", " working hours"),
    "days": ("天", " days"),
    "hours": ("小时", " hours"),
    "minutes": ("分钟", " minutes"),
}
_URGENCY_NAMES = {
    Urgency.NORMAL: ("一般", "normal"),
    Urgency.URGENT: ("紧急", "urgent"),
    Urgency.CRITICAL: ("特急", "critical"),
}
_DEADLINE_NAMES = {
    "sign": ("签收时限", "the sign-for deadline"),
    "reply": ("答复时限", "the reply deadline"),
    "task": ("办理时限", "the task's deadline"),
}
_DECISION_NAMES = {
    "approved": ("同意退单，工单将改派", "approved: the case goes to another unit"),
    "rejected": ("不同意退单，请继续办理", "refused: please go on handling the case"),
}
#: an appeal's decision (申诉审核结果), and its grounds
_APPEAL_DECISION_NAMES = {
    "upheld": ("申诉成立，该案件不再计入考核", "upheld: the case leaves your figures"),
    "rejected": ("申诉驳回", "rejected"),
}
_APPEAL_NOTICES = frozenset({"appeal_filed", "appeal_decided"})
_GROUND_NAMES = {
    "rating": ("评价", "rating"),
    "overdue": ("超期", "overdue"),
    "reopen": ("重办", "reopen"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def summary(text: str, limit: int = 60) -> str:
    """The first ``limit`` characters of a text on one line (an SMS is short)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class FanOut:
    """The ``notify`` handler: recipients, channels, texts, rules; messages and bell rows."""

    def __init__(
        self,
        outbox: Outbox,
        settings: NotifySettings,
        *,
        clock: Clock,
        tz: ZoneInfo,
        case_types: CaseTypes = BUILTIN,
    ) -> None:
        self.outbox = outbox
        self.settings = settings
        self.clock = clock
        self.tz = tz
        self.case_types = case_types

    # the variables of a notice, in one language
    def values(
        self,
        session: Session,
        case: Case | None,
        raw: dict[str, Any],
        lang: str,
        notice: Notice | None = None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"centre": self.settings.centre, "link": ""}
        if case is not None:
            try:
                case_type = self.case_types[case.case_type].label(lang)
            except KeyError:
                case_type = case.case_type
            out.update(
                case_number=case.number,
                case_type=case_type,
                category=case.category,
                urgency=_pick(_URGENCY_NAMES.get(case.urgency, (case.urgency,) * 2), lang),
                reply_due=local_text(case.reply_due, self.tz, lang) if case.reply_due else "",
                sign_due=local_text(case.sign_due, self.tz, lang) if case.sign_due else "",
                summary=summary(case.description),
            )
            reply = (case.policy or {}).get("reply") or {}
            if reply.get("value") and reply.get("unit") in _UNIT_NAMES:
                out["reply_limit"] = f"{reply['value']}{_pick(_UNIT_NAMES[reply['unit']], lang)}"
            else:
                out["reply_limit"] = ""
            if self.settings.public_url:
                out["link"] = f"{self.settings.public_url.rstrip('/')}/cases/{case.number}"
            if case.lead_department_id is not None:
                lead = session.get(Department, case.lead_department_id)
                if lead is not None:
                    out["department"] = _department_name(lead, lang)
                    out["lead_department"] = out["department"]
        for name, value in raw.items():
            if isinstance(value, dict) and "datetime" in value:
                value = local_text(datetime.fromisoformat(value["datetime"]), self.tz, lang)
            elif name == "deadline" and value in _DEADLINE_NAMES:
                value = _pick(_DEADLINE_NAMES[value], lang)
            elif name == "decision" and notice in _APPEAL_NOTICES:
                if value in _APPEAL_DECISION_NAMES:
                    value = _pick(_APPEAL_DECISION_NAMES[value], lang)
            elif name == "ground" and notice in _APPEAL_NOTICES and value in _GROUND_NAMES:
                value = _pick(_GROUND_NAMES[value], lang)
            elif name == "decision" and value in _DECISION_NAMES:
                value = _pick(_DECISION_NAMES[value], lang)
            elif name in ("department", "lead_department") and isinstance(value, int):
                department = session.get(Department, value)
                value = _department_name(department, lang) if department else ""
            elif name == "task" and isinstance(value, str) and " " in value:
                value = _bilingual(value, lang)
            if name == "summary" and isinstance(value, str):
                value = summary(value)
            out[name] = value
        return out

    def __call__(self, session: Session, message: Message) -> None:
        payload = message.payload
        try:
            notice = Notice(payload["notice"])
        except ValueError:
            raise PermanentFailure(f"unknown notice {payload.get('notice')!r}") from None
        case = session.get(Case, payload["case_id"]) if payload.get("case_id") else None
        if payload.get("case_id") and case is None:
            return  # the case was removed (retention): nobody to tell about it
        raw = dict(payload.get("values") or {})
        if payload.get("task_id") and "due" not in raw:
            due = session.scalar(
                select(HumanTask.due_at).where(HumanTask.task_id == payload["task_id"])
            )
            raw["due"] = {"datetime": due.isoformat()} if due else ""
        ctx = _Context(
            key=message.key,
            notice=notice,
            case=case,
            event_at=datetime.fromisoformat(payload["at"]),
            raw=raw,
        )
        audience = Audience(payload.get("audience") or AUDIENCE[notice])
        if audience == Audience.CITIZEN:
            self._citizen(session, ctx)
        elif audience == Audience.DEPARTMENT:
            department = session.get(Department, payload.get("department_id"))
            if department is not None:
                self._department(session, ctx, department)
        else:
            self._staff(session, ctx, payload)
        if ctx.bells:
            # one statement for everyone's bell; a key written before (this fan-out ran
            # already) is skipped
            session.execute(_insert(session, Notification).on_conflict_do_nothing(), ctx.bells)

    def _values(self, session: Session, ctx: _Context, lang: str) -> dict[str, Any]:
        if lang not in ctx.values:
            ctx.values[lang] = self.values(session, ctx.case, ctx.raw, lang, ctx.notice)
        return ctx.values[lang]

    # --- audiences

    def _citizen(self, session: Session, ctx: _Context) -> None:
        case = ctx.case
        if case is None or case.merged_into_id is not None and ctx.notice != Notice.CASE_CLOSED:
            return
        phone = canonical_phone(case.caller_phone)
        if not phone:
            return  # nobody to text (an anonymous web report, an Open311 request without one)
        lang = "zh"
        critical = case.urgency == Urgency.CRITICAL
        status, reason, not_before = "queued", "", None
        if not is_mobile(phone):
            status, reason = "suppressed", "not a mobile number: SMS cannot reach it"
        elif session.get(SmsOptOut, phone) is not None:
            status, reason = "suppressed", "the citizen replied TD (opted out)"
        elif self._sent_today(session, phone) >= self.settings.daily_limit:
            status, reason = (
                "suppressed",
                f"daily limit of {self.settings.daily_limit} SMS to this number reached",
            )
        else:
            not_before = None if critical else self.quiet_until(self.clock.now())
            if not_before is not None:
                status, reason = "held", "quiet hours"
        self._message(
            session,
            ctx,
            channel=Channel.SMS,
            audience=Audience.CITIZEN,
            recipient=phone,
            lang=lang,
            status=status,
            reason=reason,
            not_before=not_before,
            critical=critical,
        )

    def _department(self, session: Session, ctx: _Context, department: Department) -> None:
        # the unit's own addresses: its duty phone and e-mail, its system's webhook
        for channel, recipient in (
            (Channel.SMS, department.duty_phone),
            (Channel.EMAIL, department.duty_email),
            (Channel.WEBHOOK, department.webhook_url),
        ):
            if recipient:
                self._message(
                    session,
                    ctx,
                    channel=channel,
                    audience=Audience.DEPARTMENT,
                    recipient=recipient,
                    lang="zh",
                    department_id=department.id,
                    secret=department.webhook_secret if channel == Channel.WEBHOOK else "",
                )
        people = session.scalars(
            select(User)
            .where(
                User.department_id == department.id,
                User.active.is_(True),
                User.role.in_((Role.HANDLER, Role.DISPATCHER)),
            )
            .order_by(User.id)
        )
        self._people(session, ctx, people, department_id=department.id)

    def _staff(self, session: Session, ctx: _Context, payload: dict[str, Any]) -> None:
        if payload.get("task_id"):
            task = session.execute(
                select(HumanTask.lane, HumanTask.candidate_group).where(
                    HumanTask.task_id == payload["task_id"]
                )
            ).first()
            if task is None or not task.lane:
                return
            payload = {**payload, "lane": task.lane, "group": task.candidate_group}
        stmt = select(User).where(User.active.is_(True)).order_by(User.id)
        if isinstance(payload.get("role"), list):
            stmt = stmt.where(User.role.in_(payload["role"]))
        elif payload.get("role"):
            stmt = stmt.where(User.role == payload["role"])
        elif payload.get("lane"):
            stmt = stmt.where(User.role == payload["lane"])
            if payload.get("group"):
                stmt = stmt.join(Department, Department.id == User.department_id).where(
                    Department.code == payload["group"]
                )
        else:
            return
        self._people(session, ctx, session.scalars(stmt))

    def _people(
        self,
        session: Session,
        ctx: _Context,
        people: Iterable[User],
        *,
        department_id: int | None = None,
    ) -> None:
        for user in people:
            lang = user.lang if user.lang in ("zh", "en") else "zh"
            for channel in channels_for(user, ctx.notice):
                if channel == Channel.INAPP:
                    self._bell(session, ctx, user, department_id)
                else:
                    self._message(
                        session,
                        ctx,
                        channel=channel,
                        audience=Audience.STAFF,
                        recipient=user.phone if channel == Channel.SMS else user.email,
                        lang=lang,
                        user_id=user.id,
                        department_id=department_id,
                    )

    # --- writing

    def _bell(self, session: Session, ctx: _Context, user: User, department_id: int | None) -> None:
        lang = user.lang if user.lang in ("zh", "en") else "zh"
        _, text = render(session, ctx.notice, Channel.INAPP, lang, self._values(session, ctx, lang))
        ctx.bells.append(
            {
                "key": f"{ctx.key}:inapp:{user.id}",
                "user_id": user.id,
                "department_id": department_id,
                "case_id": ctx.case.id if ctx.case is not None else None,
                "kind": str(ctx.notice),
                "text": text,
                "created_at": ctx.event_at,
                "delivered_at": self.clock.now(),
            }
        )

    def _message(
        self,
        session: Session,
        ctx: _Context,
        *,
        channel: Channel,
        audience: Audience,
        recipient: str,
        lang: str,
        status: str = "queued",
        reason: str = "",
        not_before: datetime | None = None,
        critical: bool = False,
        department_id: int | None = None,
        user_id: int | None = None,
        secret: str = "",
    ) -> None:
        who = f"u{user_id}" if user_id else f"d{department_id}" if department_id else "c"
        key = f"{ctx.key}:{channel}:{who}"
        values = self._values(session, ctx, lang)
        if channel == Channel.WEBHOOK:
            subject, body = "", ""
        else:
            subject, body = render(session, ctx.notice, channel, lang, values)
        if status in ("queued", "held") and not self.settings.senders.configured(channel):
            status, reason, not_before = "recorded", "no channel configured", None
        elif status == "queued" and channel != Channel.SMS and is_example_address(recipient):
            status, reason = "recorded", "an example address (RFC 2606): recorded, not sent"
        enqueue(
            session,
            self.outbox,
            key=key,
            channel=channel,
            notice=ctx.notice,
            audience=audience,
            recipient=recipient,
            subject=subject,
            body=body,
            lang=lang,
            status=status,
            reason=reason,
            not_before=not_before,
            critical=critical,
            case_id=ctx.case.id if ctx.case is not None else None,
            department_id=department_id,
            user_id=user_id,
            event_at=ctx.event_at,
            now=self.clock.now(),
            secret=secret,
            webhook=(lambda: self._webhook_body(ctx, values, key))
            if channel == Channel.WEBHOOK
            else None,
        )

    def _webhook_body(self, ctx: _Context, values: dict[str, Any], key: str) -> dict:
        case = ctx.case
        body: dict[str, Any] = {
            "id": key,
            "event": str(ctx.notice),
            "name": NOTICE_NAMES[ctx.notice][0],
            "at": ctx.event_at.isoformat(),
        }
        if case is not None:
            body["case"] = {
                "number": case.number,
                "case_type": case.case_type,
                "category": case.category,
                "urgency": case.urgency,
                "status": case.status,
                "area": case.area,
                "sign_due": case.sign_due.isoformat() if case.sign_due else None,
                "reply_due": case.reply_due.isoformat() if case.reply_due else None,
                "link": values.get("link") or None,
            }
        body["values"] = {k: v for k, v in ctx.raw.items() if not isinstance(v, dict)} | {
            k: v["datetime"] for k, v in ctx.raw.items() if isinstance(v, dict)
        }
        return body

    # --- the citizens' rules

    def _sent_today(self, session: Session, phone: str) -> int:
        """SMS to ``phone`` made since local midnight and not suppressed."""
        now = self.clock.now().astimezone(self.tz)
        midnight = datetime.combine(now.date(), time(0), tzinfo=self.tz)
        return (
            session.scalar(
                select(func.count())
                .select_from(MessageRow)
                .where(
                    MessageRow.recipient == phone,
                    MessageRow.created_at >= midnight,
                    MessageRow.channel == Channel.SMS,
                    MessageRow.status != "suppressed",
                )
            )
            or 0
        )

    def quiet_until(self, now: datetime) -> datetime | None:
        """The end of the quiet hours ``now`` falls in (None: not in quiet hours)."""
        return quiet_until(now, self.settings.quiet_start, self.settings.quiet_end, self.tz)


def quiet_until(
    now: datetime, start: time | None, end: time | None, tz: ZoneInfo
) -> datetime | None:
    if start is None or end is None:
        return None
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    today: date = local.date()
    if start < end:  # e.g. 12:00-14:00 within one day
        inside = start <= clock < end
        end_day = today
    else:  # e.g. 22:00-08:00 across midnight
        inside = clock >= start or clock < end
        end_day = today + timedelta(days=1) if clock >= start else today
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz)


def enqueue(
    session: Session,
    outbox: Outbox,
    *,
    key: str,
    channel: Channel | str,
    notice: Notice | str,
    audience: Audience | str,
    recipient: str,
    body: str,
    event_at: datetime,
    now: datetime,
    subject: str = "",
    lang: str = "zh",
    status: str = "queued",
    reason: str = "",
    not_before: datetime | None = None,
    critical: bool = False,
    case_id: int | None = None,
    department_id: int | None = None,
    user_id: int | None = None,
    secret: str = "",
    webhook: Callable[[], dict[str, Any]] | None = None,
) -> int | None:
    """Write one message: its ``messages`` row and, when it is to leave (``queued`` or
    ``held``), its ``notify.deliver`` outbox row with the same key, in the caller's
    transaction. A key written before is skipped (None): a fan-out run twice sends once."""
    message_id = session.scalar(
        _insert(session, MessageRow)
        .values(
            key=key,
            channel=str(channel),
            notice=str(notice),
            audience=str(audience),
            recipient=recipient,
            case_id=case_id,
            department_id=department_id,
            user_id=user_id,
            lang=lang,
            subject=subject,
            body=body,
            status=status,
            reason=reason,
            critical=critical,
            attempts=0,
            last_error="",
            provider_ref="",
            event_at=event_at,
            created_at=now,
            not_before=not_before,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(MessageRow.id)
    )
    if message_id is None or status not in ("queued", "held"):
        return message_id
    deliver: dict[str, Any] = {
        "message_id": message_id,
        "channel": str(channel),
        "to": recipient,
        "subject": subject,
        "text": body,
        "citizen": audience == Audience.CITIZEN,
    }
    if webhook is not None:
        deliver["secret"] = secret
        deliver["payload"] = webhook()
    outbox.write(session, topic=DELIVER_TOPIC, key=key, payload=deliver, not_before=not_before)
    return message_id


class _Context:
    __slots__ = ("key", "notice", "case", "event_at", "raw", "values", "bells")

    def __init__(
        self, *, key: str, notice: Notice, case: Case | None, event_at: datetime, raw: dict
    ) -> None:
        self.key = key.removeprefix(f"{NOTIFY_TOPIC}:")
        self.notice = notice
        self.case = case
        self.event_at = event_at
        self.raw = raw
        #: the notice's variables per language, computed once
        self.values: dict[str, dict[str, Any]] = {}
        #: the bell rows to insert
        self.bells: list[dict[str, Any]] = []


def _insert(session: Session, model):
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def _department_name(department: Department, lang: str) -> str:
    return (department.name_en or department.name) if lang == "en" else department.name


def _bilingual(name: str, lang: str) -> str:
    """Task names are written "办理 Handle": the half for ``lang``."""
    zh, _, en = name.partition(" ")
    if lang == "en" and en and en.isascii():
        return en
    return zh


# --- stage 3: the delivery ---------------------------------------------------------------


class Delivery(ExternalHandler):
    """The ``notify.deliver`` handler: hand one message to its channel's sender."""

    def __init__(self, settings: NotifySettings, session_factory, *, clock: Clock) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.clock = clock

    def perform(self, message: Message) -> Any:
        p = message.payload
        if p.get("citizen") and self._opted_out(p["to"]):
            return {"suppressed": "the citizen replied TD (opted out)"}
        sender = self.settings.senders.get(p["channel"])
        if sender is None:
            return {"recorded": "no channel configured"}
        outgoing = Outgoing(
            id=message.key,
            channel=p["channel"],
            to=p["to"],
            text=p.get("text", ""),
            subject=p.get("subject", ""),
            payload=p.get("payload") or {},
            secret=p.get("secret", ""),
        )
        try:
            ref = sender.send(outgoing)
        except DeliveryError as exc:
            if not exc.retry:
                raise PermanentFailure(str(exc)) from exc
            raise
        return {"sent": ref or ""}

    def _opted_out(self, phone: str) -> bool:
        session = self.session_factory()
        try:
            return session.get(SmsOptOut, phone) is not None
        finally:
            session.close()

    def __call__(self, session: Session, message: Message, outcome: Any = None) -> None:
        outcome = outcome or {}
        now = self.clock.now()
        values: dict[str, Any]
        if "sent" in outcome:
            values = {"status": "sent", "sent_at": now, "provider_ref": str(outcome["sent"])[:120]}
        elif "suppressed" in outcome:
            values = {"status": "suppressed", "reason": outcome["suppressed"]}
        else:
            values = {"status": "recorded", "reason": outcome.get("recorded", "")}
        session.execute(
            update(MessageRow)
            .where(MessageRow.key == message.key)
            .values(attempts=MessageRow.attempts + 1, last_error="", **values)
        )

    def failed(self, session: Session, message: Message, error: str, *, final: bool) -> None:
        session.execute(
            update(MessageRow)
            .where(MessageRow.key == message.key)
            .values(
                status="incident" if final else "failed",
                attempts=MessageRow.attempts + 1,
                last_error=error[:2000],
            )
        )


# --- incidents: administrators are told ---------------------------------------------------


class IncidentAlerts:
    """Tells the administrators of an incident: a timer or a message given up on."""

    def __init__(self, notifier: Notifier, clock: Clock) -> None:
        self.notifier = notifier
        self.clock = clock

    def outbox_incident(self, session: Session, message: Message, error: str) -> None:
        if message.topic == NOTIFY_TOPIC and message.payload.get("notice") == Notice.INCIDENT:
            return  # an alert about an alert would never end
        if message.topic == DELIVER_TOPIC and ":incident:" in f":{message.key}":
            return
        what = f"outbox message {message.id} ({message.topic}) given up on"
        case = None
        if message.topic == DELIVER_TOPIC:
            what = (
                f"{message.payload.get('channel')} message {message.payload.get('message_id')} "
                f"to {_masked(message.payload)} could not be delivered"
            )
        elif message.topic == CONNECTOR_TOPIC:
            case = session.scalar(
                select(Case).where(Case.instance_id == message.payload.get("instance_id"))
            )
            what = (
                f"connector {message.payload.get('connector')} at "
                f"{message.payload.get('element_id')} of case "
                f"{case.number if case else message.payload.get('instance_id')} given up on: "
                "the case waits there until it is retried"
            )
        now = self.clock.now()
        self.notifier.notice(
            session,
            Notice.INCIDENT,
            key=f"incident:outbox:{message.id}:{now.isoformat()}",
            at=now,
            case=case,
            values={"what": what, "error": error[:300]},
            role=Role.ADMIN,
        )

    def timer_incident(self, session: Session, instance_id: int, error: str) -> None:
        case = session.scalar(select(Case).where(Case.instance_id == instance_id))
        now = self.clock.now()
        what = f"timer of case {case.number}" if case else f"timer of instance {instance_id}"
        self.notifier.notice(
            session,
            Notice.INCIDENT,
            key=f"incident:timer:{instance_id}:{now.isoformat()}",
            at=now,
            case=case,
            values={"what": what + " keeps failing", "error": error[:300]},
            role=Role.ADMIN,
        )


def _masked(payload: dict[str, Any]) -> str:
    if payload.get("channel") == Channel.SMS:
        return mask_phone(payload.get("to", ""))
    return str(payload.get("to", ""))


# --- operations ------------------------------------------------------------------------------


def retry_message(session: Session, outbox: Outbox, message_id: int) -> MessageRow:
    """Put a failed message or an incident back in the queue (attempts reset)."""
    from engine.models import OutboxMessage

    with unit_of_work(session):
        row = session.get(MessageRow, message_id)
        if row is None:
            raise DomainError(f"message {message_id} does not exist")
        if row.status not in ("failed", "incident"):
            raise DomainError(
                f"message {message_id} is {row.status}: only failed messages and incidents "
                "are retried"
            )
        outbox_id = session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == row.key))
        if outbox_id is None:
            raise DomainError(f"message {message_id} has no delivery to retry")
        outbox.retry(session, outbox_id)
        row.status = "queued"
        row.last_error = ""
    return row
