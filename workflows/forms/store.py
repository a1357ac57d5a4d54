"""Form versions in the database: save (a new version, or nothing when unchanged), seed from
the files under forms/, list, and pin the versions a deployed definition uses.

The files are where forms start (``hotline init`` seeds each as version 1, and again when the
file changes); the form editor saves new versions. A definition version pins the versions of
its tasks' forms when it is deployed (``pin``), so a case renders and validates its tasks with
the forms it started with, whatever is saved later (``FormRegistry.for_instance``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, defer

from engine.clock import Clock

from .components import INPUT_TYPES
from .models import FormVersion
from .registry import FormRegistry
from .service import Form, FormError, FormNotFound, is_form_key

#: the input fields the domain's code reads from a form's data (by form key): a new version
#: must keep each of them as an input field, or the step would fail at run time
DOMAIN_FIELDS: dict[str, tuple[str, ...]] = {
    "common/intake": ("case_type", "urgency", "intake_outcome"),
    "common/dispatch": ("lead_department",),
    "common/reply": ("reply_text",),
    "common/sign_for": ("action",),
    "common/callback": ("satisfaction", "resolved", "contact_result"),
}

#: what a form without one of its DOMAIN_FIELDS is told (the pages translate it)
KEEP_FIELD = "the hotline reads this field: keep it in the form"

FROM_FILE = "file"
FROM_EDITOR = "editor"


class FormRefused(Exception):
    """A form that may not be saved: one FormError per problem (component named when known)."""

    def __init__(self, errors: list[FormError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@dataclass(frozen=True)
class SaveOutcome:
    key: str
    version: int
    created: bool

    def describe(self) -> str:
        if self.created:
            return f"saved form {self.key} version {self.version}"
        return f"form {self.key} is unchanged (identical to version {self.version}); nothing saved"


def canonical_hash(document: Any) -> str:
    """The hash of a form's JSON whatever its key order and layout."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pretty(document: Any) -> str:
    """The text a version is stored (and exported) as."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def check(key: str, text: str | bytes) -> tuple[Any, list[FormError]]:
    """(the document, the problems): the registry's parser, then the domain's fields."""
    file = f"{key}.json"
    if not is_form_key(key):
        return None, [FormError(str(key), "not a valid form key (letters, digits, _ - and /)")]
    try:
        form = Form.from_json(key, text, file=file)
    except FormError as exc:
        return None, [exc]
    document = json.loads(text)
    present = {f["key"] for f in form.fields if f.get("type") in INPUT_TYPES}
    errors = [
        FormError(file, KEEP_FIELD, component=name)
        for name in DOMAIN_FIELDS.get(key, ())
        if name not in present
    ]
    return document, errors


def latest(session: Session, key: str) -> FormVersion | None:
    """The newest version of ``key``, or None when it has never been stored."""
    return session.scalars(
        select(FormVersion).where(FormVersion.key == key).order_by(FormVersion.version.desc())
    ).first()


def version_row(session: Session, *, key: str, version: int) -> FormVersion | None:
    """One version of ``key``, or None."""
    return session.scalars(
        select(FormVersion).where(FormVersion.key == key, FormVersion.version == version)
    ).first()


def versions_of(key: str) -> Select:
    """Every version of ``key`` newest first, without its JSON (a statement, to page through)."""
    return (
        select(FormVersion)
        .options(defer(FormVersion.schema))
        .where(FormVersion.key == key)
        .order_by(FormVersion.version.desc())
    )


def latest_versions(session: Session) -> dict[str, FormVersion]:
    """The newest version of every stored form, by key (without the JSON)."""
    newest = (
        select(FormVersion.key, func.max(FormVersion.version).label("version"))
        .group_by(FormVersion.key)
        .subquery()
    )
    rows = session.scalars(
        select(FormVersion)
        .options(defer(FormVersion.schema))
        .join(
            newest,
            and_(FormVersion.key == newest.c.key, FormVersion.version == newest.c.version),
        )
    )
    return {row.key: row for row in rows}


def save(
    session: Session,
    *,
    key: str,
    text: str | bytes,
    author: str,
    comment: str = "",
    clock: Clock,
    registry: FormRegistry | None = None,
    source: str = FROM_EDITOR,
) -> SaveOutcome:
    """Check and store ``text`` as the next version of ``key`` (FormRefused when it may not
    be saved); identical to the latest version (by content), nothing is stored. The first
    save from the editor of a form that only exists as a file stores the file as version 1
    first, so the history starts where the running cases do."""
    document, errors = check(key, text)
    if errors:
        raise FormRefused(errors)
    digest = canonical_hash(document)
    current = latest(session, key)
    if current is None and registry is not None and source == FROM_EDITOR:
        current = _seed_file(session, registry, key, clock=clock)
    if current is not None and current.sha256 == digest:
        return SaveOutcome(key, current.version, False)
    row = _add(
        session,
        key=key,
        version=(current.version + 1) if current else 1,
        document=document,
        digest=digest,
        source=source,
        author=author,
        comment=comment,
        clock=clock,
    )
    return SaveOutcome(key, row.version, True)


def seed_from_files(
    session: Session, registry: FormRegistry, *, clock: Clock, author: str = "hotline init"
) -> Iterator[str]:
    """Store each file under forms/ that is new or changed since it was last seeded; a form
    whose newest version was made in the editor is left alone (and said so)."""
    for key in registry.file_keys():
        try:
            form_text = registry.file_text(key)
        except FormError as exc:
            yield f"form {key}: {exc.message}; not seeded"
            continue
        document, errors = check(key, form_text)
        if errors:
            yield f"form {key}: {'; '.join(str(e) for e in errors)}; not seeded"
            continue
        digest = canonical_hash(document)
        current = latest(session, key)
        seeded = _latest_from_file(session, key)
        if seeded is not None and seeded.sha256 == digest:
            continue
        if current is not None and current.sha256 == digest:
            continue
        if current is not None and current.source != FROM_FILE:
            yield (
                f"form {key}: the file changed, but version {current.version} was saved in "
                "the editor; the file was not seeded over it"
            )
            continue
        version = (current.version + 1) if current else 1
        _add(
            session,
            key=key,
            version=version,
            document=document,
            digest=digest,
            source=FROM_FILE,
            author=author,
            comment="from forms/" + key + ".json",
            clock=clock,
        )
        yield f"form {key} version {version} stored from its file"


def pin(
    session: Session, registry: FormRegistry, keys: Iterable[str], *, clock: Clock
) -> dict[str, int]:
    """The newest version of each form in ``keys``: what a definition being deployed pins.
    A form that only exists as a file is stored as version 1 first, so that the pin holds."""
    pins: dict[str, int] = {}
    for key in sorted(set(keys)):
        current = latest(session, key)
        if current is None:
            current = _seed_file(session, registry, key, clock=clock)
        if current is not None:
            pins[key] = current.version
    return pins


def pinned_versions(info: Mapping[str, Any] | None) -> dict[str, int]:
    """The form versions a definition pinned (form key -> version; empty before pinning)."""
    pins = (info or {}).get("form_versions") or {}
    return {str(k): int(v) for k, v in pins.items()}


def _latest_from_file(session: Session, key: str) -> FormVersion | None:
    return session.scalars(
        select(FormVersion)
        .where(FormVersion.key == key, FormVersion.source == FROM_FILE)
        .order_by(FormVersion.version.desc())
    ).first()


def _seed_file(
    session: Session, registry: FormRegistry, key: str, *, clock: Clock
) -> FormVersion | None:
    try:
        text = registry.file_text(key)
    except FormNotFound:
        return None
    document, errors = check(key, text)
    if errors:
        return None  # a bad file pins nothing: its tasks fall back to the file (and fail there)
    return _add(
        session,
        key=key,
        version=1,
        document=document,
        digest=canonical_hash(document),
        source=FROM_FILE,
        author="forms/",
        comment="from forms/" + key + ".json",
        clock=clock,
    )


def _add(
    session: Session,
    *,
    key: str,
    version: int,
    document: Any,
    digest: str,
    source: str,
    author: str,
    comment: str,
    clock: Clock,
) -> FormVersion:
    row = FormVersion(
        key=key,
        version=version,
        schema=pretty(document),
        sha256=digest,
        source=source,
        author=author[:120],
        comment=comment,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class DefinitionForm:
    """A form as a deployed definition uses it: its key, the pinned version (None for a
    definition deployed before pinning: then the newest version or the file) and its text."""

    key: str
    version: int | None
    text: str


def forms_of_definition(
    session: Session, registry: FormRegistry, info: Mapping[str, Any] | None
) -> list[DefinitionForm]:
    """The forms a definition version's user tasks name (``Definition.info``), by key, each
    in the version the definition pinned: what ``hotline export`` writes next to its XML."""
    pins = pinned_versions(info)
    keys = sorted(
        {t.get("form_key") for t in ((info or {}).get("user_tasks") or {}).values()} - {None, ""}
    )
    out = []
    for key in keys:
        version = pins.get(key)
        row = (
            version_row(session, key=key, version=version)
            if version is not None
            else latest(session, key)
        )
        if row is not None:
            out.append(DefinitionForm(key, row.version, row.schema))
            continue
        try:
            text = registry.file_text(key).decode("utf-8")
        except (FormError, UnicodeDecodeError):
            continue  # a form that no longer exists anywhere: nothing to write
        out.append(DefinitionForm(key, None, text))
    return out
