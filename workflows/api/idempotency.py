"""Idempotency keys of POST requests: a retried request gets the first answer, not a second
effect.

The record is written in the same transaction as the request's effect (the case, the task
step), so the two commit together or not at all. Two copies of one request arriving at once
meet on the unique (scope, key): on SQLite the second waits for the first's write lock, on
PostgreSQL its insert waits on the index and then fails, and it answers with the first's
stored response. Records expire after a day.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.clock import Clock

from .models import IdempotencyRecord

KEEP_FOR = timedelta(hours=24)
MAX_KEY = 255


class KeyReused(Exception):
    """The key was used before for a different request."""


@dataclass(frozen=True)
class StoredResponse:
    status: int
    content_type: str
    body: str
    etag: str | None
    location: str | None


def request_hash(method: str, path: str, query: str, content_type: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper(), path, query, content_type or ""):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY and all(0x20 < ord(ch) < 0x7F for ch in key)


def find(
    session: Session, *, scope: str, key: str, fingerprint: str, clock: Clock
) -> StoredResponse | None:
    """The stored response of an earlier request with this key (KeyReused if that request was
    a different one), or None when the key is new or its record expired."""
    row = session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    ).first()
    if row is None or row.expires_at <= clock.now():
        return None
    if row.request_hash != fingerprint:
        raise KeyReused(
            f"Idempotency-Key {key!r} was already used for a different request "
            f"({row.method} {row.path}); use a new key for a new request"
        )
    return StoredResponse(row.status, row.content_type, row.body, row.etag, row.location)


def claim(
    session: Session,
    *,
    scope: str,
    key: str,
    fingerprint: str,
    method: str,
    path: str,
    clock: Clock,
) -> IdempotencyRecord:
    """Take the key for a request about to run (inside the caller's write transaction), so
    that a concurrent copy waits on it; :func:`finish` records the response. Expired records
    go first."""
    now = clock.now()
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
    row = IdempotencyRecord(
        scope=scope,
        key=key,
        request_hash=fingerprint,
        method=method.upper(),
        path=path[:500],
        status=0,
        content_type="",
        body="",
        created_at=now,
        expires_at=now + KEEP_FOR,
    )
    session.add(row)
    session.flush()
    return row


def finish(session: Session, row: IdempotencyRecord, response: StoredResponse) -> None:
    """Record the response of the request that claimed ``row``."""
    row.status = response.status
    row.content_type = response.content_type[:100]
    row.body = response.body
    row.etag = response.etag
    row.location = response.location[:500] if response.location else None
    session.flush()
