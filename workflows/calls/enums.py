"""The names calls, operators and callback tasks use (stored as these strings)."""

from __future__ import annotations

from enum import StrEnum


class EventName(StrEnum):
    """What the phone system tells us about a call (``POST /api/v1/calls/events``)."""

    RINGING = "ringing"  # waiting in a queue, or ringing at an operator (``agent`` given)
    ANSWERED = "answered"  # an operator picked up
    ENDED = "ended"  # the call ended (unanswered: the caller gave up, i.e. abandoned)
    MISSED = "missed"  # the phone system gave up: nobody free, after hours, queue full
    TRANSFERRED = "transferred"  # passed to another line (110, a department's number)


class CallState(StrEnum):
    """Where a call is now."""

    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"
    MISSED = "missed"
    TRANSFERRED = "transferred"


class Outcome(StrEnum):
    """How a finished call counts in the KPIs ("" while it is live)."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"  # ended before anyone answered
    MISSED = "missed"
    TRANSFERRED = "transferred"  # transferred before anyone answered


#: the outcomes whose caller is owed a call back
UNANSWERED = frozenset({Outcome.ABANDONED, Outcome.MISSED})


class AgentStatus(StrEnum):
    """An operator's state on the floor (the on-duty lead's board)."""

    AVAILABLE = "available"
    AWAY = "away"
    ON_CALL = "on_call"
    AFTER_CALL_WORK = "after_call_work"
    OFFLINE = "offline"


#: the states an operator may set for themselves
SELF_SET = (AgentStatus.AVAILABLE, AgentStatus.AWAY, AgentStatus.OFFLINE)


class CallbackState(StrEnum):
    OPEN = "open"
    DONE = "done"  # the caller was reached (or got through by calling again)
    UNREACHABLE = "unreachable"  # every attempt failed
    CANCELLED = "cancelled"  # its calls turned out answered (events out of order)


class CallbackOutcome(StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"
    #: the caller called again and was answered before anyone called them back
    GOT_THROUGH = "got_through"
    CANCELLED = "cancelled"


class NoCaseReason(StrEnum):
    """Why an answered call recorded no case."""

    WRONG_NUMBER = "wrong_number"  # 打错电话
    SILENT = "silent"  # 无声电话
    TRANSFERRED = "transferred"  # 转接
    HUNG_UP = "hung_up"  # 来电挂断
    HARASSMENT = "harassment"  # 骚扰电话
    OTHER = "other"  # 其他 (a note is required)
