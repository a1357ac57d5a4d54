"""Reporter confidentiality: who sees a confidential case's caller, masked or in full.

A case is confidential when its type says so (a report, 举报: the law forbids disclosing a
reporter) or when the caller asked at intake (the ``confidential`` checkbox, or Open311's
``attribute[confidential]``); the flag is stored on the case at intake. Departments (handlers,
and the dispatchers of a district platform) see its caller's name and phone masked, everywhere:
pages, API, CSV, search (a department cannot find it by the caller's phone). The centre's
roles see them in full, and every such view is recorded (``IdentityView``) for the
administrators and supervisors to read.

``mask_name`` and ``mask_phone`` are the one masking; ``caller_identity`` applies it, and the
web app's presentation layer (``webapp/identity.py``) calls that for every page, export and
answer, so no view slices strings of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..departments.models import Department
from ..users.models import Role, User
from .models import Case, IdentityView

MASK = "**"
PHONE_MASK = "****"
#: roles of the centre that see a confidential caller in full (a dispatcher only at the
#: city's platform: a district platform's dispatcher works for a department)
CENTRE_ROLES = frozenset({Role.OPERATOR, Role.CALLBACK, Role.SUPERVISOR, Role.LEAD, Role.ADMIN})
#: where an identity was shown, for the view log
CHANNELS = ("page", "list", "task", "csv", "api")
#: two-character surnames (复姓) kept whole before the mask: 欧阳娜娜 -> 欧阳**
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "令狐",
        "夏侯",
        "轩辕",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "百里",
        "呼延",
        "澹台",
        "公冶",
        "宗政",
        "濮阳",
        "太叔",
        "申屠",
        "闻人",
        "钟离",
        "赫连",
        "万俟",
        "司空",
    ]
)
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"(0(?:1\d|2\d|[3-9]\d\d))(\d{7,8})")


def mask_name(name: str | None) -> str:
    """The caller's name with only the surname left: 张三丰 -> 张**, 欧阳娜娜 -> 欧阳**,
    John Smith -> J**; a name of one character (a surname alone) is all mask. The mask has
    one length, so it does not tell the name's."""
    name = (name or "").strip()
    if not name:
        return ""
    if len(name) == 1:
        return MASK
    head = name[:2] if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else name[0]
    return head + MASK


def mask_phone(phone: str | None) -> str:
    """The caller's phone (stored canonical form) masked: a mobile keeps its first three and
    last four digits (138****8000), a landline its area code and last two (0750****67), any
    other number of seven characters or more its first and last two; shorter numbers are all
    mask. An extension is masked too."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    number, dash, extension = phone.partition("-")
    tail = "-" + PHONE_MASK if dash and extension else ""
    if _MOBILE.fullmatch(number):
        return number[:3] + PHONE_MASK + number[-4:] + tail
    landline = _LANDLINE.fullmatch(number)
    if landline:
        return landline.group(1) + PHONE_MASK + number[-2:] + tail
    if len(number) >= 7:
        return number[:2] + PHONE_MASK + number[-2:] + tail
    return PHONE_MASK + tail


@dataclass(frozen=True)
class Identity:
    """A caller's name and phone as one viewer may see them."""

    name: str
    phone: str
    #: shown masked (the viewer is a department)
    masked: bool = False
    #: the case is confidential (a centre viewer sees it in full, and the view is recorded)
    confidential: bool = False


def is_confidential(case: Case) -> bool:
    return bool(case.confidential)


def is_centre(user: User, department: Department | None) -> bool:
    """Whether the user works for the centre (sees confidential callers in full): operators,
    callback agents, supervisors, leads, administrators, and dispatchers of the city's
    platform (or of no department); handlers and district dispatchers are departments."""
    if user.role in CENTRE_ROLES:
        return True
    if user.role == Role.DISPATCHER:
        return department is None or department.parent_id is None
    return False


def caller_identity(case: Case, *, centre: bool) -> Identity:
    """The caller's name and phone for a viewer: masked for a department when the case is
    confidential, in full otherwise."""
    confidential = is_confidential(case)
    if confidential and not centre:
        return Identity(
            mask_name(case.caller_name), mask_phone(case.caller_phone), True, confidential
        )
    return Identity(case.caller_name or "", case.caller_phone or "", False, confidential)


def full_views(cases: Iterable[Case], *, centre: bool) -> list[int]:
    """The ids of the cases whose confidential caller this viewer sees in full (to record)."""
    if not centre:
        return []
    return list(dict.fromkeys(c.id for c in cases if is_confidential(c)))


def record_views(
    session: Session,
    *,
    case_ids: Iterable[int],
    user: User,
    channel: str,
    path: str,
    now: datetime,
) -> int:
    """One ``IdentityView`` per case (inside the caller's transaction); the count."""
    if channel not in CHANNELS:
        raise ValueError(f"{channel!r} is not one of {CHANNELS}")
    rows = [
        IdentityView(
            case_id=case_id,
            username=user.username,
            role=str(user.role),
            channel=channel,
            path=path[:300],
            viewed_at=now,
        )
        for case_id in dict.fromkeys(case_ids)
    ]
    session.add_all(rows)
    return len(rows)


def views_of(session: Session, *, case_id: int, limit: int = 200) -> list[IdentityView]:
    """The recorded full views of a case's caller, newest first."""
    return list(
        session.scalars(
            select(IdentityView)
            .where(IdentityView.case_id == case_id)
            .order_by(IdentityView.viewed_at.desc(), IdentityView.id.desc())
            .limit(limit)
        )
    )


def confidential_ids(session: Session, stmt: Select, *, limit: int) -> list[int]:
    """The confidential cases among the first ``limit`` of ``stmt`` (a query over Case), for
    recording an export's full views before it streams."""
    sub = stmt.limit(limit).subquery()
    return list(session.scalars(select(sub.c.id).where(sub.c.confidential.is_(True))))


def hide_from_search(stmt: Select, *, centre: bool) -> Select:
    """A search by the caller (phone, name) over ``stmt``: departments do not find
    confidential cases by who called."""
    return stmt if centre else stmt.where(Case.confidential.is_(False))
