"""``set_case_field``: set one of the case's fields a diagram may change, and the fields it is.

Only fields with no rules of their own behind them are on the list: not the status (the
transition table moves it), the department (dispatch does), the caller (confidentiality), the
case number or anything the KPIs count. A field the case mirror copies from the process data
(``reply_due``) is written there too, or the next step would copy the old value back.
Changing a deadline here changes what pages show and count; it does not move a timer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock, as_utc
from engine.connectors import NOT_LITERAL, Call, Connector, Outcome, Param
from engine.outbox import PermanentFailure

from ..cases.enums import Urgency
from ..cases.listener import MIRRORED_DATES
from ..cases.models import Case

#: field -> (label zh, label en, kind)
CASE_FIELDS: dict[str, tuple[str, str, str]] = {
    "category": ("诉求分类", "Category", "str"),
    "area": ("区域", "Area", "str"),
    "urgency": ("紧急程度", "Urgency", "urgency"),
    "callback_required": ("需要回访", "Callback required", "bool"),
    "reply_due": ("答复时限", "Reply due", "datetime"),
    "warn_at": ("预警时间", "Warning time", "datetime"),
}
_LENGTHS = {"category": 64, "area": 32}


def coerce(field: str, value: Any, tz: ZoneInfo) -> Any:
    """``value`` as the field stores it; ValueError says why it cannot be."""
    if field not in CASE_FIELDS:
        allowed = ", ".join(CASE_FIELDS)
        raise ValueError(f"{field!r} is not a case field a diagram may set (allowed: {allowed})")
    kind = CASE_FIELDS[field][2]
    if kind == "str":
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(f"{field} is text, not {value!r}")
        text = str(value).strip()
        if len(text) > _LENGTHS[field]:
            raise ValueError(f"{field} is at most {_LENGTHS[field]} characters")
        return text
    if kind == "urgency":
        if value not in tuple(Urgency):
            raise ValueError(f"urgency is one of {', '.join(Urgency)}, not {value!r}")
        return str(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{field} is True or False, not {value!r}")
        return value
    return moment(value, field, tz)


def moment(value: Any, what: str, tz: ZoneInfo) -> datetime:
    """A date-time (an ISO string, a date-time or a date; naive ones are local) in UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{what} is not an ISO 8601 date-time: {value!r}") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a date-time, not {value!r}")
    return as_utc(value if value.tzinfo else value.replace(tzinfo=tz))


def case_of(session: Session, call: Call) -> Case:
    case = session.scalar(select(Case).where(Case.instance_id == call.instance_id))
    if case is None:
        raise PermanentFailure(f"instance {call.instance_id} has no case")
    return case


def set_field(case: Case, field: str, value: Any, *, now: datetime) -> dict[str, Any]:
    """Set an allowed field (already coerced); the process data to write with it."""
    setattr(case, field, value)
    case.updated_at = now
    return {field: value} if field in MIRRORED_DATES else {}


class SetCaseField(Connector):
    name = "set_case_field"
    label_zh = "设置工单字段"
    label_en = "Set a case field"
    params = (
        Param("field", "字段", "Field", required=True),
        Param("value", "值", "Value", required=True, kind="expression"),
    )

    def __init__(self, *, clock: Clock | None = None, tz: ZoneInfo | None = None) -> None:
        self.clock = clock
        self.tz = tz or ZoneInfo("Asia/Shanghai")

    def check(self, literals: Mapping[str, Any]) -> list[tuple[str | None, str]]:
        field, value = literals.get("field", NOT_LITERAL), literals.get("value", NOT_LITERAL)
        if field is NOT_LITERAL:
            return []
        if field not in CASE_FIELDS:
            return [
                (
                    "field",
                    f"{field!r} is not a case field a diagram may set "
                    f"(allowed: {', '.join(CASE_FIELDS)})",
                )
            ]
        if value is not NOT_LITERAL:
            try:
                coerce(field, value, self.tz)
            except ValueError as exc:
                return [("value", str(exc))]
        return []

    def apply(self, session: Session, call: Call, performed: Any) -> Outcome:
        field = call.params.get("field")
        try:
            value = coerce(str(field), call.params.get("value"), self.tz)
        except ValueError as exc:
            raise PermanentFailure(str(exc)) from None
        case = case_of(session, call)
        data = set_field(case, str(field), value, now=self.clock.now())
        return Outcome(value, data)
