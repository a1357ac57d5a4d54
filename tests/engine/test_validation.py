"""Validation: every bad file gets located, readable errors, and nothing is executed."""

import re

import pytest

from engine.validation import validate_bytes, validate_file
from tests.conftest import CORPUS

from .conftest import fixture_bytes

LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<element>\S+): (?P<message>.+)$")
CORPUS_FILES = sorted(CORPUS.glob("*.bpmn"))


def lines(result) -> list[str]:
    return [str(issue) for issue in result.issues]


def test_corpus_is_present():
    assert len(CORPUS_FILES) == 21


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_files_get_located_answers(path):
    result = validate_file(str(path), form_exists=lambda key: True)
    # These are descriptive models drawn by other tools: none is deployable as drawn here,
    # and every answer names the file, a line and an element.
    assert not result.ok
    for line in lines(result):
        match = LOCATED.match(line)
        assert match, line
        assert match["file"] == str(path)
        assert int(match["line"]) > 0, line


def test_non_executable_corpus_files_say_why():
    result = validate_file(str(CORPUS / "A.1.0.bpmn"))
    assert "not executable" in lines(result)[0]
    assert ":3: WFP-6-:" in lines(result)[0]


def test_corpus_data_store_is_named():
    result = validate_file(str(CORPUS / "C.1.1.bpmn"))
    assert "data store 'Financial Accounting System' has no implementation" in lines(result)[0]


def test_a_good_file_passes():
    result = validate_bytes(
        fixture_bytes("lifecycle.bpmn"), "lifecycle.bpmn", form_exists=lambda key: True
    )
    assert result.ok, lines(result)
    assert set(result.processes) == {"lifecycle"}
    tasks = result.processes["lifecycle"].user_tasks
    assert tasks["sign_for"].form_key == "test/sign_for"
    assert tasks["sign_for"].lane == "handler"


def test_missing_form_is_located():
    result = validate_bytes(
        fixture_bytes("lifecycle.bpmn"),
        "lifecycle.bpmn",
        form_exists=lambda key: key != "test/reply",
    )
    assert len(result.issues) == 1
    assert re.match(
        r"lifecycle.bpmn:\d+: reply: form 'test/reply' does not exist", lines(result)[0]
    )


def _process(body: str, extra_ns: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" {extra_ns}
    id="d" targetNamespace="http://x">
  <bpmn:process id="p" isExecutable="true">
{body}
  </bpmn:process>
</bpmn:definitions>
""".encode()


START_END = """
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="g" default="f3"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="e1"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="e2"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g"/>
    <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e1">
      <bpmn:conditionExpression>{cond}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="e2"/>
"""


@pytest.mark.parametrize(
    ("cond", "message"),
    [
        ("__import__('os').system('id')", "function '__import__' is not allowed"),
        ("().__class__.__base__.__subclasses__()", "attribute '__subclasses__' is not allowed"),
        ("open('/etc/passwd').read()", "function 'open' is not allowed"),
        ("a ==", "does not parse"),
    ],
)
def test_bad_conditions_are_refused_at_deploy_time(cond, message):
    result = validate_bytes(_process(START_END.format(cond=cond.replace("'", "&apos;"))), "c.bpmn")
    assert len(result.issues) == 1
    issue = result.issues[0]
    assert issue.element == "f2" and issue.line == 12
    assert message in issue.message


TIMER = """
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:{tag}>{value}</bpmn:{tag}></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="e"/>
"""


@pytest.mark.parametrize(
    ("tag", "value", "ok"),
    [
        ("timeDuration", "PT2H", True),
        ("timeDuration", "P3D", True),
        ("timeDuration", "hours(2)", True),
        ("timeDuration", "PT2X", False),
        ("timeDuration", "P1W2D", False),
        ("timeDate", "2026-10-09T18:00:00+08:00", True),
        ("timeDate", "2026-13-09T18:00:00", False),
        ("timeCycle", "R3/PT1H", True),
        ("timeCycle", "R3/PT0S", False),
        ("timeDuration", "hours(", False),
        ("timeDuration", "__import__('os')", False),
    ],
)
def test_timer_values_are_checked(tag, value, ok):
    result = validate_bytes(
        _process(TIMER.format(tag=tag, value=value.replace("'", "&apos;"))), "t.bpmn"
    )
    assert result.ok is ok, lines(result)
    if not ok:
        assert result.issues[0].element == "wait"
        assert f"timer {tag}" in result.issues[0].message


def test_script_with_import_is_refused():
    body = """
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="evil"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>import os
os.system('id')</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="evil"/>
    <bpmn:sequenceFlow id="f2" sourceRef="evil" targetRef="e"/>"""
    result = validate_bytes(_process(body), "s.bpmn")
    assert [i.element for i in result.issues] == ["evil"]
    assert "Import statement is not allowed" in result.issues[0].message


def test_structural_errors_are_located():
    body = """
    <bpmn:userTask id="u"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
    <bpmn:complexGateway id="cx"/>
    <bpmn:sequenceFlow id="f1" sourceRef="u" targetRef="nowhere"/>"""
    result = validate_bytes(_process(body), "x.bpmn")
    messages = {(i.element, i.message.split(":")[0]) for i in result.issues}
    assert ("cx", "<complexGateway> is not supported by this engine") in messages
    assert any(
        e == "f1" and "names no element" in m
        for e, m in [(i.element, i.message) for i in result.issues]
    )
    assert any(
        e == "p" and "no start event" in m
        for e, m in [(i.element, i.message) for i in result.issues]
    )


def test_gateway_flow_without_condition_is_reported():
    body = START_END.format(cond="x").replace(' default="f3"', "")
    result = validate_bytes(_process(body), "g.bpmn")
    assert [i.element for i in result.issues] == ["f3"]
    assert "no condition and is not its default flow" in result.issues[0].message


def test_unregistered_service_is_reported():
    result = validate_bytes(fixture_bytes("timers.bpmn"), "timers.bpmn", services=["other"])
    assert [i.element for i in result.issues] == ["notify"]
    assert "service 'notify_supervisor' is not registered" in result.issues[0].message


def test_property_checks_refuse_a_value_on_its_own_line():
    """The engine gives properties no meaning; a caller's check refuses a value, located on
    the line of the property, and properties it does not check pass."""
    xml = fixture_bytes("lifecycle.bpmn").replace(
        b'value="test/sign_for"/>',
        b'value="test/sign_for"/>\n<spiffworkflow:property name="colour" value="plaid"/>',
    )
    line = next(n for n, text in enumerate(xml.decode().splitlines(), 1) if 'name="colour"' in text)
    checks = {
        "colour": lambda value: None if value in ("red", "blue") else f"{value!r} is no colour"
    }
    result = validate_bytes(xml, "c.bpmn", property_checks=checks)
    assert lines(result) == [f"c.bpmn:{line}: sign_for: property 'colour': 'plaid' is no colour"]
    assert validate_bytes(xml, "c.bpmn").ok  # nobody checks colours
    fine = xml.replace(b'value="plaid"', b'value="red"')
    assert validate_bytes(fine, "c.bpmn", property_checks=checks).ok


# -- hostile files --------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" name="&lol9;"/>
</bpmn:definitions>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" name="&xxe;"/>
</bpmn:definitions>
"""


def test_billion_laughs_is_refused_without_expansion():
    result = validate_bytes(BILLION_LAUGHS, "bomb.bpmn")
    assert len(result.issues) == 1
    assert "DOCTYPE declarations are not allowed" in result.issues[0].message


def test_external_entity_is_refused_and_nothing_is_read():
    result = validate_bytes(XXE, "xxe.bpmn")
    assert len(result.issues) == 1
    assert "not allowed" in result.issues[0].message
    assert "root:" not in str(result.issues[0])


def test_a_50_mb_file_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.bpmn"
    with big.open("wb") as fh:
        fh.write(b"<?xml version='1.0'?><definitions>")
        fh.seek(50 * 1024 * 1024)
        fh.write(b"</definitions>")
    result = validate_file(str(big))
    assert "larger than the 5.0 MB limit" in result.issues[0].message
    assert str(result.issues[0]).startswith(f"{big}:0: -: file is 50.0 MB")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "malformed XML"),
        (b"<a><b></a>", "malformed XML"),
        (b"<html><body/></html>", "not a BPMN 2.0 file"),
        (b'<?xml version="1.0" encoding="nonsense"?><a/>', "malformed XML"),
    ],
)
def test_garbage_gets_a_message(data, message):
    result = validate_bytes(data, "junk.bpmn")
    assert len(result.issues) == 1
    assert message in result.issues[0].message
    assert LOCATED.match(str(result.issues[0]))


def test_missing_file_is_reported(tmp_path):
    result = validate_file(str(tmp_path / "nope.bpmn"))
    assert "cannot read file" in result.issues[0].message


def test_an_element_no_flow_leads_to_is_located():
    # Drawn but never connected: the parser would skip it silently (its missing form too).
    body = """
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="e"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="e"/>
    <bpmn:userTask id="forgotten"/>
    <bpmn:subProcess id="on_event" triggeredByEvent="true">
      <bpmn:startEvent id="es"><bpmn:outgoing>f2</bpmn:outgoing></bpmn:startEvent>
      <bpmn:endEvent id="ee"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="f2" sourceRef="es" targetRef="ee"/>
    </bpmn:subProcess>"""
    result = validate_bytes(_process(body), "x.bpmn", form_exists=lambda key: True)
    assert [(i.element, i.message) for i in result.issues] == [
        (
            "forgotten",
            "<userTask> has no incoming sequence flow, so it can never run: connect it to the "
            "flow or delete it",
        )
    ]
