"""The queue of citizens' SMS replies waiting for a person (``inbound.py`` fills it): reads,
and marking one handled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from engine.errors import NotFound

from ..errors import DomainError
from ..users.models import User
from .inbound import Status
from .models import SmsInbound

if TYPE_CHECKING:
    from ..hotline import Hotline


def replies(*, status: str = Status.OPEN) -> Select:
    """The SMS replies of a status (open: waiting for a person; done), newest first."""
    return (
        select(SmsInbound)
        .where(SmsInbound.status == status)
        .order_by(SmsInbound.received_at.desc(), SmsInbound.id.desc())
    )


def count_open(session: Session) -> int:
    """How many SMS replies wait for a person."""
    count = select(func.count()).select_from(SmsInbound)
    return session.scalar(count.where(SmsInbound.status == Status.OPEN)) or 0


class AlreadyHandled(DomainError):
    """Someone has handled this SMS reply already."""

    def __init__(self, row: SmsInbound) -> None:
        self.row = row
        super().__init__(f"SMS reply {row.id} was handled by {row.handled_by}")


def mark_handled(
    session: Session, hotline: Hotline, *, reply_id: int, user: User, note: str = ""
) -> SmsInbound:
    """A person has dealt with an SMS reply (in the caller's unit of work): done, by whom,
    when, with their note. ``NotFound`` if there is none; ``AlreadyHandled`` if done."""
    row = session.get(SmsInbound, reply_id, with_for_update=True)
    if row is None:
        raise NotFound(f"SMS reply {reply_id} does not exist")
    if row.status != Status.OPEN:
        raise AlreadyHandled(row)
    row.status = Status.DONE
    row.handled_by = user.username
    row.handled_at = hotline.clock.now()
    row.extra = {**(row.extra or {}), "note": note.strip()}
    session.flush()
    return row
