"""Deployed definitions: validate, store as versions 1, 2, 3..., and cache parsed specs."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from .canonical import semantic_digest
from .clock import Clock
from .connectors import Connector
from .db import unit_of_work
from .errors import ConflictError, DefinitionInvalid, NotFound
from .expressions import Evaluator
from .models import COMMENT_MAX, Definition, ProcessInstance
from .spiff import BpmnParser
from .validation import FormExists, PropertyCheck, ValidationResult, validate_bytes
from .xmlsafe import DEFAULT_MAX_BYTES, parse_bytes

#: the current versions of the named forms (form key -> version), pinned by a deployment
FormVersions = Callable[[Session, list[str]], Mapping[str, int]]


@dataclass(frozen=True)
class DeployOutcome:
    key: str
    version: int
    definition_id: int
    created: bool
    #: nothing created because the bytes equal the latest version's (else: the same process,
    #: only layout or formatting differ); meaningless when ``created``
    identical: bool = False
    #: nothing created because the deploy's guard kept the latest version: why, for people
    skipped: str | None = None

    def describe(self) -> str:
        if self.created:
            return f"deployed {self.key} version {self.version}"
        if self.skipped:
            return f"skipped {self.key}: {self.skipped}"
        if self.identical:
            return (
                f"{self.key} is unchanged (identical to version {self.version}); nothing deployed"
            )
        return (
            f"{self.key} is unchanged (the same process as version {self.version}: only layout "
            "or formatting differ); nothing deployed"
        )


#: decides whether a changed process may replace ``latest``: None to deploy, or why not
DeployGuard = Callable[[Definition, str], str | None]


_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def decode_xml(data: bytes, declared: str | None) -> str:
    """The document as text whose XML declaration matches how we store it (UTF-8)."""
    text = data.decode(declared or "utf-8").lstrip("\ufeff")
    match = _DECL.match(text)
    if match:
        text = '<?xml version="1.0" encoding="UTF-8"?>' + text[match.end() :]
    return text


def deploy(
    session: Session,
    data: bytes,
    file_name: str,
    *,
    deployed_by: str,
    clock: Clock,
    evaluator: Evaluator | None = None,
    form_exists: FormExists | None = None,
    services: Iterable[str] | None = None,
    property_checks: Mapping[str, PropertyCheck] | None = None,
    connectors: Mapping[str, Connector] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    form_versions: FormVersions | None = None,
    comment: str = "",
    guard: DeployGuard | None = None,
) -> list[DeployOutcome]:
    """Validate and store every executable process in a BPMN document.

    Raises :class:`DefinitionInvalid` with located issues; stores nothing in that case. A process
    semantically equal to its latest version (:mod:`engine.canonical`: only layout, formatting,
    attribute order or prefixes differ) and pinning the same form versions is left alone and
    reported as unchanged. ``form_versions`` answers the versions of the forms its user tasks
    name, stored in ``info["form_versions"]``: the version pins them. ``guard``, when given, is
    asked before a changed process replaces its latest version (see :data:`DeployGuard`); a
    refusal is reported as skipped. ``comment`` is stored with each new version.
    """
    result: ValidationResult = validate_bytes(
        data,
        file_name,
        evaluator=evaluator,
        form_exists=form_exists,
        services=services,
        property_checks=property_checks,
        connectors=connectors,
        max_bytes=max_bytes,
    )
    if not result.ok:
        raise DefinitionInvalid(result.issues)
    digest = hashlib.sha256(data).hexdigest()
    text = decode_xml(data, result.tree.docinfo.encoding if result.tree is not None else None)
    outcomes: list[DeployOutcome] = []
    try:
        with unit_of_work(session):
            for key in sorted(result.processes):
                info = result.processes[key]
                latest = session.scalars(
                    select(Definition)
                    .where(Definition.key == key)
                    .order_by(Definition.version.desc())
                    .limit(1)
                ).first()
                forms = sorted({t.form_key for t in info.user_tasks.values() if t.form_key})
                pins = dict(form_versions(session, forms)) if form_versions else {}
                same_pins = (
                    latest is not None and (latest.info or {}).get("form_versions", {}) == pins
                )
                semantic = semantic_digest(result.tree.getroot(), key)
                if same_pins and latest.sha256 == digest:
                    outcomes.append(DeployOutcome(key, latest.version, latest.id, False, True))
                    continue
                if same_pins and stored_semantic_digest(latest) == semantic:
                    outcomes.append(DeployOutcome(key, latest.version, latest.id, False))
                    continue
                refusal = guard(latest, semantic) if guard and latest is not None else None
                if refusal:
                    outcomes.append(
                        DeployOutcome(key, latest.version, latest.id, False, skipped=refusal)
                    )
                    continue
                row = Definition(
                    key=key,
                    version=(latest.version + 1) if latest else 1,
                    name=info.name,
                    file_name=file_name.rsplit("/", 1)[-1],
                    xml=text,
                    sha256=digest,
                    semantic_digest=semantic,
                    deployed_by=deployed_by,
                    deployed_at=clock.now(),
                    comment=clean_comment(comment),
                    info={
                        "user_tasks": {
                            t.element_id: {"name": t.name, "lane": t.lane, "form_key": t.form_key}
                            for t in info.user_tasks.values()
                        },
                        **({"form_versions": pins} if pins else {}),
                    },
                )
                session.add(row)
                session.flush()
                outcomes.append(DeployOutcome(key, row.version, row.id, True))
    except IntegrityError:
        raise ConflictError(
            f"another deployment of {file_name} happened at the same time; try again"
        ) from None
    return outcomes


def clean_comment(comment: str | None) -> str:
    """A deploy comment as stored: blanks at the ends and control characters removed, at most
    :data:`COMMENT_MAX` characters (callers that take it from people check the length first)."""
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in comment or "")
    return text.strip()[:COMMENT_MAX]


def digests_deployed_by(session: Session, *, key: str, deployed_by: str) -> set[str]:
    """The semantic digests of the versions of ``key`` that ``deployed_by`` deployed."""
    rows = session.scalars(
        select(Definition).where(Definition.key == key, Definition.deployed_by == deployed_by)
    )
    return {stored_semantic_digest(r) for r in rows}


def stored_semantic_digest(row: Definition) -> str:
    """The semantic digest of a stored version (computed from its XML for rows stored before
    digests were)."""
    if row.semantic_digest:
        return row.semantic_digest
    data = row.xml.encode("utf-8")
    return semantic_digest(parse_bytes(data, max_bytes=len(data) + 1).getroot(), row.key)


_LATEST_REF = (
    select(Definition.id, Definition.key)
    .where(Definition.key == bindparam("key"))
    .order_by(Definition.version.desc())
    .limit(1)
)
_VERSION_REF = select(Definition.id, Definition.key).where(
    Definition.key == bindparam("key"), Definition.version == bindparam("version")
)


def definition_ref(conn: Connection, key: str, version: int | None = None) -> tuple[int, str]:
    """(id, key) of the latest (or given) version of ``key``: the cheap lookup a start needs."""
    if version is None:
        row = conn.execute(_LATEST_REF, {"key": key}).first()
        if row is None:
            raise NotFound(f"no definition with key {key!r} is deployed")
    else:
        row = conn.execute(_VERSION_REF, {"key": key, "version": version}).first()
        if row is None:
            raise NotFound(f"{key} has no version {version}")
    return row.id, row.key


def list_definitions(session: Session) -> list[tuple[str, str, list[int]]]:
    """(key, name of latest, versions) for every deployed key."""
    rows = session.execute(
        select(Definition.key, Definition.version, Definition.name).order_by(
            Definition.key, Definition.version
        )
    ).all()
    out: dict[str, tuple[str, list[int]]] = {}
    for key, version, name in rows:
        versions = out.setdefault(key, (name, []))[1]
        versions.append(version)
        out[key] = (name, versions)
    return [(k, n, v) for k, (n, v) in out.items()]


# -- reads the pages and the API share ------------------------------------------------------


def version_numbers(session: Session, key: str) -> list[int]:
    """The deployed versions of ``key``, oldest first (empty when none is)."""
    return list(
        session.scalars(
            select(Definition.version).where(Definition.key == key).order_by(Definition.version)
        )
    )


def definition_version(session: Session, *, key: str, version: int) -> Definition | None:
    """One version of ``key`` with its XML, or None."""
    return session.scalars(
        select(Definition).where(Definition.key == key, Definition.version == version)
    ).first()


def versions_of(key: str) -> Select:
    """Every version of ``key`` newest first, without its XML (a statement, to page through)."""
    return (
        select(Definition)
        .options(defer(Definition.xml))
        .where(Definition.key == key)
        .order_by(Definition.version.desc())
    )


def latest_versions() -> Select:
    """(key, name, version, versions, deployed_by, deployed_at) of each key's latest version,
    by key (a statement, to page through)."""
    latest = (
        select(
            Definition.key,
            func.max(Definition.version).label("latest"),
            func.count().label("versions"),
        )
        .group_by(Definition.key)
        .subquery()
    )
    return (
        select(
            Definition.key,
            Definition.name,
            Definition.version,
            latest.c.versions,
            Definition.deployed_by,
            Definition.deployed_at,
        )
        .join(latest, and_(Definition.key == latest.c.key, Definition.version == latest.c.latest))
        .order_by(Definition.key)
    )


def deployed_counts(session: Session) -> tuple[int, int]:
    """(keys, versions) deployed."""
    keys, versions = session.execute(
        select(func.count(func.distinct(Definition.key)), func.count()).select_from(Definition)
    ).one()
    return keys or 0, versions or 0


def running_per_key(session: Session) -> dict[str, int]:
    """Running instances per definition key (keys with none are left out)."""
    return dict(
        session.execute(
            select(ProcessInstance.key, func.count())
            .where(ProcessInstance.status == "running")
            .group_by(ProcessInstance.key)
        ).all()
    )


class SpecCache:
    """Parsed specs per definition id (a version never changes, so entries never go stale)."""

    def __init__(self, maxsize: int = 256) -> None:
        self._items: OrderedDict[int, tuple] = OrderedDict()
        self._lock = threading.Lock()
        self.maxsize = maxsize

    def get(self, definition_id: int, load: Callable[[], Definition | None]) -> tuple:
        """(spec, subprocess_specs); ``load`` fetches the row on a miss."""
        with self._lock:
            hit = self._items.get(definition_id)
            if hit is not None:
                self._items.move_to_end(definition_id)
                return hit
        definition = load()
        if definition is None:
            raise NotFound(f"definition {definition_id} does not exist")
        specs = parse_specs(definition.xml, definition.key, definition.file_name)
        with self._lock:
            self._items[definition_id] = specs
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return specs


def parse_specs(xml: str, key: str, file_name: str = "") -> tuple:
    """(spec, subprocess_specs) for ``key`` from stored, already validated XML."""
    parser = BpmnParser()
    parser.add_bpmn_xml(
        parse_bytes(xml.encode("utf-8"), max_bytes=len(xml.encode()) + 1), file_name
    )
    return parser.get_spec(key), parser.get_subprocess_specs(key)
