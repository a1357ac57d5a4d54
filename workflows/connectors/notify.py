"""``notify``: tell a notice to the case's citizen, a department or a role, through the
notifications layer (its templates, each person's channels, the citizens' SMS rules).

A citizen's notice (``case_accepted``, ``case_replied``...) goes to the case's caller. Any
other notice goes to ``role`` (everyone active who holds it), or to ``department`` (a
department's code; without it, the case's lead department), whatever its usual audience.
The notice is written in the transaction that completes the service task; the fan-out and the
deliveries follow as for any notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.connectors import NOT_LITERAL, Call, Connector, Outcome, Param
from engine.outbox import PermanentFailure

from ..departments.models import Department
from ..notifications.notices import AUDIENCE, Audience, Notice
from ..notifications.pipeline import Notifier
from ..users.models import Role
from .case_fields import case_of

#: roles a notice may be told to (the phone system reads none)
ROLES = tuple(r for r in Role if r != Role.TELEPHONY)


class Notify(Connector):
    name = "notify"
    label_zh = "发送通知"
    label_en = "Send a notification"
    params = (
        Param("notice", "通知模板", "Notice", required=True),
        Param("role", "角色", "Role"),
        Param("department", "单位编码", "Department code"),
        Param("values", "模板变量", "Template values", kind="dict"),
    )

    def __init__(self, notifier: Notifier | None = None, *, clock: Clock | None = None) -> None:
        self.notifier = notifier
        self.clock = clock

    def check(self, literals: Mapping[str, Any]) -> list[tuple[str | None, str]]:
        given = {k: v for k, v in literals.items() if v is not NOT_LITERAL}
        issues = [(name, m) for name, v in given.items() if (m := _problem(name, v))]
        if issues:
            return issues
        named = {k for k in ("role", "department") if k in literals}
        if len(named) == 2:
            return [("role", "give a role or a department, not both")]
        notice = given.get("notice")
        if notice is None:
            return []
        if AUDIENCE[Notice(notice)] == Audience.CITIZEN and named:
            return [(named.pop(), f"{notice!r} is a citizen's notice: it goes to the caller")]
        if AUDIENCE[Notice(notice)] == Audience.STAFF and not named:
            return [("role", f"{notice!r} needs a role or a department to go to")]
        return []

    def apply(self, session: Session, call: Call, performed: Any) -> Outcome:
        params = call.params
        for name, value in params.items():
            message = _problem(name, value)
            if message:
                raise PermanentFailure(f"{name}: {message}")
        notice = Notice(params["notice"])
        case = case_of(session, call)
        role, code = params.get("role"), params.get("department")
        usual = AUDIENCE[notice]
        target: dict[str, Any] = {}
        if usual == Audience.CITIZEN:
            if role or code:
                raise PermanentFailure(f"{notice!r} is a citizen's notice: it goes to the caller")
            audience, told = Audience.CITIZEN, "citizen"
        elif role:
            audience, told = Audience.STAFF, f"role:{role}"
            target["role"] = role
        else:
            department = _department(session, code, case)
            audience, told = Audience.DEPARTMENT, f"department:{department.code}"
            target["department_id"] = department.id
        now = self.clock.now()
        self.notifier.notice(
            session,
            notice,
            key=call.key,
            at=now,
            case=case,
            values=dict(params.get("values") or {}),
            audience=audience,
            **target,
        )
        return Outcome({"notice": str(notice), "to": told})


def _department(session: Session, code: Any, case) -> Department:
    if code:
        department = session.scalar(select(Department).where(Department.code == code))
        if department is None:
            raise PermanentFailure(f"no department has the code {code!r}")
        return department
    if case.lead_department_id is None:
        raise PermanentFailure("the case has no lead department yet: name a department or a role")
    return session.get(Department, case.lead_department_id)


def _problem(name: str, value: Any) -> str | None:
    if name == "notice" and value not in tuple(Notice):
        return f"{value!r} is not a notice (one of: {', '.join(Notice)})"
    if name == "role" and value is not None and value not in ROLES:
        return f"{value!r} is not a role (one of: {', '.join(ROLES)})"
    if name == "department" and value is not None and not isinstance(value, str):
        return f"a department is named by its code, not {value!r}"
    if name == "values" and value is not None and not isinstance(value, dict):
        return "template values are a dict, such as {'body': reply_text}"
    return None
