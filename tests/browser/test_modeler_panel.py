"""The modeler's properties panel, in Chromium (issue 21): for each diagram in bpmn/, every kind
of property the engine reads is changed through the panel (a user task's form, status and
candidate group, a deadline timer from the policy, a gateway's condition, a script, the
documentation), conditions and scripts are checked live, the result is deployed from the
page, and a case started on the new version shows that the engine read what the panel wrote.
Also: the modeler's words in Chinese, tooltips on the palette, the unsaved-changes warning."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.test_e2e import sign_in
from tests.workflows.conftest import INTAKE

#: the bundled diagrams' processes and a case type each runs
DIAGRAMS = {
    "complaint": "complaint",
    "report": "report",
    "consultation": "consultation",
    "help_request": "help",
    "suggestion": "suggestion",
}
ANSWERED = "flow_intake_outcome_to_end_answered"


def choose(page: Page, element_id: str) -> None:
    page.evaluate(
        "(id) => { const m = hotlineModeler.modeler;"
        " m.get('selection').select(m.get('elementRegistry').get(id)); }",
        element_id,
    )
    expect(page.locator(".bio-properties-panel-header")).to_be_visible()


def open_group(page: Page, group: str) -> None:
    header = page.locator(f"[data-group-id='group-{group}'] .bio-properties-panel-group-header")
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def field(page: Page, entry: str):
    return page.locator(f"#bio-properties-panel-{entry}")


def loaded(page: Page, live, key: str, version: int) -> None:
    page.goto(f"{live.url}/admin/definitions/{key}/{version}/edit")
    expect(page.locator("#canvas .djs-element[data-element-id=dispatch]")).to_be_attached()
    page.wait_for_function(
        "() => { try { return !!hotlineModeler.modeler.get('config.hotline').catalog; }"
        " catch (e) { return false; } }"
    )


def deploy(page: Page) -> None:
    page.locator("#deploy-button").click()
    dialog = page.locator("#deploy-dialog")
    if dialog.count():  # the deploy asks for a comment and shows the diff first
        expect(dialog).to_be_visible()
        page.fill("#deploy-comment", "属性面板测试")
        page.locator("#deploy-confirm").click()
    expect(page.locator("#modeler-status a")).to_contain_text("2")


def edit_every_kind(page: Page) -> None:
    # a user task: form, status, candidate group, documentation
    choose(page, "dispatch")
    open_group(page, "hotline")
    field(page, "hotline-formKey").select_option("common/redispatch")
    field(page, "hotline-status").select_option("awaiting_redispatch")
    field(page, "hotline-candidateGroups").select_option("'B-MR'")
    open_group(page, "documentation")
    page.locator("#bio-properties-panel-documentation").fill("派单：由属性面板写入")
    # a deadline timer: the limit from the deadline policy
    choose(page, "dispatch_late")
    open_group(page, "hotline-timer")
    field(page, "hotline-timer-policy").select_option("review")
    expect(field(page, "hotline-timer-value")).to_have_value("after(policy['review'])")
    # a gateway's condition: a mistake is said at once, in the page's language
    choose(page, ANSWERED)
    open_group(page, "hotline-condition")
    condition = field(page, "hotline-condition-expression")
    condition.fill("intake_outcome ==")
    expect(page.locator(".hotline-check-error[data-check=condition]")).to_contain_text("无法解析")
    condition.fill("(intake_outcome == 'answered')")
    expect(page.locator(".hotline-check-ok[data-check=condition]")).to_be_visible()
    # a script: a name the engine does not allow is refused as deploy would
    choose(page, "set_deadlines")
    open_group(page, "hotline-script")
    script = field(page, "hotline-script-text")
    original = script.input_value()
    script.fill(original + "\nimport os")
    expect(page.locator(".hotline-check-error[data-check=script]")).to_be_visible()
    script.fill(original + "\npanel_checked = True")
    expect(page.locator(".hotline-check-ok[data-check=script]")).to_be_visible()


@pytest.mark.parametrize("key", list(DIAGRAMS))
def test_what_the_panel_writes_the_engine_reads(page: Page, live, console_errors, key):
    from engine.models import Definition, HumanTask, ProcessInstance
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.cases import flows

    sign_in(page, live, "admin")
    loaded(page, live, key, 1)
    assert page.evaluate("hotlineModeler.dirty()") is False
    edit_every_kind(page)
    assert page.evaluate("hotlineModeler.dirty()") is True
    deploy(page)
    assert page.evaluate("hotlineModeler.dirty()") is False  # deployed: nothing unsaved

    with live.app.app_context():
        row = db.session.scalars(
            select(Definition).where(Definition.key == key, Definition.version == 2)
        ).one()
        xml = row.xml
        assert "after(policy['review'])" in xml
        assert "(intake_outcome == &#39;answered&#39;)" in xml or (
            "(intake_outcome == 'answered')" in xml
        )
        assert "panel_checked = True" in xml and "派单：由属性面板写入" in xml
        # a case of the type starts on version 2: its first task is what the panel said
        case = flows.open_case(
            db.session, get_hotline(), data={**INTAKE, "case_type": DIAGRAMS[key]}, actor="op1"
        )
        task = db.session.scalars(
            select(HumanTask)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(ProcessInstance.business_key == case.number)
        ).one()
        assert db.session.get(ProcessInstance, task.instance_id).definition_id == row.id
        assert case.status == "awaiting_redispatch"
        assert (task.form_key, task.candidate_group) == ("common/redispatch", "B-MR")
        db.session.commit()
    assert console_errors == []


def test_the_modeler_speaks_chinese_and_warns_before_losing_work(page: Page, live, console_errors):
    sign_in(page, live, "admin")
    loaded(page, live, "complaint", 1)
    # the palette's entries have tooltips, in Chinese
    titles = page.eval_on_selector_all(".djs-palette .entry", "els => els.map(e => e.title)")
    assert len(titles) >= 10 and all(titles)
    assert not [t for t in titles if re.search(r"[A-Za-z]{3}", t)], titles
    choose(page, "dispatch")
    groups = page.locator(".bio-properties-panel-group-header-title").all_inner_texts()
    assert "常规" in groups and "热线" in groups and "说明文档" in groups
    # the context pad too
    pad = page.eval_on_selector_all(".djs-context-pad .entry", "els => els.map(e => e.title)")
    assert pad and not [t for t in pad if re.search(r"[A-Za-z]{3}", t)], pad
    # a change not deployed: leaving asks first
    open_group(page, "hotline")
    field(page, "hotline-status").select_option("in_progress")
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)
    page.wait_for_timeout(200)  # the dialog event arrives from the browser
    assert asked == ["beforeunload"]
    assert console_errors == []


def test_a_connector_is_set_up_in_the_panel_and_checked_as_deploy_checks_it(
    page: Page, live, console_errors
):
    sign_in(page, live, "admin")
    loaded(page, live, "complaint", 1)
    # a service task spliced into the flow from dispatch to the deadlines
    page.evaluate(
        """() => {
          const m = hotlineModeler.modeler;
          const registry = m.get('elementRegistry');
          const modeling = m.get('modeling');
          const flow = registry.get('flow_dispatch_to_set_deadlines');
          const target = registry.get('set_deadlines');
          const end = flow.waypoints[flow.waypoints.length - 1];
          const shape = m.get('elementFactory').createShape(
            { type: 'bpmn:ServiceTask', businessObject: m.get('bpmnFactory').create(
              'bpmn:ServiceTask', { id: 'due_check' }) });
          const made = modeling.createShape(shape, { x: end.x - 150, y: end.y + 100 }, flow.parent);
          modeling.reconnectEnd(flow, made, { x: made.x, y: made.y + made.height / 2 });
          modeling.connect(made, target);
        }"""
    )
    choose(page, "due_check")
    open_group(page, "hotline-connector")
    field(page, "hotline-connector").select_option("compute_deadline")
    expect(field(page, "hotline-connector-param-amount")).to_be_visible()
    field(page, "hotline-connector-param-unit").fill("'workdays'")
    field(page, "hotline-connector-result").fill("due_check_result")
    page.wait_for_timeout(400)  # the panel's fields write after a short pause (debounced)
    page.click("#validate-button")
    expect(page.locator("#issues")).to_contain_text("amount")  # required, not given
    field(page, "hotline-connector-param-amount").fill("3")
    field(page, "hotline-connector-param-variable").fill("'check_by'")
    page.wait_for_timeout(400)
    page.click("#validate-button")
    expect(page.locator("#modeler-status")).not_to_have_class(re.compile("error-message"))
    xml = page.evaluate("async () => (await hotlineModeler.modeler.saveXML()).xml")
    assert 'spiffworkflow:serviceTaskOperator id="compute_deadline"' in xml
    assert 'resultVariable="due_check_result"' in xml
    assert 'id="amount"' in xml and 'value="3"' in xml
    assert console_errors == []
