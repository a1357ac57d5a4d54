"""End to end in Chromium: people using the pages of a live hotline.

1. The closed loop: an operator takes a call with the keyboard, the dispatcher sends it to a
   department, the handler signs for it and replies, the platform accepts the reply, the
   citizen is called back by the callback agent, the case is closed, and the supervisor's
   KPIs count it.
2. An administrator edits a diagram in the bpmn-js modeler, sees a problem marked on the
   element, fixes it, deploys version 2; new cases start on version 2 while the open case
   stays on version 1.

Each main page is saved as a screenshot (``shot``): into a temporary folder, or with
HOTLINE_SCREENSHOTS=docs/screenshots into the folder the README shows.
"""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tests.webapp.pages import PASSWORD


def sign_in(page: Page, live, username: str) -> None:
    # leave the page first: a poll still in flight from it (/live) would bring back the
    # session cookie after it was cleared, and /login would send the old user to their inbox
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto(f"{live.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit].primary")
    expect(page.locator("form[action$='/logout'], form[action*='logout']")).to_have_count(1)


def open_task_of(page: Page, number: str) -> None:
    """Open the task link in the row of case ``number`` on an inbox or queue page."""
    row = page.locator("tr", has=page.locator(f"a[href='/cases/{number}']"))
    row.locator("a[href^='/tasks/']").first.click()
    expect(page.locator("form.task-form")).to_be_visible()


def submit_task(page: Page) -> None:
    page.locator("form.task-form button.primary[type=submit]").click()
    page.wait_for_load_state("load")


def kpi_numerator(page: Page, name: str) -> tuple[int, int]:
    row = page.locator(f"#totals tr[data-kpi='{name}']")
    return int(row.locator(".numerator").inner_text()), int(
        row.locator(".denominator").inner_text()
    )


def case_status(live, number: str) -> str:
    from webapp.extensions import db
    from workflows.cases.models import Case

    with live.app.app_context():
        return db.session.scalar(select(Case.status).where(Case.number == number))


def test_the_closed_loop_in_the_browser(page: Page, live, console_errors, shot):
    # The supervisor's dashboard before: nothing called back yet.
    sign_in(page, live, "sup1")
    page.goto(f"{live.url}/kpi?start=2026-03-01&end=2026-03-31")
    assert kpi_numerator(page, "callback") == (0, 0)

    # -- the operator takes the call, keyboard only -----------------------------------------
    sign_in(page, live, "op1")
    expect(page).to_have_url(re.compile(r"/intake$"))
    phone = page.locator("#f_caller_phone")
    expect(phone).to_be_focused()  # the cursor starts in the phone field
    page.keyboard.type("13800138000")
    page.keyboard.press("Enter")  # Enter moves on, it does not submit
    expect(phone).not_to_be_focused()
    page.fill("#f_caller_name", "张三")
    page.fill("#f_address", "江门市蓬江区白沙大道1号")
    page.select_option("#f_area", "D-PJ")
    page.select_option("#f_category", "食品安全")
    page.fill("#f_description", "小区门口餐馆卫生很差，吃完腹泻")
    # the dispatch catalogue's suggestion appears beside the form
    expect(page.locator("#suggestion")).to_contain_text("市场监督管理局")
    shot(page, "intake")
    page.locator("#f_description").press("Control+Enter")
    page.wait_for_load_state("load")
    flash = page.locator(".flash").first
    expect(flash).to_contain_text("2026030200001")
    number = "2026030200001"
    assert case_status(live, number) == "awaiting_dispatch"

    # -- the dispatcher sends it to market supervision -------------------------------------
    sign_in(page, live, "disp1")
    expect(page).to_have_url(re.compile(r"/queues"))
    expect(page.locator(f"a[href='/cases/{number}']")).to_be_visible()
    shot(page, "dispatcher-queues")
    open_task_of(page, number)
    expect(page.locator("#f_lead_department")).to_have_value("B-MR")  # suggested
    shot(page, "dispatch-task")
    submit_task(page)
    assert case_status(live, number) == "dispatched"

    # -- the handler signs for it, then replies ---------------------------------------------
    live.clock.advance(timedelta(hours=2))
    sign_in(page, live, "h_mr")
    expect(page).to_have_url(re.compile(r"/inbox"))
    shot(page, "handler-inbox")
    open_task_of(page, number)
    page.check("input[name=action][value=sign]")
    submit_task(page)
    assert case_status(live, number) == "in_progress"

    live.clock.advance(timedelta(days=1))
    page.goto(f"{live.url}/inbox")
    open_task_of(page, number)
    page.check("input[name=action][value=reply]")
    # a reply that is too short is refused next to the field, and what was typed is kept
    page.fill("#f_reply_text", "好")
    page.check("input[name=result][value=resolved]")
    submit_task(page)
    field = page.locator(".field[data-key=reply_text]")
    expect(field.locator(".field-error")).to_be_visible()
    expect(page.locator("#f_reply_text")).to_have_value("好")
    shot(page, "task-field-error")
    page.fill("#f_reply_text", "已现场检查，责令停业整改")
    submit_task(page)
    assert case_status(live, number) == "replied"

    # -- the platform accepts the reply ----------------------------------------------------
    sign_in(page, live, "disp1")
    page.goto(f"{live.url}/queues?queue=review_reply")
    open_task_of(page, number)
    expect(page.locator("body")).to_contain_text("已现场检查，责令停业整改")
    page.check("input[name=decision][value=accept]")
    submit_task(page)
    assert case_status(live, number) == "awaiting_callback"

    # -- the callback agent calls the citizen back: reached, satisfied, closed ---------------
    sign_in(page, live, "cb1")
    expect(page).to_have_url(re.compile(r"/inbox"))
    open_task_of(page, number)
    expect(page.locator("input[name=contact_result][value=reached]")).to_be_checked()
    page.check("input[name=satisfaction][value=satisfied]")
    page.check("input[name=resolved][value=yes]")
    page.fill("#f_callback_note", "市民表示满意")
    submit_task(page)
    expect(page.locator(".flash").first).to_contain_text("已办结")
    assert case_status(live, number) == "closed"

    # -- the case page: fields, timeline, the diagram with done elements marked ----------------
    page.goto(f"{live.url}/cases/{number}")
    expect(page.locator("body")).to_contain_text("已现场检查，责令停业整改")
    expect(page.locator("body")).to_contain_text("市民表示满意")
    diagram = page.locator("#case-diagram[data-ready=true]")
    expect(diagram.locator("svg").first).to_be_visible()
    for element in ("dispatch", "sign_for", "handle", "review_reply", "callback"):
        expect(diagram.locator(f".djs-element.done[data-element-id={element}]")).to_be_attached()
    expect(diagram.locator(".djs-element.current, .djs-element.waiting")).to_have_count(0)
    shot(page, "case", full_page=True)

    # -- the supervisor's KPIs count the case ---------------------------------------------
    sign_in(page, live, "sup1")
    page.goto(f"{live.url}/kpi?start=2026-03-01&end=2026-03-31")
    assert kpi_numerator(page, "callback") == (1, 1)
    assert kpi_numerator(page, "satisfaction") == (1, 1)
    assert kpi_numerator(page, "on_time_closure")[0] == 1
    expect(page.locator("#chart-trend")).to_be_visible()
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length >= 3")
    shot(page, "kpi-dashboard", full_page=True)

    page.goto(f"{live.url}/supervision/overdue")
    shot(page, "supervisor-overdue")
    # the one error the browser saw is the refused reply (422, answered with the form again)
    refused = [e for e in console_errors if "status of 422" in e and "/tasks/" in e]
    assert len(refused) == 1
    assert [e for e in console_errors if e not in refused] == []


def test_the_administrator_deploys_version_2_from_the_modeler(
    page: Page, live, console_errors, shot
):
    from engine.models import Definition, ProcessInstance
    from webapp.extensions import db
    from workflows.cases.models import Case

    sign_in(page, live, "op1")
    # an open case on version 1, before the change
    page.fill("#f_caller_phone", "13900139000")
    page.select_option("#f_category", "食品安全")
    page.fill("#f_description", "超市出售过期食品")
    page.locator("form#intake-form button.primary[type=submit]").click()
    page.wait_for_load_state("load")
    first = "2026030200001"
    expect(page.locator(".flash").first).to_contain_text(first)

    sign_in(page, live, "admin")
    page.goto(f"{live.url}/admin/definitions/complaint")
    shot(page, "admin-definition")
    page.goto(f"{live.url}/admin/definitions/complaint/1/edit")
    expect(page.locator("#modeler-status")).to_have_text("")  # loaded
    expect(page.locator("#canvas .djs-element[data-element-id=sign_for]")).to_be_attached()

    # Edit with the mouse and keyboard as a designer would: rename the sign-for task...
    sign_for = page.locator("#canvas .djs-element[data-element-id=sign_for]")
    sign_for.dblclick()
    editor = page.locator(".djs-direct-editing-parent")
    expect(editor).to_be_visible()
    page.keyboard.press("Control+A")
    page.keyboard.type("签收（限时）Sign for in time")
    page.keyboard.press("Enter")
    expect(editor).to_be_hidden()
    # ...and (a mistake) add a user task from the palette without giving it a form.
    # (dropped below it, in the first free spot: the diagram's scale depends on the canvas,
    # which shares the width with the properties panel; a drop on a flow or a border is refused)
    new_task = page.locator("#canvas .djs-element.djs-shape.selected")
    box = sign_for.bounding_box()
    shapes = page.locator("#canvas .djs-shape").count()
    for below in (60, 45, 90, 30, 120, 150):
        page.click(".djs-palette .entry[data-action='create.task']")
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] + below)
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] + below)
        if page.locator("#canvas .djs-shape").count() > shapes:
            break
        page.keyboard.press("Escape")
    expect(new_task).to_have_count(1)
    task_id = new_task.get_attribute("data-element-id")
    # (the wrench's menu opens on the click event itself; Playwright's synthetic mouse click
    # on it is swallowed by the context pad's drag start, so send the click event)
    page.locator(".djs-context-pad .entry[data-action='replace']").dispatch_event("click")
    page.locator(".djs-popup.bpmn-replace .bpmn-icon-user").click()
    expect(page.locator(".djs-popup")).to_have_count(0)
    user_task = page.locator("#canvas .djs-element.djs-shape.selected")
    task_id = user_task.get_attribute("data-element-id") or task_id

    page.click("#validate-button")
    expect(page.locator("#issues")).to_be_visible()
    expect(page.locator("#issues")).to_contain_text(f"{task_id}: <userTask> has no incoming")
    marked = page.locator(f"#canvas .djs-element.invalid[data-element-id='{task_id}']")
    expect(marked).to_be_attached()
    expect(page.locator("#modeler-status")).to_have_class(re.compile("error-message"))
    shot(page, "admin-modeler-issues")
    page.click("#deploy-button")  # refused before the dialog opens: nothing is stored
    expect(page.locator("#modeler-status")).to_have_class(re.compile("error-message"))
    expect(page.locator("#deploy-dialog")).not_to_be_visible()
    with live.app.app_context():
        assert (
            db.session.scalar(
                select(func.max(Definition.version)).where(Definition.key == "complaint")
            )
            == 1
        )

    # Clicking the issue selects the element; the designer deletes it and deploys.
    page.locator("#issues li").first.click()
    expect(
        page.locator(f"#canvas .djs-element.selected[data-element-id='{task_id}']")
    ).to_be_attached()
    page.locator(".djs-context-pad .entry[data-action='delete']").dispatch_event("click")
    expect(page.locator(f"#canvas .djs-element[data-element-id='{task_id}']")).to_have_count(0)
    page.click("#validate-button")

    expect(page.locator("#issues")).to_be_hidden()
    expect(page.locator("#modeler-status")).not_to_have_class(re.compile("error-message"))
    page.click("#deploy-button")  # the dialog shows the diff and asks why
    expect(page.locator("#deploy-preview tr.changed")).to_contain_text("sign_for")
    page.fill("#deploy-comment", "签收限时 sign for in time")
    page.click("#deploy-confirm")
    expect(page.locator("#modeler-status a")).to_be_visible()
    shot(page, "admin-modeler-deployed")
    with live.app.app_context():
        xml = db.session.scalar(
            select(Definition.xml).where(Definition.key == "complaint", Definition.version == 2)
        )
    assert xml is not None and "签收（限时）Sign for in time" in xml

    # a new case starts on version 2; the open one stays on version 1
    sign_in(page, live, "op1")
    page.fill("#f_caller_phone", "13700137000")
    page.select_option("#f_category", "食品安全")
    page.fill("#f_description", "外卖食品有异物")
    page.locator("form#intake-form button.primary[type=submit]").click()
    page.wait_for_load_state("load")
    second = "2026030200002"
    expect(page.locator(".flash").first).to_contain_text(second)

    with live.app.app_context():
        versions = dict(
            db.session.execute(
                select(Case.number, Definition.version)
                .join(ProcessInstance, ProcessInstance.id == Case.instance_id)
                .join(Definition, Definition.id == ProcessInstance.definition_id)
            ).all()
        )
    assert versions == {first: 1, second: 2}
    # the refused deploy was refused by the preview (200, with the issues in JSON): no errors
    assert console_errors == []
