"""``compute_deadline``: now (or a given date) plus N working days or hours, by the calendar.

The answer goes to the task's result variable, and to a process variable and/or a case date
field when the task names them (``variable``, ``case_field``), so a later timer or gateway can
use it (``timeDate`` = the variable).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.connectors import NOT_LITERAL, Call, Connector, Outcome, Param
from engine.outbox import PermanentFailure

from ..calendar.service import UNITS, CalendarProvider
from .case_fields import CASE_FIELDS, case_of, moment, set_field

#: the case fields a deadline may be written to
DATE_FIELDS = tuple(f for f, (_, _, kind) in CASE_FIELDS.items() if kind == "datetime")


class ComputeDeadline(Connector):
    name = "compute_deadline"
    label_zh = "计算时限"
    label_en = "Compute a deadline"
    params = (
        Param("amount", "数量", "Amount", required=True, kind="number"),
        Param("unit", "单位", "Unit"),
        Param("start", "起算时间", "Start", kind="datetime"),
        Param("variable", "写入流程变量", "Process variable"),
        Param("case_field", "写入工单字段", "Case field"),
    )

    def __init__(
        self,
        *,
        calendar: CalendarProvider | None = None,
        clock: Clock | None = None,
        tz: ZoneInfo | None = None,
    ) -> None:
        self.calendar = calendar
        self.clock = clock
        self.tz = tz or ZoneInfo("Asia/Shanghai")

    def check(self, literals: Mapping[str, Any]) -> list[tuple[str | None, str]]:
        issues: list[tuple[str | None, str]] = []
        for name, value in literals.items():
            if value is not NOT_LITERAL:
                message = _problem(name, value)
                if message:
                    issues.append((name, message))
        return issues

    def apply(self, session: Session, call: Call, performed: Any) -> Outcome:
        params = call.params
        for name, value in params.items():
            message = _problem(name, value)
            if message:
                raise PermanentFailure(f"{name}: {message}")
        try:
            start = (
                moment(params["start"], "start", self.tz)
                if params.get("start") is not None
                else self.clock.now()
            )
            due = self.calendar.get().after(start, params["amount"], params.get("unit") or UNITS[0])
        except ValueError as exc:
            raise PermanentFailure(str(exc)) from None
        data: dict[str, Any] = {}
        if params.get("variable"):
            data[params["variable"]] = due
        if params.get("case_field"):
            case = case_of(session, call)
            data.update(set_field(case, params["case_field"], due, now=self.clock.now()))
        return Outcome(due, data)


def _problem(name: str, value: Any) -> str | None:
    if name == "amount" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"the amount is a number, not {value!r}"
    if name == "amount" and value < 0:
        return "the amount must not be negative"
    if name == "unit" and value not in UNITS:
        return f"the unit is one of {', '.join(UNITS)}, not {value!r}"
    if name == "variable" and value is not None and not _is_name(value):
        return f"{value!r} is not a variable name"
    if name == "case_field" and value is not None and value not in DATE_FIELDS:
        return f"a deadline is written to one of {', '.join(DATE_FIELDS)}, not {value!r}"
    return None


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and value.isidentifier() and not value.startswith("_")
