"""Appending to the audit log, reading it, and checking its hash chain.

Every row's ``hash`` is the SHA-256 of a canonical JSON of its fields and the previous row's
hash. Appends are serialized so that concurrent processes keep one chain: on PostgreSQL a
transaction-scoped advisory lock; on SQLite the write transaction already holds the database's
one writer lock (``BEGIN IMMEDIATE``, engine/db.py). The row is added to the caller's unit of
work, so it commits or rolls back with the change it records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from engine.db import is_postgres, unit_of_work

from .models import AuditEntry

GENESIS = "0" * 64
#: the advisory lock's key on PostgreSQL ("audit" in ASCII)
_LOCK_KEY = 0x6175646974
#: the actor name of commands run from the shell
CLI_ACTOR = "system:cli"
SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Actor:
    """Who did it: a user (id and username at the time) or the system; from which address."""

    name: str
    user_id: int | None = None
    address: str = ""


def _plain(detail: dict[str, Any] | None) -> dict[str, Any]:
    """The detail as JSON gives it back (dates as text), so the stored row hashes the same."""
    return json.loads(json.dumps(detail or {}, default=str, ensure_ascii=False))


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def row_hash(entry: Any) -> str:
    """The SHA-256 over the canonical serialization of the row's fields and ``prev_hash``."""
    body = {
        "seq": entry.seq,
        "at": _stamp(entry.at),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "address": entry.address or "",
        "action": entry.action,
        "target_type": entry.target_type or "",
        "target_id": entry.target_id or "",
        "case_number": entry.case_number or "",
        "detail": entry.detail or {},
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _lock(session: Session) -> None:
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def append(
    session: Session,
    *,
    at: datetime,
    actor: Actor,
    action: str,
    target_type: str = "",
    target_id: str | int | None = "",
    case_number: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one row at the end of the chain, in the caller's unit of work (one of its own if
    none is open)."""
    with unit_of_work(session) as s:
        _lock(s)
        last = s.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        entry = AuditEntry(
            seq=(last.seq + 1) if last else 1,
            at=at,
            actor_id=actor.user_id,
            actor_name=actor.name[:120],
            address=(actor.address or "")[:64],
            action=action[:48],
            target_type=(target_type or "")[:32],
            target_id=str(target_id if target_id is not None else "")[:64],
            case_number=(case_number or "")[:20],
            detail=_plain(detail),
            prev_hash=last.hash if last else GENESIS,
        )
        entry.hash = row_hash(entry)
        s.add(entry)
        s.flush()
    return entry


@dataclass(frozen=True)
class Verdict:
    """What ``verify`` found: how many rows it checked and, if the chain is broken, where."""

    rows: int
    last_hash: str
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


def _walk(session: Session, batch: int) -> Iterator[Any]:
    """The rows in chain order, ``batch`` at a time, as plain rows (not kept by the session:
    a long log does not fill its identity map)."""
    table = AuditEntry.__table__
    after = 0
    while True:
        rows = session.execute(
            select(table).where(table.c.seq > after).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def verify(session: Session, *, batch: int = 1000) -> Verdict:
    """Walk the chain in order; the first row that was edited (its hash does not match its
    fields), deleted or reordered (its position or ``prev_hash`` does not follow) breaks it."""
    expected_seq, prev, count = 1, GENESIS, 0
    for entry in _walk(session, batch):
        reason = ""
        if entry.seq != expected_seq:
            reason = f"expected position {expected_seq}, found {entry.seq} (a row is missing)"
        elif entry.prev_hash != prev:
            reason = "prev_hash does not match the previous row (deleted or reordered)"
        elif row_hash(entry) != entry.hash:
            reason = "hash does not match the row's fields (edited)"
        if reason:
            return Verdict(count, prev, entry.seq, entry.id, reason)
        prev, count, expected_seq = entry.hash, count + 1, expected_seq + 1
    return Verdict(count, prev)


def query(
    *,
    actor: str = "",
    action: str = "",
    target: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select:
    """The log's rows matching the auditor's filters, newest first."""
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc())
    if actor:
        stmt = stmt.where(AuditEntry.actor_name == actor)
    if action:
        # a family (``personal``) or one action (``personal.view``)
        stmt = stmt.where(
            (AuditEntry.action == action) | AuditEntry.action.startswith(action + ".")
        )
    if target:
        stmt = stmt.where((AuditEntry.case_number == target) | (AuditEntry.target_id == target))
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    return stmt
