"""Every BPMN diagram of the project imports into bpmn-js (the viewer the web pages use)
without a warning, and every element a person should see is drawn.

bpmn-js reports some problems as import warnings (unknown BPMN elements or attributes,
references to missing ids, DI for missing elements, illegal ids) but draws nothing and says
nothing for an element that has no DI: a lane, a task or a sequence flow without a
BPMNShape/BPMNEdge simply vanishes. So besides the warnings this checks the element registry
against the file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
WITH_DI = Path(__file__).resolve().parent / "fixtures" / "with_di.bpmn"
DIAGRAMS = [*sorted((ROOT / "bpmn").glob("*.bpmn")), WITH_DI]

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"

# BPMN elements that bpmn-js draws as a shape or a connection when the file has DI for them.
DRAWN = {
    # flow nodes
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "task", "userTask", "manualTask", "serviceTask", "scriptTask",
    "businessRuleTask", "sendTask", "receiveTask", "callActivity", "subProcess",
    "transaction", "adHocSubProcess", "exclusiveGateway", "inclusiveGateway",
    "parallelGateway", "eventBasedGateway", "complexGateway",
    "dataObjectReference", "dataStoreReference",
    # connections
    "sequenceFlow", "messageFlow", "association", "dataInputAssociation",
    "dataOutputAssociation",
    # pools, lanes, artifacts
    "participant", "lane", "textAnnotation", "group",
}  # fmt: skip


def drawable_ids(xml: str) -> dict[str, str]:
    """id -> BPMN element name, for every element of the file bpmn-js should draw."""
    found = {}
    for element in ET.fromstring(xml.encode()).iter():
        if not isinstance(element.tag, str) or not element.tag.startswith(BPMN):
            continue
        name = element.tag[len(BPMN) :]
        if name in DRAWN and element.get("id"):
            found[element.get("id")] = name
    return found


def problems(xml: str, result: dict) -> list[str]:
    """Everything wrong with one import: error, warnings, elements not drawn."""
    out = []
    if result["error"]:
        out.append(f"import failed: {result['error']}")
    out += [f"warning: {w['message']}" for w in result["warnings"]]
    if not result["error"]:
        drawn = {e["id"] for e in result["elements"]}
        out += [
            f"not drawn (no DI?): {name} {id_}"
            for id_, name in sorted(drawable_ids(xml).items())
            if id_ not in drawn
        ]
    return out


@pytest.fixture
def bpmn_viewer(page: Page, static_server) -> Page:
    """tests/browser/pages/import.html, loaded: call import_xml(bpmn_viewer, xml)."""
    page.goto(f"{static_server.url}/_pages/import.html")
    page.wait_for_function("window.bpmnReady === true")
    return page


def import_xml(page: Page, xml: str) -> dict:
    return page.evaluate("xml => window.importDiagram(xml)", xml)


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_diagram_imports_cleanly(bpmn_viewer: Page, console_errors: list[str], path: Path):
    xml = path.read_text(encoding="utf-8")
    result = import_xml(bpmn_viewer, xml)

    assert result["error"] is None
    assert result["warnings"] == []
    assert problems(xml, result) == []
    assert drawable_ids(xml), "no BPMN elements found in the file"
    assert console_errors == []


# --------------------------------------------------------------------------- the check can fail

BASE = WITH_DI.read_text(encoding="utf-8")


def mutate(old: str, new: str) -> str:
    assert BASE.count(old) == 1, f"{old!r} is not unique in {WITH_DI.name}"
    return BASE.replace(old, new)


def without(fragment_start: str, fragment_end: str) -> str:
    """with_di.bpmn without the (unique) text from fragment_start through fragment_end."""
    start = BASE.index(fragment_start)
    end = BASE.index(fragment_end, start) + len(fragment_end)
    assert BASE.count(fragment_start) == 1
    return BASE[:start] + BASE[end:]


# Each broken variant of with_di.bpmn, and a text that must appear in what the check reports.
BROKEN = {
    "di-edge-references-missing-flow": (
        mutate('bpmnElement="flow_start_to_intake"', 'bpmnElement="flow_missing"'),
        "warning: unresolved reference <flow_missing>",
    ),
    "unknown-bpmn-element": (
        mutate(
            "<bpmn:incoming>flow_accepted</bpmn:incoming>",
            "<bpmn:incoming>flow_accepted</bpmn:incoming><bpmn:formKey>x</bpmn:formKey>",
        ),
        "unknown type <bpmn:FormKey>",
    ),
    "unknown-attribute-without-namespace": (
        mutate(
            '<bpmn:userTask id="handle" name="Handle">',
            '<bpmn:userTask id="handle" name="Handle" formKey="x">',
        ),
        "warning: unknown attribute <formKey>",
    ),
    "extension-outside-extensionElements": (
        mutate(
            '<bpmn:userTask id="handle" name="Handle">',
            '<bpmn:userTask id="handle" name="Handle"><spiffworkflow:properties>'
            '<spiffworkflow:property name="formKey" value="x" /></spiffworkflow:properties>',
        ),
        "unrecognized element <spiffworkflow:properties>",
    ),
    "boundary-host-without-di": (
        without('<bpmndi:BPMNShape id="handle_di"', "</bpmndi:BPMNShape>"),
        'referenced by <bpmn:BoundaryEvent id="handle_late" />#attachedToRef not yet drawn',
    ),
    "lane-without-di": (  # no warning from bpmn-js: only the registry check sees it
        without('<bpmndi:BPMNShape id="Lane_handler_di"', "</bpmndi:BPMNShape>"),
        "not drawn (no DI?): lane Lane_handler",
    ),
    "illegal-id": (  # ids must be ASCII: [A-Za-z_][\w.:-]*
        BASE.replace('"end_done"', '"办结"').replace(">end_done<", ">办结<"),
        "warning: unparsable content <bpmn:endEvent> detected",
    ),
    "no-di-at-all": (
        without("<bpmndi:BPMNDiagram", "</bpmndi:BPMNDiagram>"),
        "import failed: no diagram to display",
    ),
}


@pytest.mark.parametrize("xml, expected", BROKEN.values(), ids=BROKEN.keys())
def test_broken_diagram_is_reported(bpmn_viewer: Page, xml: str, expected: str):
    result = import_xml(bpmn_viewer, xml)
    found = problems(xml, result)

    assert any(expected in line for line in found), found


def test_warnings_are_read_from_bpmn_js(bpmn_viewer: Page):
    """The page hands back bpmn-js's own warnings (not just a count)."""
    xml = BROKEN["di-edge-references-missing-flow"][0]
    result = import_xml(bpmn_viewer, xml)

    assert result["error"] is None
    assert len(result["warnings"]) >= 1
    assert result["warnings"][0]["message"] == "unresolved reference <flow_missing>"
    # the flow itself is still imported, it has just lost its edge
    assert "flow_start_to_intake" not in {e["id"] for e in result["elements"]}
