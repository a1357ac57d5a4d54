"""Chase notices and supervision orders on open cases, one or many at once.

A chase notice (催办) is a timeline entry and a ``CaseChased`` event (the department is
notified). A supervision order (督办单) is the BPMN signal ``supervision_order`` delivered
to the case's instance (``Runtime.signal``): the diagram's event sub-process gives the lead
department an ``answer_supervision`` task with its own deadline, and the centre's lead a
``lead_supervise`` task when the order is ignored past it. The diagram's own supervise task
(after a red card) throws the same signal.

Many cases at once: the input is checked first (a bad action or note refuses the whole
request); then each case either takes the action whole or is reported by number with the
reason (not found or another department's, closed, not dispatched yet, a diagram version
without supervision orders). Nothing is half-done: a case that is refused wrote nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from engine.db import unit_of_work
from engine.errors import ConflictError, NotFound

from ..cases.enums import CaseStatus
from ..cases.models import Case
from ..cases.service import get_case
from ..errors import DomainError, Forbidden, FormInvalid
from ..events import CaseChased, CaseEventKind, SupervisionOrdered
from ..hotline import Hotline
from ..users.models import Role, User

#: the BPMN signal a supervision order is
ORDER_SIGNAL = "supervision_order"
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
MAX_NOTE = 2000
#: how many cases one bulk request may name
MAX_CASES = 200


class Action(StrEnum):
    CHASE = "chase_notice"  # 催办通知
    ORDER = "supervision_order"  # 督办单


class Refusal(StrEnum):
    """Why a case cannot take supervision (the API's ``reason`` codes)."""

    NOT_FOUND = "not_found"  # no such case, or not one this user may see
    CLOSED = "closed"
    NOT_DISPATCHED = "not_dispatched"  # no lead department yet
    NOT_SUPPORTED = "not_supported"  # its diagram version has no supervision orders
    CHANGED = "changed"  # the case moved on while it was being supervised: nothing written


MESSAGES = {
    Refusal.NOT_FOUND: ("案件不存在或不在您的范围内", "no such case, or not in your scope"),
    Refusal.CLOSED: ("案件已办结", "the case is closed"),
    Refusal.NOT_DISPATCHED: ("案件尚未派单", "the case has not been dispatched yet"),
    Refusal.NOT_SUPPORTED: (
        "该案件的流程版本不支持督办单",
        "the case's workflow version takes no supervision orders",
    ),
    Refusal.CHANGED: (
        "案件正在被他人处理，未发送，请重试",
        "the case changed meanwhile: nothing was sent, try again",
    ),
}


class SupervisionRefused(DomainError):
    def __init__(self, number: str, reason: Refusal, lang: str = "zh") -> None:
        self.number = number
        self.reason = reason
        super().__init__(f"{number}: {message(reason, lang)}")


@dataclass(frozen=True)
class Outcome:
    """What happened to one case of a request."""

    number: str
    done: bool
    reason: Refusal | None = None
    message: str = ""


def message(reason: Refusal, lang: str) -> str:
    zh, en = MESSAGES[reason]
    return en if lang == "en" else zh


def check_input(
    action: object, note: object, *, lang: str = "zh", numbers: object = None, bulk: bool = False
) -> tuple[Action, str, list[str]]:
    """(action, note, numbers) checked, or ``FormInvalid`` naming each bad field."""
    errors: dict[str, list[str]] = {}
    required = "此项为必填项" if lang != "en" else "This field is required."
    if action in (None, ""):
        errors["action"] = [required]
    elif action not in {a.value for a in Action}:
        errors["action"] = ["不是可选值之一" if lang != "en" else "Not one of the choices."]
    text = note.strip() if isinstance(note, str) else ""
    if note is not None and not isinstance(note, str):
        errors["note"] = ["应为文本" if lang != "en" else "Not a text."]
    elif not text:
        errors["note"] = [required]
    elif len(text) > MAX_NOTE:
        errors["note"] = [
            f"最多 {MAX_NOTE} 个字符" if lang != "en" else f"At most {MAX_NOTE} characters."
        ]
    found: list[str] = []
    if bulk:
        if not isinstance(numbers, list | tuple) or not numbers:
            errors["numbers"] = [
                "请至少选择一个案件" if lang != "en" else "Choose at least one case."
            ]
        elif len(numbers) > MAX_CASES:
            errors["numbers"] = [
                f"一次最多 {MAX_CASES} 个案件"
                if lang != "en"
                else f"At most {MAX_CASES} cases at once."
            ]
        elif not all(isinstance(n, str) and n.strip() for n in numbers):
            errors["numbers"] = ["案件编号应为文本" if lang != "en" else "Case numbers are texts."]
        else:
            found = list(dict.fromkeys(n.strip() for n in numbers))
    if errors:
        raise FormInvalid(errors)
    return Action(action), text, found


def supervise_case(
    session: Session,
    hotline: Hotline,
    *,
    number: str,
    action: object,
    note: object,
    user: User,
    lang: str = "zh",
) -> Outcome:
    """Chase or order one case; refusals raise (``NotFound`` for a case the user may not
    see, ``SupervisionRefused`` otherwise)."""
    _check_role(user)
    checked, text, _ = check_input(action, note, lang=lang)
    with unit_of_work(session):
        case = get_case(session, number=number, user=user)
        reason = _refusal(case)
        if reason is not None:
            raise SupervisionRefused(number, reason, lang)
        reason = _act(session, hotline, case, checked, text, user)
        if reason is not None:
            raise SupervisionRefused(number, reason, lang)
    return Outcome(number, True)


def supervise_cases(
    session: Session,
    hotline: Hotline,
    *,
    numbers: object,
    action: object,
    note: object,
    user: User,
    lang: str = "zh",
) -> list[Outcome]:
    """Chase or order many cases, each in a transaction of its own: each case is done whole
    or reported with its reason, in the order given; a case refused or failing leaves the
    others as they were done."""
    _check_role(user)
    checked, text, found = check_input(action, note, lang=lang, numbers=numbers, bulk=True)
    outcomes = []
    for number in found:
        reason: Refusal | None
        try:
            # a savepoint too: inside a caller's transaction (the API's), a failing case is
            # undone alone as well
            with unit_of_work(session), session.begin_nested():
                try:
                    case = get_case(session, number=number, user=user)
                except NotFound:
                    reason = Refusal.NOT_FOUND
                else:
                    reason = _refusal(case) or _act(session, hotline, case, checked, text, user)
        except (ConflictError, DomainError) as exc:
            if isinstance(exc, Forbidden):
                raise
            reason = Refusal.CHANGED  # rolled back: this case alone
        outcomes.append(
            Outcome(number, reason is None, reason, message(reason, lang) if reason else "")
        )
    return outcomes


def _check_role(user: User) -> None:
    if user.role not in {str(r) for r in SUPERVISORS}:
        raise Forbidden("only supervisors chase cases and send supervision orders")


def _refusal(case: Case) -> Refusal | None:
    if case.status in (CaseStatus.CLOSED, CaseStatus.MERGED):
        return Refusal.CLOSED
    if case.lead_department_id is None or case.instance_id is None:
        return Refusal.NOT_DISPATCHED
    return None


def _act(
    session: Session, hotline: Hotline, case: Case, action: Action, note: str, user: User
) -> Refusal | None:
    assert case.instance_id is not None
    if action == Action.CHASE:
        hotline.runtime.record_event(
            session,
            case.instance_id,
            CaseEventKind.CHASED,
            actor=user.username,
            payload={"case": case.number, "note": note},
        )
        event_type: type[CaseChased] | type[SupervisionOrdered] = CaseChased
        version = None
    else:
        try:
            step = hotline.runtime.signal(
                session,
                case.instance_id,
                ORDER_SIGNAL,
                payload={"note": note, "ordered_by": user.username},
                actor=user.username,
            )
        except ConflictError:
            # nothing waits for the signal (an older diagram version), or the instance ended:
            # the engine raised before writing anything
            session.refresh(case)
            if case.status in (CaseStatus.CLOSED, CaseStatus.MERGED):
                return Refusal.CLOSED
            return Refusal.NOT_SUPPORTED
        event_type = SupervisionOrdered
        version = step.version
        case.supervision_order_count = (case.supervision_order_count or 0) + 1
    if hotline.events.wants(event_type):
        hotline.events.publish(
            session,
            event_type(
                case_id=case.id,
                case_number=case.number,
                instance_id=case.instance_id,
                instance_version=version,
                at=hotline.clock.now(),
                actor=user.username,
                note=note,
            ),
        )
    return None
