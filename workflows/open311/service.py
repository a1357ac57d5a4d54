"""Open311 in hotline words: channels and their keys, service codes, statuses, requests.

Services are the case types (``complaint``...) and the dispatch catalogue's categories
(``c-`` and ten hex digits of the category's SHA-256, stable while the name stays). Their
attributes are the intake form's fields that Open311 has no standard parameter for, so a
field added to the form appears here by itself.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import unit_of_work
from engine.errors import NotFound
from engine.events import EventKind
from engine.models import InstanceEvent

from ..cases.enums import STATUS_NAMES, CaseStatus
from ..cases.models import Case
from ..cases.types import CaseTypes
from ..dispatch.service import categories
from ..errors import FormInvalid
from ..events import CaseEventKind
from .models import Channel, Open311Request

KEY_PREFIX = "ch_"
S = CaseStatus

#: intake fields filled from Open311's own parameters, or fixed for a channel
STANDARD_FIELDS = {
    "caller_name": "first_name, last_name",
    "caller_phone": "phone",
    "address": "address_string",
    "description": "description",
}
FIXED_FIELDS = {"channel": "open311", "intake_outcome": "dispatch"}
#: fields only an operator fills (answered at once, not accepted)
OPERATOR_FIELDS = ("answer", "not_accepted_reason")
DATATYPES = {
    "textfield": "string",
    "textarea": "text",
    "number": "number",
    "select": "singlevaluelist",
    "radio": "singlevaluelist",
    "checkbox": "singlevaluelist",
    "checklist": "multivaluelist",
    "taglist": "multivaluelist",
    "datetime": "datetime",
}

#: our status -> the servicerequestupdates extension's status
UPDATE_STATUS = {
    S.AWAITING_DISPATCH: "OPEN",
    S.AWAITING_REDISPATCH: "INTERNAL_REFERRAL",
    S.DISPATCHED: "INTERNAL_REFERRAL",
    S.RETURN_REQUESTED: "INVESTIGATING",
    S.IN_PROGRESS: "IN_PROGRESS",
    S.EXTENSION_REQUESTED: "IN_PROGRESS",
    S.SUSPENSION_REQUESTED: "IN_PROGRESS",
    S.SUSPENDED: "ACTION_SCHEDULED",
    S.REPLIED: "IN_PROGRESS",
    S.AWAITING_CALLBACK: "FIXED",
    S.CLOSED: "CLOSED",
    S.MERGED: "DUPLICATE",
}
#: statuses after which a move back to in_progress is a reopening (重办)
REOPENED_FROM = {S.REPLIED, S.AWAITING_CALLBACK}
CLOSED_OUTCOMES = {"not_accepted": "NOT_COUNCILS_RESPONSIBILITY", "merged": "DUPLICATE"}

#: what a citizen reads about each status: the status's one name (STATUS_NAMES), and where the
#: name alone says little to a citizen, what it means
_STATUS_MEANING = {
    S.AWAITING_DISPATCH: (
        "已受理，等待派往承办单位",
        "received, waiting to be sent to a department",
    ),
    S.AWAITING_REDISPATCH: ("已转区级平台", "passed to the district platform"),
    S.DISPATCHED: ("已派往承办单位", "sent to the responsible department"),
    S.RETURN_REQUESTED: ("承办单位申请退单，平台审核中", "being routed again"),
    S.EXTENSION_REQUESTED: ("承办单位申请延期，平台审核中", "more time asked, under review"),
    S.SUSPENSION_REQUESTED: ("承办单位申请挂起，平台审核中", "a pause asked, under review"),
    S.REPLIED: ("承办单位已答复，平台审核中", "the department replied, under review"),
    S.AWAITING_CALLBACK: ("已答复，等待回访", "replied, waiting for the callback"),
    S.MERGED: ("与其他工单合并办理", "handled with another request"),
}
STATUS_NOTES = {
    status: (
        f"{zh}：{_STATUS_MEANING[status][0]}" if status in _STATUS_MEANING else zh,
        f"{en}: {_STATUS_MEANING[status][1]}" if status in _STATUS_MEANING else en,
    )
    for status, (zh, en) in STATUS_NAMES.items()
}


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def words(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


# -- channels -------------------------------------------------------------------------------


def create_channel(
    session: Session, *, name: str, clock: Clock, read_all: bool = False
) -> tuple[Channel, str]:
    """A new channel and its api_key (shown once; only its hash is stored)."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise FormInvalid({"name": ["A channel name of 1 to 64 characters."]})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with unit_of_work(session):
        if session.scalars(select(Channel).where(Channel.name == name)).first() is not None:
            raise FormInvalid({"name": [f"A channel named {name!r} exists already."]})
        channel = Channel(
            name=name,
            key_hash=_hash(key),
            key_prefix=key[:9],
            read_all=read_all,
            active=True,
            created_at=clock.now(),
        )
        session.add(channel)
        session.flush()
    return channel, key


def channel_for_key(session: Session, key: str) -> Channel | None:
    """The active channel with this api_key, or None."""
    if not key or len(key) > 200:
        return None
    channel = session.scalars(select(Channel).where(Channel.key_hash == _hash(key))).first()
    return channel if channel is not None and channel.active else None


def revoke_channel(session: Session, *, name: str, clock: Clock) -> Channel:
    """Switch a channel's key off (its requests stay)."""
    with unit_of_work(session):
        channel = session.scalars(select(Channel).where(Channel.name == name)).first()
        if channel is None:
            raise NotFound(f"channel {name!r} does not exist")
        if channel.active:
            channel.active = False
            channel.revoked_at = clock.now()
        session.flush()
    return channel


def list_channels(session: Session) -> list[Channel]:
    return list(session.scalars(select(Channel).order_by(Channel.name)))


# -- services -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    description: str
    group: str
    keywords: str
    case_type: str | None
    category: str | None


def category_code(category: str) -> str:
    return "c-" + hashlib.sha256(category.encode("utf-8")).hexdigest()[:10]


def services(session: Session, case_types: CaseTypes, *, lang: str = "zh") -> list[Service]:
    """Every service: the case types, then the catalogue's categories."""
    out = []
    for case_type in case_types:
        name = case_type.open311_name(lang)
        out.append(
            Service(
                code=case_type.code,
                name=name,
                description=words(
                    (f"{name}：请在属性中选择类别", f"{name}: choose a category attribute"), lang
                ),
                group=case_type.open311_group(lang),
                keywords=case_type.code,
                case_type=case_type.code,
                category=None,
            )
        )
    for category in categories(session):
        out.append(
            Service(
                code=category_code(category),
                name=category,
                description=words(
                    (f"{category}（默认为投诉）", f"{category} (a complaint unless told)"), lang
                ),
                group=words(("类别", "Category"), lang),
                keywords=category,
                case_type=None,
                category=category,
            )
        )
    return out


def service_by_code(
    session: Session, case_types: CaseTypes, code: str, *, lang: str = "zh"
) -> Service | None:
    return next((s for s in services(session, case_types, lang=lang) if s.code == code), None)


def attributes(form_description: dict[str, Any], service: Service) -> list[dict[str, Any]]:
    """The service's attributes: intake fields Open311 has no parameter for, in form order."""
    fixed = set(STANDARD_FIELDS) | set(FIXED_FIELDS) | set(OPERATOR_FIELDS)
    fixed.add("case_type" if service.case_type else "category")
    out = []
    for order, field in enumerate(form_description["fields"], start=1):
        if field["key"] in fixed or field["type"] not in DATATYPES:
            continue
        datatype = DATATYPES[field["type"]]
        options = field.get("options")
        if field["type"] == "checkbox":
            options = [{"value": "true", "label": "true"}, {"value": "false", "label": "false"}]
        notes = [
            f"{name} {field[name]}"
            for name in ("minLength", "maxLength", "min", "max", "validationType")
            if name in field
        ]
        if "default" in field:
            notes.append(f"default {field['default']}")
        out.append(
            {
                "variable": True,
                "code": field["key"],
                "datatype": datatype,
                "required": bool(field.get("required")) and "default" not in field,
                "datatype_description": "; ".join(notes),
                "order": order,
                "description": field["label"]
                + (f": {field['description']}" if field.get("description") else ""),
                "values": [
                    {"key": str(o["value"]), "name": str(o["label"])} for o in (options or [])
                ],
            }
        )
    return out


# -- requests -------------------------------------------------------------------------------


def is_closed(case: Case) -> bool:
    return case.status in (S.CLOSED, S.MERGED)


def status_notes(case: Case, *, lang: str, master: str | None = None) -> str:
    if case.status == S.MERGED or case.outcome == "merged":
        base = words(STATUS_NOTES[S.MERGED], lang)
        return f"{base} ({master})" if master else base
    if case.status == S.CLOSED:
        text = {
            "answered": case.answer,
            "not_accepted": case.not_accepted_reason,
        }.get(case.outcome) or case.reply_text
        return text or words(STATUS_NOTES[S.CLOSED], lang)
    return words(STATUS_NOTES[CaseStatus(case.status)], lang)


def service_code_of(case: Case, stored: str | None) -> str:
    if stored:
        return stored
    return category_code(case.category) if case.category else case.case_type


def update_status(previous: str | None, new: str, outcome: str) -> str:
    """The servicerequestupdates status for one move of our status table."""
    target = CaseStatus(new)
    if target == S.IN_PROGRESS and previous in REOPENED_FROM:
        return "REOPEN"
    if target == S.CLOSED:
        return CLOSED_OUTCOMES.get(outcome, "CLOSED")
    return UPDATE_STATUS[target]


def requests_query(channel: Channel) -> Select:
    """Cases as requests, with their Open311 row, limited to what the channel may read."""
    stmt = select(Case, Open311Request).outerjoin(Open311Request, Open311Request.case_id == Case.id)
    if not channel.read_all:
        stmt = stmt.where(Open311Request.channel_id == channel.id)
    return stmt


def filter_by_service(
    session: Session, case_types: CaseTypes, stmt: Select, codes: Iterable[str]
) -> Select:
    """Requests of any of the service codes (unknown codes match nothing)."""
    known = {category_code(c): c for c in categories(session)}
    conditions = []
    for code in codes:
        if code in case_types:
            conditions.append(Case.case_type == code)
        elif code in known:
            conditions.append(Case.category == known[code])
    return stmt.where(or_(*conditions)) if conditions else stmt.where(False)


def new_token() -> str:
    return str(uuid.uuid4())


def updates_query(channel: Channel, *, start: datetime, end: datetime) -> Select:
    """Status moves of the channel's requests in ``[start, end]``, oldest first."""
    stmt = (
        select(InstanceEvent, Case, Open311Request)
        .join(Case, Case.instance_id == InstanceEvent.instance_id)
        .outerjoin(Open311Request, Open311Request.case_id == Case.id)
        .where(
            InstanceEvent.kind.in_((EventKind.INSTANCE_STARTED, CaseEventKind.STATUS)),
            InstanceEvent.at >= start,
            InstanceEvent.at <= end,
        )
        .order_by(InstanceEvent.at, InstanceEvent.id)
    )
    if not channel.read_all:
        stmt = stmt.where(Open311Request.channel_id == channel.id)
    return stmt
