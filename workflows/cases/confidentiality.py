"""Reporter confidentiality: who sees a confidential case's caller, masked or in full.

A case is confidential when its type says so (a report, 举报: the law forbids disclosing a
reporter) or when the caller asked at intake (the ``confidential`` checkbox, or Open311's
``attribute[confidential]``); the flag is stored on the case at intake. Departments (handlers,
and the dispatchers of a district platform) see its caller's name and phone masked, everywhere:
pages, API, CSV, search (a department cannot find it by the caller's phone). The centre's
roles see them in full, and every such view is recorded (``IdentityView``) for the
administrators and supervisors to read.

Beyond confidentiality, every caller's personal data is masked by role and surface (the
matrix in docs/privacy.md): lists, CSV exports and API lists show name, phone and address
masked to everyone but the roles whose work reads them there (operators: a caller's history;
callback agents: the calls back); detail views (the case page, the API's case) show them in
full to the centre; a department's handler sees them on the task page (the task needs the
contact) and masked elsewhere, unless revealed (recorded). A confidential case stays masked
for departments everywhere.

``mask_name``, ``mask_phone`` and ``mask_address`` are the one masking; ``caller_identity``
applies it, and the web app's presentation layer (``webapp/identity.py``) calls that for every
page, export and answer, so no view slices strings of its own.
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
#: where an identity was shown, for the view log: a surface
CHANNELS = ("page", "list", "task", "csv", "api", "api_list", "reveal", "print", "export")
#: surfaces that show many cases: masked unless the role's work reads them there
LIST_SURFACES = frozenset({"list", "csv", "api_list"})
#: roles whose work needs the caller's contact in lists: the operator (a caller's history at
#: intake) and the callback agent (calls citizens back from the list)
LIST_FULL_ROLES = frozenset({Role.OPERATOR, Role.CALLBACK})
#: roles that may reveal a masked caller of a case they can see (not a confidential one)
REVEAL_ROLES = frozenset(
    {Role.DISPATCHER, Role.HANDLER, Role.SUPERVISOR, Role.LEAD, Role.ADMIN, Role.CALLBACK}
)
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
#: a phone number inside free text (a mobile, or a landline with its area code)
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
#: where an address's public part (city, district, street) ends
_ADDRESS_PARTS = ("省", "市", "区", "县", "镇", "乡", "街道", "路", "街")
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


def mask_address(address: str | None) -> str:
    """The address down to its street or district, the rest masked: 江门市蓬江区建设路12号3栋
    -> 江门市蓬江区建设路**; with no such part, its first three characters."""
    address = (address or "").strip()
    if not address:
        return ""
    end = 0
    for part in _ADDRESS_PARTS:
        at = address.rfind(part)
        if at >= 0:
            end = max(end, at + len(part))
    if end == 0 or end >= len(address):
        end = min(3, max(0, len(address) - 1)) if end == 0 else min(end, len(address) - 1)
    return address[:end] + MASK


def mask_text(text: str | None, *, name: str = "", phone: str = "", address: str = "") -> str:
    """Free text (a description, a reply) with the caller's name, phone and address and any
    phone number in it masked."""
    text = text or ""
    for secret, masked in (
        (address, mask_address(address)),
        (phone, mask_phone(phone)),
        (name if len(name or "") >= 2 else "", mask_name(name)),
    ):
        if secret:
            text = text.replace(secret, masked)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0).replace("-", "")), text)


@dataclass(frozen=True)
class Identity:
    """A caller's name, phone and address as one viewer may see them."""

    name: str
    phone: str
    #: shown masked (a department, or a list the role does not need it in)
    masked: bool = False
    #: the case is confidential (a centre viewer sees it in full, and the view is recorded)
    confidential: bool = False
    address: str = ""
    #: the viewer may reveal it in full (recorded)
    revealable: bool = False

    def text(self, case_text: str | None, case: Case) -> str:
        """A free text of the case as this viewer may see it."""
        if not self.masked:
            return case_text or ""
        return mask_text(
            case_text, name=case.caller_name, phone=case.caller_phone, address=case.address
        )


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


def in_full(case: Case, *, centre: bool, role: str = "", surface: str = "page") -> bool:
    """Whether this viewer sees the case's caller in full on this surface (docs/privacy.md):
    never a confidential case for a department; in lists only the roles that work from them;
    on the task page the department holding the task; on detail views the centre."""
    if is_confidential(case) and not centre:
        return False
    if surface == "print":  # a sheet leaves the system: never a confidential caller in full
        return centre and not is_confidential(case)
    if surface in LIST_SURFACES:
        return role in LIST_FULL_ROLES
    if surface in ("task", "reveal"):
        return True
    return centre


def caller_identity(case: Case, *, centre: bool, role: str = "", surface: str = "page") -> Identity:
    """The caller's name, phone and address for a viewer on a surface: in full or masked
    (``in_full``)."""
    confidential = is_confidential(case)
    if in_full(case, centre=centre, role=role, surface=surface):
        return Identity(
            case.caller_name or "",
            case.caller_phone or "",
            False,
            confidential,
            case.address or "",
        )
    return Identity(
        mask_name(case.caller_name),
        mask_phone(case.caller_phone),
        True,
        confidential,
        mask_address(case.address),
        revealable=role in REVEAL_ROLES and not (confidential and not centre),
    )


def full_views(cases: Iterable[Case], *, centre: bool) -> list[int]:
    """The ids of the cases whose confidential caller this viewer sees in full (to record)."""
    if not centre:
        return []
    return list(dict.fromkeys(c.id for c in cases if is_confidential(c)))


def shown_in_full(cases: Iterable[Case], *, centre: bool, role: str, surface: str) -> list[Case]:
    """The cases whose caller this viewer sees in full on this surface (for the audit log)."""
    return [c for c in cases if in_full(c, centre=centre, role=role, surface=surface)]


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
