"""What changed between two deployed versions of a process, element by element, for people.

Administrators read it before they move running instances to a new version (see
:mod:`engine.instance_moves`), and on the definitions pages and API. It compares the stored XML:
flow nodes and sequence flows by id, each by its facets (type, name, condition, timer, script,
properties...). It knows nothing of running instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from .canonical import semantic_digest
from .definitions import stored_semantic_digest
from .errors import NotFound
from .models import Definition
from .validation import BPMN_NS, SPIFF_NS, SUPPORTED_FLOW_NODES
from .xmlsafe import parse_bytes

__all__ = [
    "DefinitionDiff",
    "DeployPreview",
    "ElementChange",
    "definition_versions",
    "diff_definitions",
    "diff_versions",
    "preview_deploy",
]


@dataclass
class ElementChange:
    """One element added, removed or changed between two versions.

    ``changes`` maps what changed (name, type, condition, timer, script, properties...) to the
    (old, new) values, as text; it is empty for an added or removed element.
    """

    element_id: str
    kind: str
    name: str
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


@dataclass
class DefinitionDiff:
    added: list[ElementChange]
    removed: list[ElementChange]
    changed: list[ElementChange]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_definitions(old_xml: str, new_xml: str, key: str) -> DefinitionDiff:
    """What changed in process ``key`` between two stored documents: flow nodes and flows by id.

    Compared per element: type, name, condition, timer, script, properties (form, candidate
    groups...), boundary attachment, default flow, source and target, lane, service, called
    element and event definitions.
    """
    old, new = _elements(old_xml, key), _elements(new_xml, key)
    added = [_change(new[i]) for i in new if i not in old]
    removed = [_change(old[i]) for i in old if i not in new]
    changed = []
    for element_id, before in old.items():
        after = new.get(element_id)
        if after is None:
            continue
        facets = {
            name: (before.get(name), after.get(name))
            for name in sorted(set(before) | set(after))
            if before.get(name) != after.get(name)
        }
        if facets:
            changed.append(_change(after, facets))
    return DefinitionDiff(added, removed, changed)


def diff_versions(session: Session, *, key: str, from_version: int, to_version: int):
    """:func:`diff_definitions` of two deployed versions of ``key``."""
    old, new = definition_versions(session, key, from_version, to_version)
    return diff_definitions(old.xml, new.xml, key)


@dataclass
class DeployPreview:
    """What deploying a document would do to process ``key``: nothing (``unchanged``), its
    first version (no ``latest``), or a new version with ``diff`` against ``latest``."""

    key: str
    latest: Definition | None
    unchanged: bool
    diff: DefinitionDiff | None


def preview_deploy(session: Session, root: etree._Element, keys: list[str]) -> list[DeployPreview]:
    """For a validated document (its root element) and the processes in it: what a deploy
    would do, compared with each process's latest version as deploy compares them."""
    text: str | None = None
    out = []
    for key in keys:
        latest = session.scalars(
            select(Definition)
            .where(Definition.key == key)
            .order_by(Definition.version.desc())
            .limit(1)
        ).first()
        if latest is None:
            out.append(DeployPreview(key, None, False, None))
            continue
        if stored_semantic_digest(latest) == semantic_digest(root, key):
            out.append(DeployPreview(key, latest, True, None))
            continue
        text = text or etree.tostring(root, encoding="unicode")
        out.append(DeployPreview(key, latest, False, diff_definitions(latest.xml, text, key)))
    return out


def _change(facets: dict[str, str | None], changes=None) -> ElementChange:
    return ElementChange(
        element_id=facets["id"] or "",
        kind=facets["type"] or "",
        name=facets.get("name") or "",
        changes=changes or {},
    )


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _text(node: etree._Element | None) -> str | None:
    if node is None:
        return None
    return " ".join((node.text or "").split()) or None


def _elements(xml: str, key: str) -> dict[str, dict[str, str | None]]:
    """element id -> facets, for every flow node and sequence flow of process ``key``."""
    data = xml.encode("utf-8")
    root = parse_bytes(data, max_bytes=len(data) + 1).getroot()
    process = next(
        (p for p in root.iter(_q(BPMN_NS, "process")) if p.get("id") == key),
        None,
    )
    if process is None:
        raise NotFound(f"the stored document has no process {key!r}")
    lanes: dict[str, str] = {}
    for lane in process.iter(_q(BPMN_NS, "lane")):
        for ref in lane.iter(_q(BPMN_NS, "flowNodeRef")):
            if ref.text:
                lanes[ref.text.strip()] = lane.get("name") or lane.get("id") or ""
    found: dict[str, dict[str, str | None]] = {}
    for el in process.iter():
        if not isinstance(el.tag, str) or not el.tag.startswith(f"{{{BPMN_NS}}}"):
            continue
        tag = etree.QName(el).localname
        if tag not in SUPPORTED_FLOW_NODES and tag != "sequenceFlow":
            continue
        element_id = el.get("id")
        if not element_id:
            continue
        found[element_id] = _facets(el, tag, lanes.get(element_id))
    return found


def _facets(el: etree._Element, tag: str, lane: str | None) -> dict[str, str | None]:
    facets: dict[str, str | None] = {
        "id": el.get("id"),
        "type": tag,
        "name": " ".join((el.get("name") or "").split()) or None,
    }
    if tag == "sequenceFlow":
        facets["source"] = el.get("sourceRef")
        facets["target"] = el.get("targetRef")
        facets["condition"] = _text(el.find(_q(BPMN_NS, "conditionExpression")))
        return facets
    facets["lane"] = lane
    if el.get("default"):
        facets["default flow"] = el.get("default")
    if tag == "boundaryEvent":
        facets["attached to"] = el.get("attachedToRef")
        facets["interrupting"] = el.get("cancelActivity", "true")
    if tag == "callActivity":
        facets["called element"] = el.get("calledElement")
    timers = []
    events = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name == "timerEventDefinition":
            for part in child:
                if isinstance(part.tag, str):
                    timers.append(f"{etree.QName(part).localname}: {_text(part) or ''}")
        elif name.endswith("EventDefinition"):
            ref = next((v for k, v in child.attrib.items() if k.endswith("Ref")), None)
            events.append(name[: -len("EventDefinition")] + (f" {ref}" if ref else ""))
    if timers:
        facets["timer"] = "; ".join(timers)
    if events:
        facets["events"] = ", ".join(sorted(events))
    script = el.find(_q(BPMN_NS, "script"))
    if script is not None:
        facets["script"] = (script.text or "").strip() or None
    ext = el.find(_q(BPMN_NS, "extensionElements"))
    if ext is not None:
        props = {
            p.get("name"): p.get("value")
            for p in ext.iter(_q(SPIFF_NS, "property"))
            if p.get("name")
        }
        if props:
            facets["properties"] = "; ".join(f"{k}={v}" for k, v in sorted(props.items()))
        for hook in ("preScript", "postScript"):
            node = ext.find(_q(SPIFF_NS, hook))
            if node is not None and (node.text or "").strip():
                facets[hook] = node.text.strip()
        operator = ext.find(_q(SPIFF_NS, "serviceTaskOperator"))
        if operator is not None:
            params = [
                f"{p.get('id')}={p.get('value')}" for p in operator.iter(_q(SPIFF_NS, "parameter"))
            ]
            facets["service"] = operator.get("id", "") + (
                f" ({', '.join(params)})" if params else ""
            )
    return facets


def definition_versions(
    session: Session, key: str, from_version: int, to_version: int
) -> tuple[Definition, Definition]:
    """The two deployed versions of ``key`` (raises :class:`NotFound` naming a missing one)."""
    rows = {
        d.version: d
        for d in session.scalars(
            select(Definition).where(
                Definition.key == key, Definition.version.in_([from_version, to_version])
            )
        )
    }
    for version in (from_version, to_version):
        if version not in rows:
            raise NotFound(f"{key} has no version {version}")
    return rows[from_version], rows[to_version]
