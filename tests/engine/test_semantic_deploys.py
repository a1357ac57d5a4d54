"""A deploy is a new version only when the process changed: moved shapes, reformatting,
attribute order, namespace prefixes and comments are not versions; a changed condition, name,
property, timer or lane is."""

import re

import pytest
from lxml import etree
from sqlalchemy import select

from engine.canonical import canonical_process, semantic_digest
from engine.models import Definition

from .conftest import fixture_bytes

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
DI = """
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="lifecycle">
      <bpmndi:BPMNShape id="intake_di" bpmnElement="intake"><dc:Bounds x="100" y="80" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="reply_di" bpmnElement="reply"><dc:Bounds x="300" y="80" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f5_di" bpmnElement="f5"><di:waypoint x="200" y="120"/><di:waypoint x="300" y="120"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
"""


def base() -> str:
    """The lifecycle fixture as a modeler saves it: with a diagram and typed conditions."""
    text = fixture_bytes("lifecycle.bpmn").decode()
    text = text.replace(
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"',
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        f'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" {XSI}',
    )
    text = text.replace(
        "<bpmn:conditionExpression>",
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">',
    )
    return text.replace("</bpmn:definitions>", DI + "</bpmn:definitions>")


def moved(text: str) -> str:
    return re.sub(r'(x|y)="(\d+)"', lambda m: f'{m[1]}="{int(m[2]) + 47}"', text)


def reordered(text: str) -> str:
    root = etree.fromstring(text.encode())
    for el in root.iter():
        if isinstance(el.tag, str) and len(el.attrib) > 1:
            items = list(el.attrib.items())
            el.attrib.clear()
            for name, value in reversed(items):
                el.set(name, value)
    return etree.tostring(root, encoding="unicode")


def other_prefix(text: str) -> str:
    return text.replace("bpmn:", "bpmn2:").replace("xmlns:bpmn=", "xmlns:bpmn2=")


def default_namespace(text: str) -> str:
    uri = "http://www.omg.org/spec/BPMN/20100524/MODEL"
    text = text.replace("<bpmn:", "<").replace("</bpmn:", "</")
    return text.replace(f'xmlns:bpmn="{uri}"', f'xmlns="{uri}" xmlns:bpmn="{uri}"')


def reformatted(text: str) -> str:
    parser = etree.XMLParser(remove_blank_text=True)
    root = etree.fromstring(text.encode(), parser)
    etree.indent(root, space="\t")
    return "<?xml version='1.0' encoding='utf-8'?>\n" + etree.tostring(root, encoding="unicode")


def swap_lines(text: str, first: str, second: str) -> str:
    lines = text.splitlines()
    i = next(n for n, line in enumerate(lines) if first in line)
    j = next(n for n, line in enumerate(lines) if second in line)
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def dragged(text: str) -> str:
    """What bpmn-js saves after a task is dragged: the task last in its process and lane, its
    flow references in another order."""
    root = etree.fromstring(text.encode())
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    process = root.find("bpmn:process", ns)
    reply = process.find("bpmn:userTask[@id='reply']", ns)
    process.remove(reply)
    process.append(reply)
    refs = reply.findall("bpmn:incoming", ns)
    refs[0].addprevious(refs[1])
    lane = process.find(".//bpmn:lane[@id='lane_handler']", ns)
    first = lane.find("bpmn:flowNodeRef", ns)
    lane.remove(first)
    lane.append(first)
    return moved(etree.tostring(root, encoding="unicode"))


def commented(text: str) -> str:
    return text.replace("<bpmn:userTask", "<!-- a note --><bpmn:userTask").replace(
        "not accepted</", "  not accepted\n  </"
    )


def stamped(text: str) -> str:
    return text.replace('id="Defs_lifecycle"', 'id="Definitions_0x9" exporter="bpmn-js"')


SAME = {
    "moved shapes": moved,
    "a task dragged in a modeler": dragged,
    "reordered attributes": reordered,
    "bpmn2: prefix": other_prefix,
    "default namespace": default_namespace,
    "reformatted": reformatted,
    "comments and blanks": commented,
    "another exporter": stamped,
    "all of them": lambda t: reformatted(other_prefix(reordered(dragged(commented(t))))),
    "flows in another order, each source's in theirs": lambda t: swap_lines(
        t, 'id="f5"', 'id="f6"'
    ),
}

CHANGED = {
    "condition": lambda t: t.replace('rating == "unsatisfied"', 'rating != "satisfied"'),
    "name": lambda t: t.replace('name="Reply"', 'name="Reply to the citizen"'),
    "property": lambda t: t.replace('value="test/reply"', 'value="test/work"'),
    "timer": lambda t: t.replace("hours(sign_hours)", "hours(sign_hours + 1)"),
    "lane": lambda t: t.replace("<bpmn:flowNodeRef>reply</bpmn:flowNodeRef>", "").replace(
        "<bpmn:flowNodeRef>end</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>end</bpmn:flowNodeRef><bpmn:flowNodeRef>reply</bpmn:flowNodeRef>",
    ),
    "script": lambda t: t.replace("escalations += 1", "escalations += 2"),
    "order of a gateway's flows": lambda t: swap_lines(t, 'id="f3"', 'id="f4"'),
}


def digest(text: str) -> str:
    return semantic_digest(etree.fromstring(text.encode()), "lifecycle")


@pytest.mark.parametrize("variant", SAME)
def test_layout_and_formatting_keep_the_digest(variant):
    text = base()
    other = SAME[variant](text)
    assert other != text
    assert digest(other) == digest(text), canonical_process(
        etree.fromstring(other.encode()), "lifecycle"
    )


@pytest.mark.parametrize("change", CHANGED)
def test_a_change_to_the_process_changes_the_digest(change):
    text = base()
    other = CHANGED[change](text)
    assert other != text
    assert digest(other) != digest(text)
    # also when the changed file was laid out and prefixed differently
    assert digest(other_prefix(moved(other))) != digest(text)


def test_the_diagram_and_stamps_are_not_in_the_canonical_form():
    form = canonical_process(etree.fromstring(base().encode()), "lifecycle").decode()
    assert "BPMNShape" not in form and "Bounds" not in form and "Defs_lifecycle" not in form
    assert 'rating == "unsatisfied"' in form


def test_another_process_in_the_same_document_does_not_count_unless_called():
    two = base().replace(
        "</bpmn:process>",
        '</bpmn:process><bpmn:process id="other" isExecutable="true">'
        '<bpmn:startEvent id="o_start"/></bpmn:process>',
        1,
    )
    changed_other = two.replace('id="o_start"', 'id="o_start" name="Begin"')
    assert digest(two) == digest(changed_other)
    calling = two.replace(
        '<bpmn:endEvent id="end" name="Closed">',
        '<bpmn:callActivity id="call" calledElement="other"/><bpmn:endEvent id="end" name="Closed">',
    )
    assert digest(calling) != digest(calling.replace('id="o_start"', 'id="o_start" name="Begin"'))


def _deploy(runtime, session, text: str, **kwargs):
    return runtime.deploy(
        session, text.encode(), "lifecycle.bpmn", deployed_by="designer", **kwargs
    )


def test_a_deploy_of_the_same_process_is_a_noop_that_says_so(runtime, session):
    first = _deploy(runtime, session, base(), comment="first cut")
    assert [(o.version, o.created) for o in first] == [(1, True)]
    for variant in SAME.values():
        again = _deploy(runtime, session, variant(base()), comment="only moved things")
        assert [(o.version, o.created, o.identical) for o in again] == [(1, False, False)]
        assert "the same process as version 1" in again[0].describe()
    identical = _deploy(runtime, session, base())
    assert identical[0].identical and "identical to version 1" in identical[0].describe()
    rows = session.scalars(select(Definition)).all()
    assert [(r.version, r.comment) for r in rows] == [(1, "first cut")]
    assert rows[0].semantic_digest == digest(base())


def test_a_changed_process_is_a_new_version_with_its_comment(runtime, session):
    _deploy(runtime, session, base(), comment="first cut")
    out = _deploy(
        runtime, session, moved(CHANGED["condition"](base())), comment="  reopen when unhappy \x07"
    )
    assert [(o.version, o.created) for o in out] == [(2, True)]
    row = session.scalars(select(Definition).where(Definition.version == 2)).one()
    assert row.comment == "reopen when unhappy"
    assert row.semantic_digest == digest(CHANGED["condition"](base()))


def test_rows_stored_without_a_digest_are_compared_by_their_xml(runtime, session):
    _deploy(runtime, session, base())
    row = session.scalars(select(Definition)).one()
    row.semantic_digest = None
    session.commit()
    again = _deploy(runtime, session, moved(base()))
    assert [(o.version, o.created) for o in again] == [(1, False)]


def test_a_guard_may_keep_the_latest_version(runtime, session):
    _deploy(runtime, session, base())
    seen = []

    def guard(latest, digest_):
        seen.append((latest.version, digest_))
        return "kept for the test"

    # a layout-only change never reaches the guard; a real change is refused by it
    assert not _deploy(runtime, session, moved(base()), guard=guard)[0].skipped
    assert seen == []
    out = _deploy(runtime, session, CHANGED["name"](base()), guard=guard)
    assert [(o.version, o.created, o.skipped) for o in out] == [(1, False, "kept for the test")]
    assert out[0].describe() == "skipped lifecycle: kept for the test"
    assert seen == [(1, digest(CHANGED["name"](base())))]
