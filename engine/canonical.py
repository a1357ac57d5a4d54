"""The canonical form of one process in a BPMN document, so that a deploy can tell a real change
from a file that was only laid out, reformatted or saved by another tool.

Two documents whose process ``key`` has the same canonical form run the same way: the form drops
the diagram (``bpmndi:BPMNDiagram``: shapes, edges, labels, colours), comments, whitespace
around text, the order of attributes, the names of namespace prefixes (``bpmn:`` or ``bpmn2:``
or a default namespace; also inside QName values such as ``xsi:type="bpmn:tFormalExpression"``)
the exporter's stamp on the root element, and the order of flow elements in a process (a
modeler moves an element it drags to the end of its process and lane) and of the reference
lists (``flowNodeRef``, ``incoming``, ``outgoing``). Everything else counts: ids, names,
conditions, scripts, timers, properties, lanes, documentation, and the order of the sequence
flows leaving one element (SpiffWorkflow tries a gateway's conditions in document order, so
the first true one wins).

It keeps the processes ``key`` calls (``calledElement``, transitively) and every root-level
definition (signals, messages, errors, collaboration), and drops the document's other
processes: changing an unrelated process in the same file does not change ``key``.

The canonical text is W3C Canonical XML 2.0 (lxml's ``canonicalize``) with its prefix
rewriting, text stripping and QName-aware attributes.
"""

from __future__ import annotations

import copy
import hashlib

from lxml import etree

from .validation import BPMN_NS

__all__ = ["canonical_process", "semantic_digest"]

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

#: BPMN attributes typed xsd:QName: their value's prefix is a namespace prefix too
_QNAME_ATTRS = (
    f"{{{XSI_NS}}}type",
    "calledElement",
    "calledCollaborationRef",
    "dataStoreRef",
    "definitionalCollaborationRef",
    "errorRef",
    "escalationRef",
    "evaluatesToTypeRef",
    "implementationRef",
    "inMessageRef",
    "itemRef",
    "itemSubjectRef",
    "messageRef",
    "operationRef",
    "outMessageRef",
    "processRef",
    "signalRef",
    "structureRef",
    "type",
    "typeRef",
)
#: the root element's attributes that say who wrote the file, not what the process does
_ROOT_STAMPS = ("id", "exporter", "exporterVersion", "targetNamespace")


def _bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _called_closure(root: etree._Element, key: str) -> set[str]:
    """``key`` and the ids of the processes it calls, directly or not, in this document."""
    processes = {p.get("id"): p for p in root.iterchildren(_bpmn("process"))}
    wanted, todo = set(), [key]
    while todo:
        current = todo.pop()
        if current in wanted or current not in processes:
            continue
        wanted.add(current)
        for call in processes[current].iter(_bpmn("callActivity")):
            called = (call.get("calledElement") or "").split(":")[-1]
            if called:
                todo.append(called)
    return wanted


#: elements whose flow elements' order means nothing (but that of the flows out of one node)
_CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess"}
#: id references whose order means nothing
_REFERENCES = {_bpmn("flowNodeRef"), _bpmn("incoming"), _bpmn("outgoing")}


def _sort_flow_elements(container: etree._Element) -> None:
    """Flow elements by (kind, id); sequence flows by source, each source's in their order."""
    movable = [c for c in container if isinstance(c.tag, str) and c.get("id")]
    if len(movable) < 2:
        return

    def key(child: etree._Element) -> tuple[int, str, str]:
        if child.tag == _bpmn("sequenceFlow"):
            return 1, child.get("sourceRef") or "", ""
        return 0, child.tag, child.get("id") or ""

    _place(container, movable, sorted(movable, key=key))


def _sort_references(el: etree._Element) -> None:
    refs = [c for c in el if c.tag in _REFERENCES]
    if len(refs) > 1:
        _place(el, refs, sorted(refs, key=lambda c: (c.tag, (c.text or "").strip())))


def _place(parent: etree._Element, old: list, new: list) -> None:
    """Put the children ``new`` where the children ``old`` were, in that order."""
    slots = [parent.index(c) for c in old]
    for child in old:
        child.tail = None
        parent.remove(child)
    for slot, child in sorted(zip(slots, new, strict=True), key=lambda pair: pair[0]):
        parent.insert(slot, child)


def canonical_process(root: etree._Element, key: str) -> bytes:
    """The canonical text of process ``key`` in the document whose root element is ``root``."""
    root = copy.deepcopy(root)
    keep = _called_closure(root, key)
    for child in list(root):
        if child.tag == _bpmn("process") and child.get("id") not in keep:
            root.remove(child)
    for name in _ROOT_STAMPS:
        root.attrib.pop(name, None)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if etree.QName(el).localname in _CONTAINERS:
            _sort_flow_elements(el)
        _sort_references(el)
    try:
        return _c14n(root, _QNAME_ATTRS)
    except ValueError:
        # a QName value whose prefix is not declared: compare that value as written (two
        # documents differing only there count as different, which is the safe side)
        return _c14n(root, ())


def _c14n(root: etree._Element, qname_attrs: tuple[str, ...]) -> bytes:
    text = etree.canonicalize(
        root,
        with_comments=False,
        strip_text=True,
        rewrite_prefixes=True,
        qname_aware_attrs=qname_attrs,
        exclude_tags=[f"{{{BPMNDI_NS}}}BPMNDiagram"],
        exclude_attrs=[f"{{{XSI_NS}}}schemaLocation"],
    )
    return text.encode("utf-8")


def semantic_digest(root: etree._Element, key: str) -> str:
    """SHA-256 (hex) of :func:`canonical_process`: equal digests, same process."""
    return hashlib.sha256(canonical_process(root, key)).hexdigest()
