"""The screen pop's reads (docs/calls.md, "Screen pop"): what an operator's intake page polls
and shows beside the form.

``pending`` is the poll: one primary-key read of the operator's ``AgentState`` (its
``pop_seq`` rises with each call that rings or is answered at them, ``agents.on_call_event``);
only when it is higher than what the page has shown is the call read (by its unique id) and,
for the banner, the caller's earlier calls (``ix_calls_caller_arrived``) and cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cases.models import Case
from ..users.models import User
from .links import find_call, is_popped_at
from .models import AgentState, Call

#: earlier calls and cases shown beside the form
HISTORY = 5


@dataclass
class Pop:
    seq: int
    call: Call


def seq_of(session: Session, user: User) -> int:
    row = session.get(AgentState, user.id)
    return (row.pop_seq or 0) if row is not None else 0


def poll(session: Session, *, user: User, seen: int) -> tuple[int, Call | None]:
    """The operator's counter and the call to pop up on their page if one rang or was
    answered at them since the page's ``seen`` counter (else None). When the counter is not
    above ``seen`` this is one primary-key read. A counter above ``seen`` with no call
    (the call was given up before the page asked) lets the page catch up, so that it does
    not read the call again at every poll."""
    row = session.get(AgentState, user.id)
    seq = (row.pop_seq or 0) if row is not None else 0
    if row is None or seq <= seen or not row.pop_call_id:
        return seq, None
    call = find_call(session, row.pop_call_id)
    if call is None or not is_popped_at(call, user):
        return seq, None
    return seq, call


def pending(session: Session, *, user: User, seen: int) -> Pop | None:
    """The call to pop up on ``user``'s page if one rang or was answered at them since the
    page's ``seen`` counter, else None (one primary-key read)."""
    seq, call = poll(session, user=user, seen=seen)
    return Pop(seq, call) if call is not None else None


def live_pop(session: Session, *, user: User) -> Pop | None:
    """The operator's popped call while it still rings or is being talked on, unrecorded (the
    intake page opened or reloaded during a call shows it)."""
    pop = pending(session, user=user, seen=-1)
    if (
        pop is None
        or pop.call.settled_at is not None
        or pop.call.state
        not in (
            "ringing",
            "answered",
        )
    ):
        return None
    return pop


def earlier_calls(session: Session, call: Call, *, limit: int = HISTORY) -> list[Call]:
    """The caller's calls before this one, newest first (none for a withheld number)."""
    if not call.caller:
        return []
    return list(
        session.scalars(
            select(Call)
            .where(Call.caller == call.caller, Call.id != call.id)
            .where(Call.arrived_at <= call.arrived_at)
            .order_by(Call.arrived_at.desc())
            .limit(limit)
        )
    )


def case_numbers(session: Session, calls: list[Call]) -> dict[int, str]:
    ids = {c.case_id for c in calls if c.case_id is not None}
    if not ids:
        return {}
    return dict(session.execute(select(Case.id, Case.number).where(Case.id.in_(ids))).all())
