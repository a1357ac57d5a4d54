"""The bundled diagrams and forms: valid, complete, and consistent with each other."""

import pytest
from click.testing import CliRunner
from lxml import etree

from engine.expressions import Evaluator
from engine.validation import validate_file
from tests.conftest import ROOT
from workflows.cases.enums import CaseStatus
from workflows.cases.type_files import check_diagrams
from workflows.cases.types import BUILTIN
from workflows.forms import FormRegistry
from workflows.hotline import expression_functions

BPMN = sorted((ROOT / "bpmn").glob("*.bpmn"))
FORMS = FormRegistry(ROOT / "forms")
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


def test_every_case_type_has_a_diagram_and_every_diagram_a_case_type():
    check_diagrams(BUILTIN, ROOT / "bpmn")
    assert {p.stem for p in BPMN} == {t.process for t in BUILTIN}


def test_hotline_validate_accepts_every_bundled_diagram():
    from webapp.cli import cli

    result = CliRunner().invoke(cli, ["validate", *[str(p) for p in BPMN]], prog_name="hotline")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_every_form_loads():
    assert FORMS.check_all() == []


@pytest.mark.parametrize("path", BPMN, ids=lambda p: p.stem)
def test_diagram_properties_name_real_things(path, clock):
    result = validate_file(
        str(path), form_exists=FORMS.exists, evaluator=Evaluator(expression_functions(clock))
    )
    assert result.ok, [str(i) for i in result.issues]
    tree = etree.parse(str(path))
    statuses = {s.value for s in CaseStatus}
    lanes = {lane.get("name") for lane in tree.iterfind(".//bpmn:lane", NS)}
    assert lanes == {"operator", "dispatcher", "handler", "supervisor"}
    for prop in tree.iterfind(".//spiffworkflow:property", NS):
        name, value = prop.get("name"), prop.get("value")
        if name == "status":
            assert value in statuses, value
        elif name == "effect":
            assert value in {"sign_overdue", "warn", "overdue"}, value
        elif name == "outcome":
            assert value in {"answered", "not_accepted", "handled"}, value
    for task in tree.iterfind(".//bpmn:userTask", NS):
        keys = {p.get("name") for p in task.iterfind(".//spiffworkflow:property", NS)}
        assert "formKey" in keys, task.get("id")


def test_no_deadline_is_hard_coded_in_a_diagram():
    """Timers read deadlines computed from the policy table, never literal durations."""
    for path in BPMN:
        tree = etree.parse(str(path))
        for tag in ("timeDuration", "timeDate", "timeCycle"):
            for node in tree.iterfind(f".//bpmn:{tag}", NS):
                assert node.text.strip() in {"sign_due", "warn_at", "reply_due"}, (path, node.text)
