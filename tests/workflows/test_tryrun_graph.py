"""The try run's reading of a draft (workflows/tryrun/graph.py): what no path reaches, and
the user tasks no user may do, before anything runs."""

from __future__ import annotations

from pathlib import Path

from workflows.tryrun.graph import Person, literal_group, read_diagram, tasks_nobody_may_do

BPMN = Path(__file__).resolve().parents[2] / "bpmn"

HEAD = (
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d">'
    '<bpmn:process id="p" isExecutable="true">'
)
TAIL = "</bpmn:process></bpmn:definitions>"


def diagram(body: str):
    return read_diagram((HEAD + body + TAIL).encode())


def test_the_bundled_diagrams_have_no_unreachable_element():
    for path in sorted(BPMN.glob("*.bpmn")):
        found = read_diagram(path.read_bytes())
        assert found.unreachable == [], path.name
        assert found.processes == [path.stem]


def test_boundary_events_and_event_sub_processes_are_reached_through_their_container():
    found = diagram(
        '<bpmn:startEvent id="s"/><bpmn:userTask id="t"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>'
        '<bpmn:boundaryEvent id="late" attachedToRef="t"/><bpmn:endEvent id="late_end"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="late_end"/>'
        '<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="es"/>'
        '<bpmn:endEvent id="ee"/><bpmn:sequenceFlow id="f4" sourceRef="es" targetRef="ee"/>'
        "</bpmn:subProcess>"
        '<bpmn:userTask id="island_a"/><bpmn:userTask id="island_b"/>'
        '<bpmn:sequenceFlow id="f5" sourceRef="island_a" targetRef="island_b"/>'
        '<bpmn:sequenceFlow id="f6" sourceRef="island_b" targetRef="island_a"/>'
    )
    assert found.unreachable == ["island_a", "island_b"]
    assert {"late", "late_end", "esp", "es", "ee"} <= set(found.elements)


def test_tasks_for_a_role_or_a_department_nobody_has():
    found = diagram(
        '<bpmn:laneSet><bpmn:lane id="L1" name="mayor"><bpmn:flowNodeRef>a</bpmn:flowNodeRef>'
        '</bpmn:lane><bpmn:lane id="L2" name="handler"><bpmn:flowNodeRef>b</bpmn:flowNodeRef>'
        "<bpmn:flowNodeRef>c</bpmn:flowNodeRef><bpmn:flowNodeRef>d</bpmn:flowNodeRef>"
        "</bpmn:lane></bpmn:laneSet>"
        '<bpmn:startEvent id="s"/><bpmn:userTask id="a"/>'
        + "".join(
            f'<bpmn:userTask id="{i}"><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="candidateGroups" value="{g}"/>'
            "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
            for i, g in (("b", "&quot;B-UM&quot;"), ("c", "&quot;B-XX&quot;"), ("d", "lead"))
        )
    )
    people = [Person("handler", "B-UM"), Person("dispatcher", "B-XX")]
    nobody = {(n.element, n.reason, n.value) for n in tasks_nobody_may_do(found, people)}
    # c: B-XX has a dispatcher, not a handler; d's group is computed (the run checks it)
    assert nobody == {("a", "role", "mayor"), ("c", "group", "B-XX")}


def test_only_a_literal_names_a_group():
    assert literal_group('"B-UM"') == "B-UM"
    assert literal_group("lead_department") is None
    assert literal_group("'a' + 'b'") is None
    assert literal_group("[1") is None
