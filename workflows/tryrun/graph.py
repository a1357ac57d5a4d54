"""What a draft diagram says before anything runs: its elements, the ones no path reaches
from a start event, and the user tasks no user may do.

Read from the XML (safely parsed) rather than from SpiffWorkflow's specs, so that an element
with no path to it is reported by its id even where the parser would drop or join it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from engine.xmlsafe import parse_bytes

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
#: what is not a flow node inside a process or sub-process
NOT_NODES = frozenset(
    {
        "sequenceFlow",
        "laneSet",
        "lane",
        "textAnnotation",
        "association",
        "dataObject",
        "dataObjectReference",
        "dataStoreReference",
        "extensionElements",
        "documentation",
        "incoming",
        "outgoing",
        "ioSpecification",
        "property",
        "group",
        "category",
    }
)


@dataclass
class Element:
    id: str
    kind: str  # the BPMN tag's local name: userTask, exclusiveGateway, endEvent...
    name: str
    lane: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    #: the sub-process it is in (None: the process itself)
    parent: str | None = None


@dataclass
class Diagram:
    elements: dict[str, Element]
    #: the ids no path reaches from a start event, in document order
    unreachable: list[str]
    #: the executable processes' ids
    processes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Person:
    """What the candidate check needs of a user."""

    role: str
    department: str | None


def read_diagram(data: bytes) -> Diagram:
    """The flow nodes of every process in ``data`` and those no start event reaches."""
    root = parse_bytes(data).getroot()
    elements: dict[str, Element] = {}
    edges: dict[str, set[str]] = {}
    roots: list[str] = []
    processes = []
    for process in root.iter(f"{{{BPMN}}}process"):
        if process.get("isExecutable") != "false" and process.get("id"):
            processes.append(process.get("id"))
        lanes = _lanes(process)
        _walk(process, None, elements, edges, roots, lanes)
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(edges.get(node, ()))
    return Diagram(elements, [i for i in elements if i not in seen], processes)


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _lanes(process: etree._Element) -> dict[str, str]:
    out = {}
    for lane in process.iter(f"{{{BPMN}}}lane"):
        for ref in lane.findall(f"{{{BPMN}}}flowNodeRef"):
            if ref.text:
                out[ref.text.strip()] = lane.get("name") or lane.get("id") or ""
    return out


def _walk(container, parent, elements, edges, roots, lanes) -> None:
    """Add ``container``'s flow nodes and edges; its start events are reached from
    ``parent`` (or are roots at the process level)."""
    for el in container:
        kind = _local(el)
        if not kind or kind in NOT_NODES:
            if kind == "sequenceFlow" and el.get("sourceRef") and el.get("targetRef"):
                edges.setdefault(el.get("sourceRef"), set()).add(el.get("targetRef"))
            continue
        ident = el.get("id")
        if not ident:
            continue
        elements[ident] = Element(
            ident, kind, el.get("name") or "", lanes.get(ident), _properties(el), parent
        )
        if kind == "boundaryEvent" and el.get("attachedToRef"):
            edges.setdefault(el.get("attachedToRef"), set()).add(ident)
        if kind == "startEvent":
            if parent is None:
                roots.append(ident)
            else:
                edges.setdefault(parent, set()).add(ident)
        if kind in ("subProcess", "transaction", "adHocSubProcess"):
            if el.get("triggeredByEvent") == "true":
                # an event sub-process waits as soon as its container runs
                edges.setdefault(parent, set()).add(ident) if parent else roots.append(ident)
            _walk(el, ident, elements, edges, roots, lanes)


def _properties(el: etree._Element) -> dict[str, str]:
    out = {}
    for prop in el.iter(f"{{{SPIFF}}}property"):
        if prop.get("name"):
            out[prop.get("name")] = prop.get("value") or ""
    return out


def literal_group(expression: str) -> str | None:
    """The department code a ``candidateGroups`` expression names literally (``"B-UM"``),
    or None when it is computed from the case's data."""
    try:
        value = ast.literal_eval(expression.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Nobody:
    element: str
    reason: str  # "role" or "group"
    value: str


def tasks_nobody_may_do(diagram: Diagram, people: Iterable[Person]) -> list[Nobody]:
    """User tasks whose lane is a role no active user has, or whose literal candidate group
    is a department with no user of that role."""
    people = list(people)
    out = []
    for el in diagram.elements.values():
        if el.kind != "userTask":
            continue
        able = [p for p in people if not el.lane or p.role == el.lane]
        if el.lane and not able:
            out.append(Nobody(el.id, "role", el.lane))
            continue
        group = literal_group(el.properties.get("candidateGroups", "") or "''")
        if group and not any(p.department == group for p in able):
            out.append(Nobody(el.id, "group", group))
    return out
