"""Adding, listing and removing a case's attachments.

``add`` checks a file (size, then kind from its bytes), stores it and its thumbnail, and adds
its row in the caller's transaction; ``Pending`` removes the stored files again if that
transaction does not commit, so a refused or failed request leaves neither a row nor a file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..cases.models import Case
from ..errors import FormInvalid
from .files import FileStore, Refused, detect, thumbnail
from .models import Attachment

SOURCES = ("intake", "note", "task", "appeal", "open311", "api")
#: at most this many files in one request, and on one case
MAX_PER_REQUEST = 10
MAX_PER_CASE = 50
NAME_CHARS = 255


@dataclass
class Upload:
    """A file as it arrived: the name its sender gave and its bytes."""

    file_name: str
    data: bytes


@dataclass
class Limits:
    max_bytes: int
    per_request: int = MAX_PER_REQUEST
    per_case: int = MAX_PER_CASE


def _clean_name(name: str) -> str:
    """The sender's name for the file, without any directory, control character or slash."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip().strip(".")
    return base[:NAME_CHARS] or "file"


def check(uploads: list[Upload], *, limits: Limits, field_name: str = "attachments") -> dict:
    """Every upload checked before anything is stored: its kind, by its index. FormInvalid naming
    ``field_name`` and the file when one is refused (then nothing is stored)."""
    if len(uploads) > limits.per_request:
        raise FormInvalid({field_name: [f"at most {limits.per_request} files at once"]})
    kinds = {}
    errors = []
    for i, upload in enumerate(uploads):
        name = _clean_name(upload.file_name)
        if len(upload.data) > limits.max_bytes:
            mb = limits.max_bytes / (1024 * 1024)
            errors.append(f"{name}: larger than {mb:g} MB")
            continue
        try:
            kinds[i] = detect(upload.data)
        except Refused as refused:
            errors.append(f"{name}: {refused}")
    if errors:
        raise FormInvalid({field_name: errors})
    return kinds


class Pending:
    """Files stored for a transaction that has not committed yet: removed if it rolls back."""

    def __init__(self, session: Session, store: FileStore) -> None:
        self.store = store
        self.keys: list[str] = []
        event.listen(session, "after_rollback", self._discard, once=True)
        event.listen(session, "after_commit", self._keep, once=True)

    def _discard(self, _session) -> None:
        for key in self.keys:
            self.store.delete(key)
        self.keys.clear()

    def _keep(self, _session) -> None:
        self.keys.clear()

    def put(self, data: bytes) -> str:
        key = self.store.put(data)
        self.keys.append(key)
        return key


def add(
    session: Session,
    store: FileStore,
    *,
    case: Case,
    uploads: list[Upload],
    source: str,
    by: str,
    now: datetime,
    limits: Limits,
    field_name: str = "attachments",
) -> list[Attachment]:
    """Check, store and record ``uploads`` on ``case`` in the session's transaction (the
    caller commits). FormInvalid naming ``field_name`` if any file is refused: none is kept."""
    if source not in SOURCES:
        raise ValueError(f"unknown attachment source {source!r}")
    if not uploads:
        return []
    kinds = check(uploads, limits=limits, field_name=field_name)
    existing = count(session, case.id)
    if existing + len(uploads) > limits.per_case:
        raise FormInvalid(
            {field_name: [f"a case keeps at most {limits.per_case} files ({existing} already)"]}
        )
    pending = Pending(session, store)
    rows = []
    for i, upload in enumerate(uploads):
        kind = kinds[i]
        thumb_key = pending.put(thumbnail(upload.data)) if kind.image else None
        row = Attachment(
            case_id=case.id,
            source=source,
            uploaded_by=by,
            file_name=_clean_name(upload.file_name),
            content_type=kind.content_type,
            size=len(upload.data),
            sha256=hashlib.sha256(upload.data).hexdigest(),
            storage_key=pending.put(upload.data),
            thumb_key=thumb_key,
            created_at=now,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def count(session: Session, case_id: int) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).where(Attachment.case_id == case_id)) or 0


def of_case(session: Session, case_id: int) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id)
        )
    )


def one(session: Session, case_id: int, attachment_id: int) -> Attachment | None:
    row = session.get(Attachment, attachment_id)
    return row if row is not None and row.case_id == case_id else None


def remove_for_cases(session: Session, store: FileStore, case_ids: Iterable[int]) -> int:
    """Delete the attachments of these cases, rows now and files once the transaction commits
    (retention: a case's files go with its personal data)."""
    ids = list(case_ids)
    if not ids:
        return 0
    rows = list(session.scalars(select(Attachment).where(Attachment.case_id.in_(ids))))
    keys = [k for r in rows for k in (r.storage_key, r.thumb_key) if k]
    for row in rows:
        session.delete(row)

    def _unlink(_session) -> None:
        for key in keys:
            store.delete(key)

    if keys:
        event.listen(session, "after_commit", _unlink, once=True)
    return len(rows)
