"""SMS replies from citizens: a survey's 1/2/3 recorded as the case's callback, TD/KT, and
every other text kept for a person (the SMS gateway's inbound webhook calls ``receive_sms``).

A survey answer completes the case's ready callback task through ``flows.complete_task``, as
a callback agent's form would, acting as the system user ``sms`` (role callback, no password:
nobody signs in as it). Everything one SMS does (the ``SmsInbound`` row, the callback, a note,
an opt-out, the audit row) is one transaction; completing the callback runs in a savepoint, so
a refusal (a timer took the task, someone claimed it) leaves the SMS for a person instead.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db import is_postgres, unit_of_work
from engine.errors import EngineError
from engine.models import HumanTask

from ..audit.service import Actor, append
from ..cases import flows
from ..cases.models import Case, CaseNote
from ..cases.phones import canonical_phone
from ..cases.steps import Step
from ..events import CaseEventKind
from ..policy.models import DeadlinePolicy
from ..policy.service import get_policy
from ..users.models import Role, User
from ..users.service import SMS_USERNAME
from .models import Message, SmsInbound, SmsOptOut
from .notices import Notice

if TYPE_CHECKING:
    from ..hotline import Hotline

#: the survey's answers, as the callback form's ``satisfaction``
SURVEY_ANSWERS = {"1": "satisfied", "2": "basically_satisfied", "3": "unsatisfied"}
#: words a citizen may write after the digit (1满意, the survey's own words in zh and en); a
#: word that contradicts the digit makes the SMS text for a person
_ANSWER_WORDS = {
    "1": ("满意", "非常满意", "很满意", "satisfied", "very satisfied"),
    "2": ("基本满意", "一般", "basically satisfied"),
    "3": ("不满意", "很不满意", "非常不满意", "unsatisfied", "dissatisfied", "not satisfied"),
}
_SURVEY = re.compile(r"([123])(?:\s*[.、:：,，]?\s*(\D*?))?\s*[.。!！]?")
OPT_OUT = frozenset({"TD", "退订"})
OPT_IN = frozenset({"KT"})
#: a survey counts as sent when the gateway has it, or it is on its way or recorded
SENT = ("sent", "recorded", "queued")
#: cases from before surveys were sent (no message rows): a reply within this of the callback
#: becoming due is taken as its answer
FALLBACK = timedelta(days=30)
TEXT_MAX = 2000
#: the PostgreSQL advisory lock space of one number's SMS (two posts of one SMS wait in turn)
_LOCK_SPACE = 0x736D73


class Kind(StrEnum):
    SURVEY = "survey"  # 1/2/3 recorded as the callback
    OPTOUT = "optout"  # TD
    OPTIN = "optin"  # KT
    TEXT = "text"  # kept for a person (and a note on the case)
    UNMATCHED = "unmatched"  # no case for the number: for a person


class Status(StrEnum):
    OPEN = "open"  # waiting for a person
    DONE = "done"


@dataclass(frozen=True)
class Reply:
    """What a citizen's SMS says: a survey answer (its digit), TD, KT, or text."""

    kind: str
    digit: str = ""


@dataclass(frozen=True)
class Received:
    """What was done with one SMS: its row, its case's number, and whether it was a repeat of
    one already received (the gateway posted it twice)."""

    row: SmsInbound
    case_number: str | None
    duplicate: bool = False


def parse_reply(body: str) -> Reply:
    """``1``, ``１``, `` 2 ``, ``1满意``, ``3 不满意`` -> a survey answer; ``TD``/``td``/``退订``
    -> opt out; ``KT`` -> opt back in; anything else -> text."""
    plain = unicodedata.normalize("NFKC", body or "").strip()
    word = re.sub(r"\s+", "", plain).upper()
    if word in OPT_OUT:
        return Reply(Kind.OPTOUT)
    if word in OPT_IN:
        return Reply(Kind.OPTIN)
    match = _SURVEY.fullmatch(plain)
    if match:
        words = " ".join((match.group(2) or "").split()).casefold()
        if not words or words in _ANSWER_WORDS[match.group(1)]:
            return Reply(Kind.SURVEY, match.group(1))
    return Reply(Kind.TEXT)


# -- the system user --------------------------------------------------------------------------


def sms_user(session: Session, hotline: Hotline) -> User:
    """The system user SMS callbacks are recorded as (made on first use): role callback, no
    password (sign-in refuses it: ``users.service.SYSTEM_USERNAMES``)."""
    user = session.scalars(select(User).where(User.username == SMS_USERNAME)).first()
    if user is not None:
        return user
    user = User(
        username=SMS_USERNAME,
        display_name="短信回访 SMS",
        role=str(Role.CALLBACK),
        department_id=None,
        password_hash="",
        active=True,
        created_at=hotline.clock.now(),
    )
    try:
        with session.begin_nested():  # another request may make it at the same moment
            session.add(user)
    except IntegrityError:
        user = session.scalars(select(User).where(User.username == SMS_USERNAME)).one()
    return user


# -- matching a number to its case ------------------------------------------------------------


def _sms_to(phone: str, *notices: str):
    """An SMS (of one of ``notices``, or any) to ``phone`` about the case, on its way or sent."""
    where = [
        Message.case_id == Case.id,
        Message.channel == "sms",
        Message.recipient == phone,
        Message.status.in_(SENT),
    ]
    if notices:
        where.append(Message.notice.in_(notices))
    return exists().where(and_(*where))


def survey_case(session: Session, *, phone: str, now: datetime) -> tuple[Case, HumanTask] | None:
    """The case whose survey this number answers: the newest with a ready callback to which a
    survey was sent; failing that, for cases from before surveys (no message rows at all),
    the newest whose callback became due within :data:`FALLBACK`."""
    ready = (
        select(Case, HumanTask)
        .join(HumanTask, HumanTask.instance_id == Case.instance_id)
        .where(
            Case.caller_phone == phone,
            HumanTask.state == "ready",
            HumanTask.kind == str(Step.CALLBACK),
        )
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(1)
    )
    row = session.execute(ready.where(_sms_to(phone, Notice.SURVEY))).first()
    if row is None:
        older = ~exists().where(Message.case_id == Case.id)
        row = session.execute(ready.where(older, HumanTask.created_at >= now - FALLBACK)).first()
    return (row[0], row[1]) if row else None


def text_case(session: Session, *, phone: str, now: datetime) -> Case | None:
    """The case a text from this number is about: the newest that was sent an SMS to it
    (a survey first), else the newest of the number's cases touched within :data:`FALLBACK`."""
    newest = (
        select(Case)
        .where(Case.caller_phone == phone)
        .order_by(Case.created_at.desc(), Case.id.desc())
    )
    for where in (
        _sms_to(phone, Notice.SURVEY),
        _sms_to(phone),
        Case.updated_at >= now - FALLBACK,
    ):
        case = session.scalars(newest.where(where).limit(1)).first()
        if case is not None:
            return case
    return None


# -- receiving ----------------------------------------------------------------------------------


def _lock_number(session: Session, phone: str) -> None:
    """Two posts of one SMS wait for each other (SQLite's write transaction already does)."""
    if is_postgres(session):
        key = int.from_bytes(hashlib.sha256(phone.encode()).digest()[:4], "big")
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"),
            {"space": _LOCK_SPACE, "key": key - (1 << 31)},
        )


def _already(session: Session, *, phone: str, body: str, at: datetime) -> SmsInbound | None:
    return session.scalars(
        select(SmsInbound)
        .where(
            SmsInbound.from_phone == phone,
            SmsInbound.received_at == at,
            SmsInbound.text == body,
        )
        .order_by(SmsInbound.id)
        .limit(1)
    ).first()


def receive_sms(
    session: Session,
    hotline: Hotline,
    *,
    phone: str,
    body: str,
    received_at: datetime | None = None,
    address: str = "",
) -> Received:
    """Record one SMS from a citizen and do what it asks, in one transaction. The same SMS
    posted again (same number, text and time) is the first one's row, unchanged."""
    phone = canonical_phone(phone)
    if not phone:
        raise ValueError("an SMS needs the number it came from")
    at = received_at or hotline.clock.now()
    with unit_of_work(session):
        _lock_number(session, phone)
        first = _already(session, phone=phone, body=body, at=at)
        if first is not None:
            case = session.get(Case, first.case_id) if first.case_id else None
            return Received(first, case.number if case else None, duplicate=True)
        user = sms_user(session, hotline)
        row = SmsInbound(from_phone=phone, text=body, received_at=at, extra={})
        reply = parse_reply(body)
        case = None
        if reply.kind == Kind.OPTOUT:
            _opt_out(session, hotline, row, phone)
        elif reply.kind == Kind.OPTIN:
            _opt_in(session, row, phone)
        elif reply.kind == Kind.SURVEY:
            case = _survey(session, hotline, row, phone=phone, digit=reply.digit, user=user)
        else:
            case = _keep_for_a_person(session, hotline, row, phone=phone, user=user)
        row.case_id = case.id if case else None
        session.add(row)
        session.flush()
        append(
            session,
            at=hotline.clock.now(),
            actor=Actor(user.username, user.id, address),
            action="sms.receive",
            target_type="sms_inbound",
            target_id=row.id,
            case_number=case.number if case else "",
            detail={"kind": row.kind, "status": row.status, "result": row.result},
        )
    return Received(row, case.number if case else None)


def _opt_out(session: Session, hotline: Hotline, row: SmsInbound, phone: str) -> None:
    if session.get(SmsOptOut, phone) is None:
        session.add(SmsOptOut(phone=phone, created_at=hotline.clock.now()))
    row.kind, row.status = Kind.OPTOUT, Status.DONE
    row.result = "opted out: no more SMS to this number until it replies KT"


def _opt_in(session: Session, row: SmsInbound, phone: str) -> None:
    found = session.get(SmsOptOut, phone)
    if found is not None:
        session.delete(found)
    row.kind, row.status = Kind.OPTIN, Status.DONE
    row.result = "opted back in: SMS to this number are sent again"


def _survey(
    session: Session, hotline: Hotline, row: SmsInbound, *, phone: str, digit: str, user: User
) -> Case | None:
    now = hotline.clock.now()
    found = survey_case(session, phone=phone, now=now)
    if found is None:
        case = text_case(session, phone=phone, now=now)
        reason = (
            f"a survey answer ({digit}), but case {case.number} has no callback waiting "
            "(already recorded)"
            if case
            else None
        )
        return _keep_for_a_person(session, hotline, row, phone=phone, user=user, reason=reason)
    case, task = found
    if task.assignee and task.assignee != user.username:
        reason = f"a survey answer ({digit}), but {task.assignee} has claimed the callback"
        return _keep_for_a_person(session, hotline, row, phone=phone, user=user, reason=reason)
    data = callback_data(session, case, digit)
    try:
        with session.begin_nested():
            flows.complete_task(session, hotline, task_id=task.task_id, data=data, user=user)
    except EngineError as exc:  # the domain's refusals: nothing of the attempt is kept
        session.expire_all()
        reason = f"a survey answer ({digit}) that could not be recorded: {exc}"
        return _keep_for_a_person(session, hotline, row, phone=phone, user=user, reason=reason)
    row.kind, row.status = Kind.SURVEY, Status.DONE
    row.result = f"callback recorded: {data['satisfaction']}" + (
        ", case reopened" if data.get("reopen") else ""
    )
    row.extra = {"satisfaction": data["satisfaction"], "reopen": bool(data.get("reopen"))}
    return case


def callback_data(session: Session, case: Case, digit: str) -> dict[str, Any]:
    """The callback form as the survey answer fills it: reached; 1 and 2 count as resolved,
    3 as not resolved; 3 reopens the case when its policy says so."""
    data: dict[str, Any] = {
        "contact_result": "reached",
        "satisfaction": SURVEY_ANSWERS[digit],
        "resolved": "no" if digit == "3" else "yes",
        "callback_note": f"短信回访：回复{digit}",
    }
    if digit == "3":
        data["reopen"] = unsatisfied_reopens(session, case)
    return data


def unsatisfied_reopens(session: Session, case: Case) -> bool:
    """The case's policy ``sms_unsatisfied_reopens``: from the policy the case keeps, else
    from the policy row it was held to (cases keep no copy of it)."""
    policy = case.policy or {}
    if "sms_unsatisfied_reopens" in policy:
        return bool(policy["sms_unsatisfied_reopens"])
    held = policy.get("row") or {}
    try:
        row: DeadlinePolicy = get_policy(
            session,
            case_type=held.get("case_type") or case.case_type,
            urgency=held.get("urgency") or case.urgency,
            category=held.get("category") or "",
        )
    except LookupError:
        return False
    return bool(row.sms_unsatisfied_reopens)


def _keep_for_a_person(
    session: Session,
    hotline: Hotline,
    row: SmsInbound,
    *,
    phone: str,
    user: User,
    reason: str | None = None,
) -> Case | None:
    """Text (or an answer that could not be recorded): a note on the matched case, and an
    open item in the queue; unmatched when no case is found."""
    case = text_case(session, phone=phone, now=hotline.clock.now())
    row.status = Status.OPEN
    if case is None:
        row.kind = Kind.UNMATCHED
        row.result = "no case found for this number"
        return None
    note = CaseNote(
        case_id=case.id,
        author=user.username,
        department_id=None,
        kind="sms_reply",
        body=row.text.strip()[:TEXT_MAX],
        created_at=hotline.clock.now(),
    )
    session.add(note)
    session.flush()
    if case.instance_id is not None:
        hotline.runtime.record_event(
            session,
            case.instance_id,
            CaseEventKind.NOTE,
            actor=user.username,
            payload={"case": case.number, "kind": "sms_reply", "body": note.body},
        )
    row.kind = Kind.TEXT
    row.result = (reason + "; " if reason else "") + f"kept as a note on case {case.number}"
    row.extra = {"note_id": note.id}
    return case
