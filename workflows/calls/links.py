"""A call's outcome as the operator records it (docs/calls.md, "Screen pop"): the case it
recorded (``link_case``, at intake), the earlier case it was about (``link_existing_case``: a
follow-up, 催办), or no case with a reason (``settle_no_case``).

The call must be one the operator could have taken: it exists, it rang or was answered at
them (``Call.agent``) and was not missed, abandoned or transferred before anyone answered.
A call recorded with one case is not linked to another; a call settled with no case may
still get its case (the operator thought better of it). Recording the outcome ends the
operator's after-call work when that work was about this call.

Each function works inside the caller's transaction (``unit_of_work``) and refuses with
:class:`CallLinkInvalid` (a ``FormInvalid`` naming the field) before changing anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cases.models import Case
from ..errors import FormInvalid
from ..users.models import User
from . import agents
from .enums import AgentStatus, NoCaseReason, Outcome
from .models import AgentState, Call, CallCallback

#: the longest note kept with a reason
MAX_NOTE = 500

#: what each refusal says (English; the web layer shows its own translation by ``code``)
MESSAGES = {
    "no_call": "There is no call {call_id}.",
    "not_yours": "The call {call_id} did not ring or was not answered at you.",
    "unanswered": "The call {call_id} was not answered: it is a missed call, not yours to record.",
    "has_case": "The call {call_id} is already recorded with case {number}.",
    "no_case": "There is no case {number} you may see.",
    "reason": "Choose why the call made no case.",
    "note": "Say why the call made no case (a note is required for “other”).",
    "note_long": "The note may have at most {n} characters.",
    "no_callback": "There is no callback task {callback}.",
    "callback_case": "The callback task {callback} is already recorded with case {number}.",
}


class CallLinkInvalid(FormInvalid):
    """A refusal: ``field`` (``call_id``, ``case``, ``reason``, ``note``, ``callback``), a
    ``code`` of :data:`MESSAGES` and its ``params``."""

    def __init__(self, field: str, code: str, **params: Any) -> None:
        self.field = field
        self.code = code
        self.params = params
        super().__init__({field: [MESSAGES[code].format(**params)]})


def find_call(session: Session, call_id: str) -> Call | None:
    call_id = (call_id or "").strip()
    if not call_id:
        return None
    return session.scalars(select(Call).where(Call.call_id == call_id)).first()


def is_popped_at(call: Call, user: User) -> bool:
    """Whether ``call`` is one ``user`` could have taken (rang or was answered at them, and
    was not given up before an answer)."""
    return call.agent == user.username and call.outcome in ("", Outcome.ANSWERED)


def _number(session: Session, case_id: int | None) -> str:
    if case_id is None:
        return ""
    return session.scalar(select(Case.number).where(Case.id == case_id)) or str(case_id)


def check_call(session: Session, *, call_id: str, user: User, case_id: int | None = None) -> Call:
    """The call ``user`` may record an outcome for (with case ``case_id``: also one already
    linked to that case), else :class:`CallLinkInvalid` on ``call_id``."""
    call = find_call(session, call_id)
    if call is None:
        raise CallLinkInvalid("call_id", "no_call", call_id=call_id)
    if call.agent != user.username:
        raise CallLinkInvalid("call_id", "not_yours", call_id=call.call_id)
    if call.outcome not in ("", Outcome.ANSWERED):
        raise CallLinkInvalid("call_id", "unanswered", call_id=call.call_id)
    if call.case_id is not None and call.case_id != case_id:
        raise CallLinkInvalid(
            "call_id", "has_case", call_id=call.call_id, number=_number(session, call.case_id)
        )
    return call


def link_case(session: Session, *, call_id: str, case: Case, user: User, now: datetime) -> Call:
    """The case ``user`` just recorded came from ``call_id``."""
    call = check_call(session, call_id=call_id, user=user, case_id=case.id)
    _settle(session, call, user=user, now=now, case_id=case.id)
    return call


def link_existing_case(
    session: Session, *, call_id: str, case_number: str, user: User, now: datetime
) -> tuple[Call, Case]:
    """The call was about an earlier case (the caller chases it, adds to it): the call is
    recorded with that case, which must be one ``user`` may see."""
    from ..cases.service import visible_cases

    call = check_call(session, call_id=call_id, user=user)
    number = (case_number or "").strip()
    case = (
        session.scalars(visible_cases(session, user).where(Case.number == number)).first()
        if number
        else None
    )
    if case is None:
        raise CallLinkInvalid("case", "no_case", number=number)
    if call.case_id not in (None, case.id):  # pragma: no cover - check_call refused it
        raise CallLinkInvalid("call_id", "has_case", call_id=call.call_id, number=case.number)
    _settle(session, call, user=user, now=now, case_id=case.id)
    return call, case


def settle_no_case(
    session: Session, *, call_id: str, reason: str, note: str, user: User, now: datetime
) -> Call:
    """The call made no case, for ``reason`` (``NoCaseReason``; "other" needs a ``note``)."""
    call = check_call(session, call_id=call_id, user=user)
    if call.case_id is not None:  # pragma: no cover - check_call refused it
        raise CallLinkInvalid("call_id", "has_case", call_id=call.call_id, number="")
    try:
        why = NoCaseReason(reason or "")
    except ValueError:
        raise CallLinkInvalid("reason", "reason") from None
    note = (note or "").strip()
    if why == NoCaseReason.OTHER and not note:
        raise CallLinkInvalid("note", "note")
    if len(note) > MAX_NOTE:
        raise CallLinkInvalid("note", "note_long", n=MAX_NOTE)
    _settle(session, call, user=user, now=now, case_id=None)
    call.no_case_reason = str(why)
    call.no_case_note = note
    return call


def check_callback(session: Session, *, callback_id: Any) -> CallCallback:
    """The missed-call callback task a case is recorded from, else :class:`CallLinkInvalid`
    on ``callback``."""
    try:
        task = session.get(CallCallback, int(str(callback_id).strip()))
    except (TypeError, ValueError):
        task = None
    if task is None:
        raise CallLinkInvalid("callback", "no_callback", callback=str(callback_id))
    if task.case_id is not None:
        raise CallLinkInvalid(
            "callback", "callback_case", callback=task.id, number=_number(session, task.case_id)
        )
    return task


def _settle(session: Session, call: Call, *, user: User, now: datetime, case_id: int | None):
    call.case_id = case_id
    call.no_case_reason = ""
    call.no_case_note = ""
    call.settled_by = user.username
    call.settled_at = now
    row = session.get(AgentState, user.id)
    if row is not None and row.state == AgentStatus.AFTER_CALL_WORK and row.call_id == call.call_id:
        agents.end_wrap_up(session, row=row, now=now)
