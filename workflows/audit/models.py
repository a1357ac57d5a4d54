"""The audit log's one table: append-only (database triggers refuse UPDATE and DELETE)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId, JSONType

from .append_only import create_triggers


class AuditEntry(Base):
    """One recorded act: when, by whom, from where, what, to which record; ``hash`` covers
    every field and the previous row's hash, so an edited, deleted or reordered row breaks the
    chain."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_action_at", "action", "at"),
        Index("ix_audit_log_case_number", "case_number"),
        Index("ix_audit_log_actor", "actor_name"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: the position in the chain (1, 2, 3...): a gap or a repeat is a deleted or copied row
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime]
    #: the user's id, or None for the system (CLI, scheduler) and unknown sign-in names
    actor_id: Mapped[int | None] = mapped_column(Integer)
    #: the username as it was at the time (``system:cli`` for a command)
    actor_name: Mapped[str] = mapped_column(String(120))
    #: the client's address (empty for the system)
    address: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(48))
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    case_number: Mapped[str] = mapped_column(String(20), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# Databases made from the models (tests, create_all) get the same triggers as the migration.
def _triggers_create(target, connection, **kw) -> None:
    create_triggers(connection)


event.listen(AuditEntry.__table__, "after_create", _triggers_create)


class AnonymisedCase(Base):
    """A case whose personal data the retention run removed, and when: the run skips it next
    time (idempotent) and the case page can say why its caller is blank."""

    __tablename__ = "anonymised_cases"

    case_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime]
