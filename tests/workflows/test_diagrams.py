"""The bundled diagrams and forms: valid, complete, and consistent with each other."""

import re

import pytest
from click.testing import CliRunner
from lxml import etree

from engine.expressions import Evaluator
from engine.validation import validate_file
from tests.conftest import ROOT
from workflows.cases.enums import CaseStatus, Outcome
from workflows.cases.type_files import check_diagrams
from workflows.cases.types import BUILTIN
from workflows.forms import FormRegistry
from workflows.hotline import expression_functions
from workflows.policy.models import DeadlinePolicy
from workflows.policy.service import policy_data
from workflows.users.models import Role

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
    # every lane is a role's: the inbox routes a task to the role its lane names
    assert lanes <= {str(r) for r in Role} and {"operator", "dispatcher", "handler"} <= lanes
    for prop in tree.iterfind(".//spiffworkflow:property", NS):
        name, value = prop.get("name"), prop.get("value")
        if name == "status":
            assert value in statuses, value
        elif name == "effect":
            assert value in {"sign_overdue", "warn", "overdue", "task_warn", "task_overdue"}
        elif name == "clock":
            assert value in policy_data_keys(), value
        elif name == "outcome":
            # every way a diagram ends (merged is the master's, never an end event's)
            assert value in set(Outcome) - {Outcome.MERGED}, value
    for task in tree.iterfind(".//bpmn:userTask", NS):
        keys = {p.get("name") for p in task.iterfind(".//spiffworkflow:property", NS)}
        assert "formKey" in keys, task.get("id")


def policy_data_keys() -> set[str]:
    """The limits a case's ``policy`` process data holds (what timers may read)."""
    row = DeadlinePolicy(**BUILTIN.policy_rows()[0])
    return {k for k, v in policy_data(row).items() if isinstance(v, dict) and "unit" in v}


def test_no_deadline_is_hard_coded_in_a_diagram():
    """Timers read deadlines computed from the policy table, never literal durations: a
    variable a script computed from it, or an expression over ``policy[...]`` limits."""
    limits = policy_data_keys()
    for path in BPMN:
        tree = etree.parse(str(path))
        for tag in ("timeDuration", "timeDate", "timeCycle"):
            for node in tree.iterfind(f".//bpmn:{tag}", NS):
                text = node.text.strip()
                if re.fullmatch(r"[a-z_]+", text):
                    continue  # a deadline variable (sign_due, warn_at, reply_due, ...)
                assert not re.search(r"['\"]P[T0-9]|\d+\s*\)", text), (path, text)
                used = set(re.findall(r"policy\['([a-z_]+)'\]", text))
                assert used and used - {"warn_share"} <= limits, (path, text)
