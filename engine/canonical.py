"""The canonical form of one process in a BPMN document, so that a deploy can tell a real change
from a file that was only laid out, reformatted or saved by another tool.

Two documents whose process ``key`` has the same canonical form run the same way: the form drops
the diagram (``bpmndi:BPMNDiagram``: shapes, edges, labels, colours), comments, whitespace
around text, the order of attributes, the names of namespace prefixes (``bpmn:`` or ``bpmn2:``
or a default namespace; also inside QName values such as ``xsi:type="bpmn:tFormalExpression"``)
and the exporter's stamp on the root element. Everything else counts: ids, names, conditions,
scripts, timers, properties, lanes, documentation, and the order of elements (the order of a
gateway's outgoing flows decides which true condition wins).

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


def canonical_process(root: etree._Element, key: str) -> bytes:
    """The canonical text of process ``key`` in the document whose root element is ``root``."""
    root = copy.deepcopy(root)
    keep = _called_closure(root, key)
    for child in list(root):
        if child.tag == _bpmn("process") and child.get("id") not in keep:
            root.remove(child)
    for name in _ROOT_STAMPS:
        root.attrib.pop(name, None)
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
