"""Case types administrators add on the pages (Administration > Case types), stored in the
database in the shape of a ``[[case_type]]`` declaration (docs/case-types.md), and the live
registry every process of the installation reads them through.

A type added here is one row: its declaration (code, process, labels, Open311 names, the form
of its own intake fields, its deadline policy per urgency). Adding it, in one transaction:
checks the declaration as a file's would be checked; adds its policy rows; and, when asked,
deploys a copy of another type's latest diagram as its process (the process renamed to the
type's code), which the designer then edits in the modeler.

``StoredTypes`` keeps one installation's registry (``hotline.case_types``, a
:class:`CaseTypes` held by every service) equal to the bundled types, the file's, and these:
``refresh()`` compares a cheap stamp (the rows' count and last change) at most every few
seconds and reloads on a change, so a type added in one web process reaches the others and the
workers without a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import DomainError, FormInvalid
from .models import CaseTypeRecord
from .type_files import spec_of_table
from .types import LIMIT_FIELDS, CaseTypeError, CaseTypes, CaseTypeSpec

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def spec_of(record: CaseTypeRecord) -> CaseTypeSpec:
    return spec_of_table(
        f"added on the pages by {record.created_by}", dict(record.declaration), base=None
    )


def stored_specs(session: Session) -> list[CaseTypeSpec]:
    return [spec_of(r) for r in session.scalars(select(CaseTypeRecord).order_by(CaseTypeRecord.id))]


class StoredTypes:
    """Keeps ``registry`` equal to ``base`` and the stored types (see the module's doc)."""

    def __init__(
        self,
        registry: CaseTypes,
        base: CaseTypes,
        session_factory: Callable[[], Session],
        *,
        every: float = 2.0,
    ) -> None:
        self.registry = registry
        self.base = list(base)
        self.session_factory = session_factory
        self.every = every
        self._stamp: tuple | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def refresh(self, session: Session | None = None, *, force: bool = False) -> bool:
        """Reload when the stored types changed (checked at most every ``every`` seconds
        unless ``force``); True when the registry changed. A table not there yet (a database
        before its migration) reads as no stored types."""
        now = time.monotonic()
        if not force and now - self._checked < self.every:
            return False
        with self._lock:
            self._checked = now
            own = session is None
            session = session or self.session_factory()
            try:
                try:
                    stamp = tuple(
                        session.execute(
                            select(func.count(), func.max(CaseTypeRecord.updated_at))
                        ).one()
                    )
                except Exception:  # noqa: BLE001 - no table yet: nothing stored
                    session.rollback()
                    return False
                if stamp == self._stamp:
                    return False
                specs = stored_specs(session) if stamp[0] else []
            finally:
                if own:
                    session.close()
            try:
                self.registry.reset([*self.base, *specs])
            except CaseTypeError:
                # a stored type clashing with a type a file declares since: the file wins,
                # the stored one is left out (and said on the admin page)
                known = {s.code for s in self.base}
                self.registry.reset([*self.base, *(s for s in specs if s.code not in known)])
            self._stamp = stamp
            return True


# -- adding a type -----------------------------------------------------------------------------


def declaration_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """A declaration from the admin form's cleaned values (see ``webapp/admin/case_types``):
    the normal urgency's limits; the higher urgencies get the usual hour limits."""
    policy: dict[str, Any] = {
        "callback_required": bool(values["callback_required"]),
        "review_required": bool(values["review_required"]),
    }
    for column in LIMIT_FIELDS.values():
        value = values.get(f"{column}_value")
        if value is not None:
            policy[column] = {"value": value, "unit": values[f"{column}_unit"]}
    declaration = {
        "code": values["code"],
        "process": values.get("process") or values["code"],
        "label_zh": values["label_zh"],
        "label_en": values["label_en"],
        "confidential": bool(values.get("confidential")),
        "share": 0,
        "policy": policy,
    }
    for name in ("open311_group_zh", "open311_group_en", "details_form"):
        if values.get(name):
            declaration[name] = values[name]
    return declaration


def add_case_type(
    session: Session,
    hotline,
    *,
    declaration: dict[str, Any],
    copy_from: str | None,
    by: str,
    intake_keys: Iterable[str] = (),
) -> tuple[CaseTypeSpec, list]:
    """Store a new type, its policy rows and (``copy_from``: a deployed process key) a copy
    of that process as the type's own; FormInvalid naming the field when anything is wrong,
    and then nothing is stored. Returns the spec and the deployment's outcomes."""
    from engine.db import unit_of_work
    from engine.errors import DefinitionInvalid
    from engine.models import Definition

    from ..policy.service import seed_policies

    try:
        spec = spec_of_table(f"added on the pages by {by}", declaration, base=None)
    except CaseTypeError as exc:
        raise FormInvalid({"_schema": [str(exc)]}) from None
    problems = {_field_of(name): [message] for name, message in spec.problems()}
    if problems:
        raise FormInvalid(problems)
    if spec.code in hotline.case_types:
        raise FormInvalid({"code": [f"{spec.code} is a case type already"]})
    if spec.details_form is not None:
        _check_details_form(hotline, spec.details_form, intake_keys)
    outcomes: list = []
    with unit_of_work(session):
        latest = session.scalars(
            select(Definition.id).where(Definition.key == spec.process).limit(1)
        ).first()
        if copy_from:
            if latest is not None:
                raise FormInvalid(
                    {"process": [f"process {spec.process} is deployed already: do not copy"]}
                )
            source = session.scalars(
                select(Definition)
                .where(Definition.key == copy_from)
                .order_by(Definition.version.desc())
                .limit(1)
            ).first()
            if source is None:
                raise FormInvalid({"copy_from": [f"no process {copy_from} is deployed"]})
            data = copied_process(source.xml, copy_from, spec.process, spec.label_zh)
            try:
                outcomes = hotline.runtime.deploy(
                    session,
                    data,
                    f"{spec.process}.bpmn",
                    deployed_by=by,
                    form_exists=hotline.forms.exists,
                )
            except DefinitionInvalid as exc:
                raise FormInvalid(
                    {"copy_from": [f"the copy does not deploy: {exc.issues[0].message}"]}
                ) from None
        elif latest is None:
            raise FormInvalid(
                {
                    "process": [
                        f"no process {spec.process} is deployed: deploy its diagram first, "
                        "or copy another type's"
                    ]
                }
            )
        now = hotline.clock.now()
        session.add(
            CaseTypeRecord(
                code=spec.code,
                declaration=declaration,
                created_by=by,
                created_at=now,
                updated_at=now,
            )
        )
        seed_policies(session, CaseTypes([spec]))
        session.flush()
    return spec, outcomes


def _field_of(name: str) -> str:
    """The form field a declaration's problem names (``policy.sign`` -> ``sign_value``)."""
    if name.startswith("policy"):
        column = name.split(".")[-1]
        return f"{column}_value" if column in LIMIT_FIELDS.values() else column
    return name


def _check_details_form(hotline, key: str, intake_keys: Iterable[str]) -> None:
    from ..forms import FormError, FormNotFound

    try:
        form = hotline.forms.get(key)
    except (FormNotFound, FormError) as exc:
        raise FormInvalid({"details_form": [f"form {key}: {exc}"]}) from None
    clash = sorted({f["key"] for f in form.fields} & set(intake_keys))
    if clash:
        raise FormInvalid(
            {
                "details_form": [
                    f"form {key} has fields the intake form has already: {', '.join(clash)}"
                ]
            }
        )


def copied_process(xml: str, source: str, process: str, name: str) -> bytes:
    """The document of process ``source`` with the process renamed ``process`` (its id, the
    participant's reference, its name): what a new type's designer starts from."""
    from engine.xmlsafe import parse_bytes

    root = parse_bytes(xml.encode("utf-8")).getroot()
    found = False
    for element in root.iter(f"{{{BPMN_NS}}}process"):
        if element.get("id") == source:
            element.set("id", process)
            element.set("name", name)
            found = True
    if not found:
        raise DomainError(f"the diagram has no process {source}")
    for participant in root.iter(f"{{{BPMN_NS}}}participant"):
        if participant.get("processRef") == source:
            participant.set("processRef", process)
            participant.set("name", name)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
