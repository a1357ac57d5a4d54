"""The bundled diagrams as another designer might have drawn them, for tests that check the
hotline keys on what tasks say they are (their ``step``), never on ids or names."""

from __future__ import annotations

import re

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
#: attributes that name another element by its id
REFERENCE_ATTRIBUTES = (
    "sourceRef",
    "targetRef",
    "attachedToRef",
    "default",
    "bpmnElement",
    "signalRef",
)
#: elements whose text is another element's id
REFERENCE_TEXTS = ("incoming", "outgoing", "flowNodeRef")
#: elements whose names mean something besides a label: a lane's name is the role it is for,
#: a signal's the name the hotline sends it by (a supervision order)
KEEP_NAMES = ("lane", "participant", "signal")


def renamed(xml: bytes, prefix: str = "n") -> tuple[bytes, dict[str, str]]:
    """``xml`` with every element id but the processes' renamed (``n000``, ``n001``...),
    every reference to them following, and every element's name (but the lanes', which are
    roles) replaced by its new id.
    Returns the document and the old id -> new id mapping."""
    root = etree.fromstring(xml)
    keep = {p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")} | {root.get("id")}
    # a multi-instance item's id is the variable its instances read (SpiffWorkflow's
    # TaskDataReference), like the process variables the scripts name: not a drawing's id
    for tag in ("inputDataItem", "outputDataItem"):
        keep |= {el.get("id") for el in root.iter(f"{{{BPMN_NS}}}{tag}")}
    elements = [el for el in root.iter() if isinstance(el.tag, str) and el.get("id")]
    mapping = {
        el.get("id"): f"{prefix}{i:03d}"
        for i, el in enumerate(e for e in elements if e.get("id") not in keep)
    }
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        old = el.get("id")
        if old in mapping:
            el.set("id", mapping[old])
            qname = etree.QName(el)
            named = el.get("name") is not None
            if named and qname.namespace == BPMN_NS and qname.localname not in KEEP_NAMES:
                el.set("name", mapping[old])
        for attribute in REFERENCE_ATTRIBUTES:
            if el.get(attribute) in mapping:
                el.set(attribute, mapping[el.get(attribute)])
        if etree.QName(el).localname in REFERENCE_TEXTS and (el.text or "").strip() in mapping:
            el.text = mapping[el.text.strip()]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), mapping


def without_steps(xml: bytes, step: str = r"[^\"]*") -> bytes:
    """``xml`` as deployed before user tasks named their steps (or without one ``step``)."""
    pattern = rf'\s*<spiffworkflow:property name="step" value="{step}"\s*/>'.encode()
    found = re.subn(pattern, b"", xml)
    assert found[1], step
    return found[0]


def with_step(xml: bytes, old: str, new: str) -> bytes:
    """``xml`` with the tasks of step ``old`` naming step ``new`` instead."""
    pattern = rf'<spiffworkflow:property name="step" value="{old}"\s*/>'.encode()
    found = re.subn(pattern, f'<spiffworkflow:property name="step" value="{new}"/>'.encode(), xml)
    assert found[1], old
    return found[0]
