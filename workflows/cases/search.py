"""The case search: filters applied to the cases a user may see, newest first.

Shared by the case list page and the API; reading and checking the filters is theirs, the
query (and, through ``visible_cases``, department isolation) is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, exists, not_, select
from sqlalchemy.orm import Session

from ..departments.models import Department
from ..insight.models import Area
from ..kpi.conditions import overdue_case
from ..users.models import User
from .confidentiality import hide_from_search, is_centre
from .models import Case, CaseDepartment
from .phone_search import phone_contains
from .phones import canonical_phone
from .service import visible_cases
from .text_search import text_contains, use_index


@dataclass
class CaseFilters:
    #: number prefix
    number: str = ""
    #: part of the caller's phone
    phone: str = ""
    #: part of the description or address (case-insensitive)
    text: str = ""
    case_type: str = ""
    status: str = ""
    urgency: str = ""
    due_state: str = ""
    #: cases this department leads or co-handles
    department_id: int | None = None
    #: with ``department_id``: only the cases it leads ("lead") or co-handles ("co")
    department_role: str = ""
    #: the dispatch catalogue's category (exact)
    category: str = ""
    #: the area's code (``cases.area``: a district)
    area: str = ""
    #: phone, web, app, sms, open311 (``enums.Channel``)
    channel: str = ""
    #: the citizen's rating (``enums.Satisfaction``)
    satisfaction: str = ""
    #: True: overdue as the KPI counts it (replied, or closed without a reply, after the reply
    #: deadline, or not replied and past it); False: every other case
    overdue: bool | None = None
    #: True: reopened at least once; False: never
    reopened: bool | None = None
    #: True: has a lead department (dispatched); False: none (never dispatched: the KPI
    #: dashboard's "Not dispatched" group)
    dispatched: bool | None = None
    #: closed on or after / on or before these local days
    closed_from: date | None = None
    closed_to: date | None = None
    #: the moment "past the deadline" is read at (the clock's now); required by ``overdue``
    as_of: datetime | None = None
    #: created on or after this local day
    created_from: date | None = None
    #: created on or before this local day
    created_to: date | None = None
    #: a KPI figure's cases (``kpi.service.kpi_condition``): the KPI's name, and for a rate
    #: its numerator ("n") or denominator ("d"); read at ``as_of``
    kpi: str = ""
    kpi_part: str = ""
    #: linked to a call (``Call.case_id``) that arrived on or after / on or before these local
    #: days: the KPI page's "cases per call type"
    called_from: date | None = None
    called_to: date | None = None
    #: find ``text`` through the pairs index (``text_search.use_index``; ``search_cases``
    #: decides it)
    text_by_index: bool = False


def filter_cases(stmt: Select, filters: CaseFilters, *, tz: ZoneInfo) -> Select:
    """``stmt`` (over Case) narrowed by the filters, newest first."""
    f = filters
    if f.number:
        stmt = stmt.where(Case.number.startswith(f.number, autoescape=True))
        if f.number.isascii() and f.number.isdigit():
            # the same cases, as a range of the unique index, which LIKE with a bound pattern
            # cannot use (SQLite's LIKE ignores case; PostgreSQL plans without the pattern)
            stmt = stmt.where(Case.number >= f.number)
            upper = _next_prefix(f.number)
            if upper:
                stmt = stmt.where(Case.number < upper)
    phone = canonical_phone(f.phone)  # "139-0223" finds 13902231234 as stored
    if phone:
        # through a trigram index on both databases (phone_search.py)
        stmt = stmt.where(phone_contains(Case.id, Case.caller_phone, phone))
    if f.text:
        # through the index of character pairs on PostgreSQL (text_search.py)
        stmt = stmt.where(
            text_contains(Case.description, Case.address, f.text, by_index=f.text_by_index)
        )
    for name in (
        "case_type",
        "status",
        "urgency",
        "due_state",
        "category",
        "area",
        "channel",
        "satisfaction",
    ):
        if getattr(f, name):
            stmt = stmt.where(getattr(Case, name) == getattr(f, name))
    if f.department_id is not None:
        if f.department_role == "lead":
            stmt = stmt.where(Case.lead_department_id == f.department_id)
        else:
            link = and_(
                CaseDepartment.case_id == Case.id,
                CaseDepartment.department_id == f.department_id,
            )
            if f.department_role == "co":
                link = and_(link, CaseDepartment.role == "co")
            stmt = stmt.where(exists().where(link))
    if f.overdue is not None:
        if f.as_of is None:
            raise ValueError("the overdue filter needs as_of (the clock's now)")
        late = overdue_case(f.as_of)
        stmt = stmt.where(late if f.overdue else not_(late))
    if f.reopened is not None:
        stmt = stmt.where(Case.reopen_count > 0 if f.reopened else Case.reopen_count == 0)
    if f.dispatched is not None:
        has_lead = Case.lead_department_id.is_not(None)
        stmt = stmt.where(has_lead if f.dispatched else Case.lead_department_id.is_(None))
    if f.kpi:
        from ..kpi.service import COHANDLING_KPI, cohandling_condition, kpi_condition

        if f.as_of is None:
            raise ValueError("the kpi filter needs as_of (the clock's now)")
        if f.kpi == COHANDLING_KPI:  # one co-handling unit's figure: its unit's tasks
            if f.department_id is None:
                raise ValueError("the co-handling figure needs its unit (department_id)")
            condition = cohandling_condition(f.department_id, f.kpi_part, f.as_of)
        else:
            condition = kpi_condition(f.kpi, f.kpi_part, f.as_of)
        if condition is not None:
            stmt = stmt.where(condition)
    if f.called_from or f.called_to:
        stmt = stmt.where(_called(f.called_from, f.called_to, tz))
    if f.created_from:
        stmt = stmt.where(Case.created_at >= local_midnight(f.created_from, tz))
    if f.created_to:
        stmt = stmt.where(Case.created_at < local_midnight(f.created_to + timedelta(days=1), tz))
    if f.closed_from:
        stmt = stmt.where(Case.closed_at >= local_midnight(f.closed_from, tz))
    if f.closed_to:
        stmt = stmt.where(Case.closed_at < local_midnight(f.closed_to + timedelta(days=1), tz))
    return stmt.order_by(Case.created_at.desc(), Case.id.desc())


def _called(first: date | None, last: date | None, tz: ZoneInfo):
    """The case is linked to a call that arrived from ``first`` to ``last`` (local days)."""
    from ..calls.models import Call

    link = select(Call.id).where(Call.case_id == Case.id)
    if first:
        link = link.where(Call.arrived_at >= local_midnight(first, tz))
    if last:
        link = link.where(Call.arrived_at < local_midnight(last + timedelta(days=1), tz))
    return exists(link)


def search_cases(session: Session, user: User, filters: CaseFilters, *, tz: ZoneInfo) -> Select:
    """The cases ``user`` may see that match ``filters``, newest first; a department
    searching by the caller's phone does not find confidential cases."""
    if filters.text:
        filters.text_by_index = use_index(session, filters.text)
    stmt = visible_cases(session, user)
    if canonical_phone(filters.phone):
        department = session.get(Department, user.department_id) if user.department_id else None
        stmt = hide_from_search(stmt, centre=is_centre(user, department))
    return filter_cases(stmt, filters, tz=tz)


def area_codes(session: Session) -> set[str]:
    """The codes a case's area may have: the districts', and any area the centre set up."""
    districts = session.scalars(select(Department.code).where(Department.level == "district"))
    return set(districts) | set(session.scalars(select(Area.code)))


def _next_prefix(digits: str) -> str:
    """The smallest digit string after every string starting with ``digits`` ('2026' ->
    '2027', '2029' -> '203'; '99' -> '', no such digit string)."""
    head = digits.rstrip("9")
    return head[:-1] + str(int(head[-1]) + 1) if head else ""


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)
