"""The case list's filters: read from the query string, checked per field, applied to the
user's visible cases (department isolation stays in ``workflows.cases.service``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select
from sqlalchemy.orm import Session

from workflows.cases.models import Case
from workflows.cases.ordering import urgency_rank
from workflows.cases.search import CaseFilters, search_cases
from workflows.users.models import User

from ..sorting import DESC, Sortable, Sorting
from .labels import Labels

#: the columns the case list (and the API's case search) sorts by. At a million cases the
#: number and the creation time are read in order from their indexes, as is the status (its
#: index, then the id); the others sort every matching case, fast once the filters have
#: narrowed them, slower over the whole unfiltered million (docs/lists.md)
CASE_SORTS = {
    "number": Sortable((Case.number,), first=DESC),
    "created": Sortable((Case.created_at,), first=DESC),
    "status": Sortable((Case.status,)),
    "case_type": Sortable((Case.case_type,), indexed=False),
    "urgency": Sortable((urgency_rank(),), indexed=False),
    "reply_due": Sortable((Case.reply_due,), indexed=False, nullable=True),
    "closed": Sortable((Case.closed_at,), first=DESC, nullable=True),
}

FIELDS = (
    "number",
    "phone",
    "text",
    "case_type",
    "status",
    "urgency",
    "department",
    "department_role",
    "due_state",
    "category",
    "area",
    "channel",
    "satisfaction",
    "overdue",
    "reopened",
    "dispatched",
    "created_from",
    "created_to",
    "closed_from",
    "closed_to",
    "kpi",
    "kpi_part",
    "called_from",
    "called_to",
)
#: the filters whose values are the case's own (passed on as typed, after checking)
VALUE_FILTERS = ("category", "area", "channel", "satisfaction")
#: yes/no filters
YES_NO = ("overdue", "reopened", "dispatched")
DATES = ("created_from", "created_to", "closed_from", "closed_to", "called_from", "called_to")
MAX_TEXT = 200
#: the filters passed on as typed
TEXT_FILTERS = ("number", "phone", "text", "case_type", "status", "urgency", "due_state")


@dataclass
class Search:
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    created_from: date | None = None
    created_to: date | None = None
    closed_from: date | None = None
    closed_to: date | None = None
    called_from: date | None = None
    called_to: date | None = None
    department_id: int | None = None
    overdue: bool | None = None
    reopened: bool | None = None
    dispatched: bool | None = None


def read(args: Mapping[str, str], labels: Labels) -> Search:
    """The filters as typed, with an error per bad field."""
    values = {name: (args.get(name) or "").strip() for name in FIELDS}
    search = Search(values)
    for name in ("number", "phone", "text"):
        if len(values[name]) > MAX_TEXT:
            search.errors[name] = [_("At most %(n)s characters.", n=MAX_TEXT)]
    choices = {
        "case_type": dict(labels.choices("case_type")),
        "urgency": dict(labels.choices("urgency")),
        "status": dict(labels.status_choices()),
        "due_state": dict(labels.due_state_choices()),
        "channel": dict(labels.choices("channel")),
        "satisfaction": dict(labels.choices("satisfaction")),
        "department_role": dict(labels.department_role_choices()),
        "area": dict(labels.area_choices()),
        "overdue": dict(labels.yes_no_choices()),
        "reopened": dict(labels.yes_no_choices()),
        "dispatched": dict(labels.yes_no_choices()),
    }
    for name, allowed in choices.items():
        if values[name] and values[name] not in allowed:
            search.errors[name] = [_("Not one of the choices.")]
    if values["department"]:
        department = labels.department_by_code(values["department"])
        if department is None:
            search.errors["department"] = [_("No such department.")]
        else:
            search.department_id = department.id
    if len(values["category"]) > 64:
        search.errors["category"] = [_("At most %(n)s characters.", n=64)]
    if values["department_role"] and not values["department"]:
        search.errors["department_role"] = [_("Choose the department too.")]
    for name in YES_NO:
        if values[name] and name not in search.errors:
            setattr(search, name, values[name] == "yes")
    if values["kpi"]:
        from workflows.kpi.service import COHANDLING_KPI, COUNT_KPIS, KPI_NAMES, KPI_PARTS

        if values["kpi"] not in KPI_NAMES and values["kpi"] != COHANDLING_KPI:
            search.errors["kpi"] = [_("Not one of the choices.")]
        elif values["kpi"] not in COUNT_KPIS and values["kpi_part"] not in KPI_PARTS:
            search.errors["kpi_part"] = [_("Numerator (n) or denominator (d) of the rate.")]
        if values["kpi"] == COHANDLING_KPI and (
            not values["department"] or values["department_role"] != "co"
        ):
            search.errors.setdefault("kpi", []).append(
                _("The co-handling figure needs its unit: a department with the role co.")
            )
    elif values["kpi_part"]:
        search.errors["kpi_part"] = [_("Choose the KPI too.")]
    for name in DATES:
        if values[name]:
            try:
                setattr(search, name, date.fromisoformat(values[name]))
            except ValueError:
                search.errors[name] = [_("Not a date (YYYY-MM-DD).")]
    for start, end in (
        ("created_from", "created_to"),
        ("closed_from", "closed_to"),
        ("called_from", "called_to"),
    ):
        first, last = getattr(search, start), getattr(search, end)
        if first and last and first > last:
            search.errors[end] = [_("Before the start date.")]
    return search


def filters(search: Search) -> CaseFilters:
    """The domain's filters from the form's values."""
    v = search.values
    return CaseFilters(
        **{name: v[name] for name in TEXT_FILTERS + VALUE_FILTERS},
        department_id=search.department_id,
        department_role=v["department_role"],
        created_from=search.created_from,
        created_to=search.created_to,
        closed_from=search.closed_from,
        closed_to=search.closed_to,
        called_from=search.called_from,
        called_to=search.called_to,
        overdue=search.overdue,
        reopened=search.reopened,
        dispatched=search.dispatched,
        kpi=v["kpi"],
        kpi_part=v["kpi_part"] if v["kpi"] else "",
    )


def cases(
    session: Session,
    user: User,
    search: Search,
    *,
    tz: ZoneInfo,
    now: datetime,
    sorting: Sorting | None = None,
) -> Select:
    """The cases ``user`` may see that match the form, newest first or as sorted (as the
    API's search: ``search_cases``, which also decides whether a word goes through its
    index); ``now`` is when "overdue" is read."""
    found = filters(search)
    found.as_of = now
    return sorted_by(search_cases(session, user, found, tz=tz), sorting)


def sorted_by(stmt: Select, sorting: Sorting | None) -> Select:
    """The case search in the asked-for order (its own, newest first, without one)."""
    order = sorting.order_by((Case.id,)) if sorting is not None else None
    return stmt.order_by(None).order_by(*order) if order else stmt
