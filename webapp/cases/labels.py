"""Labels of case vocabularies in the page's language (statuses, types, outcomes, departments).

Case types have their Chinese and English labels in their declarations
(``workflows/cases/types.py``); urgencies, channels, intake outcomes and callback answers in the
forms (``forms/common/*.json``); statuses in ``workflows/cases/enums.py`` (one name each,
shared with Open311); those are used as they are. Outcomes, which no form lists, are
translated here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.cases.enums import STATUS_NAMES
from workflows.cases.flows import INTAKE_FORM
from workflows.departments.models import Department
from workflows.insight.models import Area

from ..hotline import get_hotline


def _named(pair: tuple[str, str]) -> LazyString:
    return LazyString(lambda: pair[1] if str(get_locale() or "zh") == "en" else pair[0])


#: the statuses' one name each (workflows/cases/enums.py, which Open311's notes also use)
STATUS_LABELS = {status: _named(pair) for status, pair in STATUS_NAMES.items()}
OUTCOME_LABELS = {
    "handled": _l("Handled"),
    "answered": _l("Answered at once"),
    "not_accepted": _l("Not accepted"),
    "merged": _l("Closed with its master case"),
    "not_reached": _l("Closed, citizen not reached"),
    "rating_declined": _l("Closed, rating declined"),
}
DUE_STATE_LABELS = {
    "normal": _l("On time"),
    "yellow": _l("Deadline near"),
    "red": _l("Overdue"),
}

#: case field -> (form key, field key) of the form that lists its options
FORM_OPTIONS = {
    "urgency": (INTAKE_FORM, "urgency"),
    "channel": (INTAKE_FORM, "channel"),
    "intake_outcome": (INTAKE_FORM, "intake_outcome"),
    "satisfaction": ("common/callback", "satisfaction"),
    "resolved": ("common/callback", "resolved"),
    "contact_result": ("common/callback", "contact_result"),
    "unreached_reason": ("common/callback", "unreached_reason"),
}


def form_options(form_key: str, field: str, lang: str) -> list[dict[str, Any]]:
    """The static options of a form field (value, label) in ``lang``."""
    form = get_hotline().forms.get(form_key)
    for item in form.describe(lang, context={})["fields"]:
        if item["key"] == field:
            return list(item.get("options") or [])
    return []


class Labels:
    """Every label a case page or list needs, built once per request."""

    def __init__(self, session: Session, lang: str) -> None:
        self.lang = lang
        self.options = {
            name: {str(o["value"]): str(o["label"]) for o in form_options(form, field, lang)}
            for name, (form, field) in FORM_OPTIONS.items()
        }
        self.options["case_type"] = get_hotline().case_types.labels(lang)
        self.departments = {
            d.id: d for d in session.scalars(select(Department).order_by(Department.code))
        }
        self.areas = [tuple(r) for r in session.execute(select(Area.code, Area.name, Area.name_en))]

    def option(self, name: str, value: Any) -> str:
        if value is None or value == "":
            return ""
        if name == "resolved" and isinstance(value, bool):
            value = "yes" if value else "no"
        return self.options.get(name, {}).get(str(value), str(value))

    def case_type(self, value: str) -> str:
        return self.option("case_type", value)

    def urgency(self, value: str) -> str:
        return self.option("urgency", value)

    def status(self, value: str | None) -> str:
        return str(STATUS_LABELS.get(value or "", value or ""))

    def outcome(self, value: str | None) -> str:
        return str(OUTCOME_LABELS.get(value or "", value or ""))

    def due_state(self, value: str | None) -> str:
        return str(DUE_STATE_LABELS.get(value or "", value or ""))

    def department(self, department_id: int | None) -> str:
        department = self.departments.get(department_id) if department_id else None
        if department is None:
            return ""
        return department_name(department, self.lang)

    def department_choices(self) -> list[tuple[str, str]]:
        return [
            (d.code, department_name(d, self.lang)) for d in self.departments.values() if d.active
        ]

    def department_by_code(self, code: str) -> Department | None:
        return next((d for d in self.departments.values() if d.code == code), None)

    def department_of_code(self, code: str) -> str:
        department = self.department_by_code(code)
        return department_name(department, self.lang) if department else code

    def choices(self, name: str) -> list[tuple[str, str]]:
        return list(self.options.get(name, {}).items())

    def status_choices(self) -> list[tuple[str, str]]:
        return [(key, str(label)) for key, label in STATUS_LABELS.items()]

    def department_role_choices(self) -> list[tuple[str, str]]:
        return [("lead", str(_l("Lead department"))), ("co", str(_l("Co-handling")))]

    def yes_no_choices(self) -> list[tuple[str, str]]:
        return [("yes", str(_l("Yes"))), ("no", str(_l("No")))]

    def area_choices(self) -> list[tuple[str, str]]:
        """The areas cases come from: the districts, and any area the centre set up."""
        found = {
            d.code: department_name(d, self.lang)
            for d in self.departments.values()
            if d.level == "district"
        }
        for code, name, name_en in self.areas:
            found.setdefault(code, (name_en if self.lang == "en" and name_en else name) or code)
        return sorted(found.items())

    def due_state_choices(self) -> list[tuple[str, str]]:
        return [(key, str(label)) for key, label in DUE_STATE_LABELS.items()]


def department_name(department: Department, lang: str) -> str:
    return department.name_en if lang == "en" and department.name_en else department.name


def bilingual(name: str | None, lang: str) -> str:
    """One half of a diagram's bilingual name ("签收 Sign for" -> "签收" or "Sign for")."""
    if not name:
        return ""
    head, _, tail = name.partition(" ")
    if tail and not head.isascii() and tail[:1].isascii():
        return tail if lang == "en" else head
    return name


def yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return str(_l("yes") if value else _l("no"))


def join(values: Iterable[str]) -> str:
    return "、".join(v for v in values if v)
