"""Steps come from the diagram: a diagram drawn with other element ids (and names) gets the
hotline's rules, by what its user tasks say they are; a step the hotline does not know is
refused before anything is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import DefinitionInvalid
from engine.models import HumanTask
from tests.conftest import ROOT
from tests.diagrams import renamed, with_step, without_steps
from workflows.cases import flows
from workflows.cases.steps import Step
from workflows.errors import FormInvalid
from workflows.simulation import Rates, Simulation

COMPLAINT = ROOT / "bpmn" / "complaint.bpmn"


def deploy(city, xml: bytes, name: str = "complaint.bpmn"):
    return city.hotline.runtime.deploy(
        city.session, xml, name, deployed_by="tests", form_exists=city.hotline.forms.exists
    )


@pytest.fixture
def ids(city) -> dict[str, str]:
    """The complaint diagram redrawn with other ids and names, deployed as its version 2;
    the bundled id -> the redrawn one."""
    xml, mapping = renamed(COMPLAINT.read_bytes())
    (outcome,) = deploy(city, xml)
    assert outcome.version == 2
    return mapping


def dispatch(city, case, lead="B-MR", co=()):
    city.act(case, "dispatch", "disp1", {"lead_department": lead, "co_departments": list(co)})


def test_a_redrawn_diagram_runs_by_its_steps(city, ids):
    case = city.intake()
    task = city.task(case, Step.DISPATCH)
    assert task.element_id == ids["dispatch"] and task.name == ids["dispatch"]
    with pytest.raises(FormInvalid) as info:  # the dispatch rule
        dispatch(city, case, "B-MR", co=["B-MR"])
    assert "co_departments" in info.value.errors
    dispatch(city, case, "B-MR")
    assert city.task(case, Step.SIGN_FOR).element_id == ids["sign_for"]
    assert city.case(case).status == "dispatched"


def test_a_redrawn_diagram_keeps_the_return_window(city, ids):
    case = city.intake()
    dispatch(city, case)
    city.clock.advance(days=3)  # past the two-working-day return limit
    with pytest.raises(FormInvalid) as info:
        city.act(case, "sign_for", "h_mr", {"action": "return", "return_reason": "不是我们的事"})
    assert "action" in info.value.errors
    assert city.case(case).status == "dispatched"


def test_a_redrawn_diagram_keeps_the_return_cap(city, ids):
    case = city.intake()
    for _ in range(3):
        dispatch(city, case)
        city.act(case, "sign_for", "h_mr", {"action": "return", "return_reason": "不属于本单位"})
        city.act(case, "review_return", "disp1", {"decision": "approve"})
    dispatch(city, case)
    assert city.case(case).return_count == 3
    with pytest.raises(FormInvalid) as info:
        city.act(case, "sign_for", "h_mr", {"action": "return", "return_reason": "第四次退回"})
    assert "3" in " ".join(info.value.errors["action"])


def test_a_redrawn_diagram_keeps_the_extension_rules(city, ids):
    case = city.intake()
    dispatch(city, case)
    city.act(case, "sign_for", "h_mr", {"action": "sign"})
    asked = {"action": "request_extension", "extension_reason": "需要检测报告"}
    with pytest.raises(FormInvalid) as info:  # more than the policy's ten working days
        city.act(case, "handle", "h_mr", {**asked, "extension_days": 11})
    assert "extension_days" in info.value.errors
    city.act(case, "handle", "h_mr", {**asked, "extension_days": 3})
    assert city.task(case, Step.REVIEW_EXTENSION).element_id == ids["review_extension"]
    with pytest.raises(FormInvalid) as info:  # more than asked
        city.act(case, "review_extension", "disp1", {"decision": "approve", "approved_days": 4})
    assert "approved_days" in info.value.errors
    city.act(case, "review_extension", "disp1", {"decision": "approve", "approved_days": 3})
    assert city.case(case).extension_count == 1


def test_a_task_without_a_step_gets_no_hotline_rule(city):
    xml, ids = renamed(COMPLAINT.read_bytes())
    deploy(city, without_steps(xml, "sign_for"))
    case = city.intake()
    dispatch(city, case)
    (task,) = [t for t in city.ready(case) if t.element_id == ids["sign_for"]]
    assert task.kind is None
    city.clock.advance(days=3)
    # its status still moves the case, but no return window applies to a task that is no step
    flows.complete_task(
        city.session,
        city.hotline,
        task_id=task.task_id,
        data={"action": "return", "return_reason": "不属于本单位职责"},
        user=city.user("h_mr"),
    )
    assert city.case(case).status == "return_requested"


def test_a_definition_from_before_steps_keeps_its_rules(city):
    """Running cases of a definition deployed before tasks named their steps: the bundled
    ids were the steps then, and are read so."""
    deploy(city, without_steps(COMPLAINT.read_bytes()))
    case = city.intake()
    assert city.task(case, Step.DISPATCH).element_id == "dispatch"
    dispatch(city, case)
    city.clock.advance(days=3)
    with pytest.raises(FormInvalid):
        city.act(case, "sign_for", "h_mr", {"action": "return", "return_reason": "不是我们的事"})
    # redrawn without steps, nothing is read from the ids
    xml, _ = renamed(COMPLAINT.read_bytes())
    deploy(city, without_steps(xml))
    other = city.intake()
    assert [t.kind for t in city.ready(other)] == [None]


def test_an_unknown_step_is_refused_where_it_is_written(city):
    xml = with_step(COMPLAINT.read_bytes(), "sign_for", "sign_off")
    line = next(
        n
        for n, text in enumerate(xml.decode().splitlines(), 1)
        if 'name="step" value="sign_off"' in text
    )
    result = city.hotline.runtime.validate(xml, "mine.bpmn", form_exists=city.hotline.forms.exists)
    (issue,) = result.issues
    assert str(issue).startswith(f"mine.bpmn:{line}: sign_for: property 'step': unknown step")
    assert "'sign_off'" in str(issue) and "sign_for" in issue.message
    with pytest.raises(DefinitionInvalid) as info:
        deploy(city, xml, "mine.bpmn")
    assert [str(i) for i in info.value.issues] == [str(issue)]
    assert deploy(city, COMPLAINT.read_bytes())[0].version == 1  # nothing was stored


def test_two_tasks_of_one_step_and_a_status_without_a_step_are_fine(city):
    two = with_step(COMPLAINT.read_bytes(), "redispatch", "dispatch")
    assert city.hotline.runtime.validate(two, "two.bpmn").ok
    assert city.hotline.runtime.validate(without_steps(two, "sign_for"), "no_step.bpmn").ok


@pytest.mark.parametrize("mode", ["straight"])
def test_the_simulator_drives_redrawn_diagrams_by_their_steps(hotline, database):
    session = database.session()
    for path in sorted((ROOT / "bpmn").glob("*.bpmn")):
        xml, _ = renamed(path.read_bytes())
        hotline.runtime.deploy(
            session, xml, path.name, deployed_by="tests", form_exists=hotline.forms.exists
        )
    session.close()
    busy = Rates(return_=0.3, extension=0.3, suspension=0.4, sign_late=0.2, late_reply=0.3)
    report = Simulation(hotline, database.session, seed=3, rates=busy).run(cases=40, days=12)
    assert report.statuses["closed"] > 0
    with database.session() as session:
        tasks = session.execute(select(HumanTask.element_id, HumanTask.kind)).all()
    assert {kind for _, kind in tasks} >= {
        Step.DISPATCH,
        Step.SIGN_FOR,
        Step.REVIEW_RETURN,
        Step.HANDLE,
        Step.REVIEW_EXTENSION,
        Step.REVIEW_SUSPENSION,
        Step.CALLBACK,
    }
    assert all(element.startswith("n") for element, _ in tasks)
