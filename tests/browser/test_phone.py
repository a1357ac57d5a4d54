"""A handler in the field, on a phone 390 px wide (issue 20): the inbox, every task form a
handler fills in (sign for or return, reply, extension, suspension, co-handling, answering a
supervision order, resume), the case page and the notifications are usable without scrolling
sideways; the header folds its links behind a menu button; tables become cards whose long
addresses wrap by words. And on a
desktop: the case page's diagram opens readable on the current step and zooms, the KPI trend
line is not cut at 100%.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_e2e import sign_in
from tests.webapp.test_inbox import act
from tests.webapp.test_intake import open_case

PHONE = {"width": 390, "height": 844}
#: a long address as operators type them (no spaces: Chinese text wraps between characters,
#: so in a narrow table column it stood one character per line)
LONG_ADDRESS = "江门市蓬江区白沙街道白沙大道西一号华侨新村二十三座五楼五零二室对面的小巷子入口处"


def page_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


#: the elements that reach past the screen's right edge (for the failure message)
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 6).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ').join('.') : ''))"""


def assert_fits(page: Page, what: str) -> None:
    page.wait_for_load_state("load")  # responsive.js has run
    expect(page.locator("html.fitted")).to_have_count(1)
    width = page_width(page)
    if width > PHONE["width"]:
        wide = page.evaluate(OVERFLOWING)
        raise AssertionError(f"{what}: the page is {width} px wide at 390 px: {wide}")


def assert_within_screen(page: Page, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)


def task_of(page: Page, live, number: str, task: str | None = None) -> None:
    """Open the inbox and the task of case ``number`` (the one named ``task``) from its card."""
    page.goto(f"{live.url}/inbox")
    card = page.locator("table.tasks tr", has=page.locator(f"a[href='/cases/{number}']"))
    if task:
        card = card.filter(has_text=task)
    expect(card).to_be_visible()
    card.locator("a[href^='/tasks/']").first.click()
    expect(page.locator("form.task-form")).to_be_visible()


def order_supervision(app, number: str) -> None:
    """sup1 sends a supervision order on the case (the department must answer in writing)."""
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.supervision import flows as supervision
    from workflows.users.service import by_username

    with app.app_context():
        supervision.supervise_case(
            db.session,
            get_hotline(),
            number=number,
            user=by_username(db.session, "sup1"),
            lang="zh",
            action="supervision_order",
            note="请两日内书面答复",
        )
        db.session.commit()


def test_a_handler_works_a_day_on_a_phone(page: Page, live, console_errors):
    app = live.app
    to_sign = open_case(app, address=LONG_ADDRESS)
    act(app, to_sign, "dispatch", "disp1", {"lead_department": "B-MR", "co_departments": []})
    to_handle = open_case(app, caller_phone="13900139000")
    act(app, to_handle, "dispatch", "disp1", {"lead_department": "B-MR", "co_departments": []})
    act(app, to_handle, "sign_for", "h_mr", {"action": "sign"})
    to_resume = open_case(app, caller_phone="13700137000")
    act(app, to_resume, "dispatch", "disp1", {"lead_department": "B-MR", "co_departments": []})
    act(app, to_resume, "sign_for", "h_mr", {"action": "sign"})
    act(app, to_resume, "handle", "h_mr",
        {"action": "request_suspension", "suspension_reason": "等待检测报告"})  # fmt: skip
    act(app, to_resume, "review_suspension", "disp1", {"decision": "approve", "note": ""})
    co_handled = open_case(app, caller_phone="13600136000")
    act(app, co_handled, "dispatch", "disp1",
        {"lead_department": "B-HU", "co_departments": ["B-MR"]})  # fmt: skip

    ordered = open_case(app, caller_phone="13500135000")
    act(app, ordered, "dispatch", "disp1", {"lead_department": "B-MR", "co_departments": []})
    act(app, ordered, "sign_for", "h_mr", {"action": "sign"})
    order_supervision(app, ordered)
    from webapp.scheduler import outbox_service

    outbox_service(app).drain()  # the dispatch notices reach the bell, as the worker does

    page.set_viewport_size(PHONE)
    sign_in(page, live, "h_mr")
    expect(page).to_have_url(re.compile(r"/inbox"))

    # -- the header: the links fold behind the menu button, the bell stays --------------------
    header = page.locator("header.top")
    menu = header.locator("button.menu-toggle")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(header.locator("#bell")).to_be_visible()
    expect(header.locator("nav a[href='/cases']")).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(header.locator("nav a[href='/cases']")).to_be_visible()
    expect(header.locator("form[action='/logout'] button")).to_be_visible()
    assert_fits(page, "the inbox with the menu open")
    header.locator("nav a[href='/cases']").focus()
    page.keyboard.press("Escape")  # closes the menu, back on its button
    expect(header.locator("nav a[href='/cases']")).to_be_hidden()
    expect(menu).to_be_focused()
    menu.click()
    expect(header.locator("nav a[href='/cases']")).to_be_visible()
    menu.click()
    expect(header.locator("nav a[href='/cases']")).to_be_hidden()

    # -- the inbox: one card per task, the address on whole lines -----------------------------
    assert_fits(page, "the inbox")
    table = page.locator("table.tasks")
    expect(table).to_have_class(re.compile(r"\bstacked\b"))
    card = table.locator("tr", has=page.locator(f"a[href='/cases/{to_sign}']"))
    expect(card).to_be_visible()
    address = card.locator("td[data-label='事发地址']")
    expect(address).to_be_visible()
    cell = address.bounding_box()
    assert cell["width"] >= 300, f"the address cell is {cell['width']} px wide"
    # whatever the masking shows of it, it takes at most a few lines, not one per character
    lines = address.evaluate(
        """td => { const range = document.createRange(); range.selectNodeContents(td);
                   return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size; }"""
    )
    assert lines <= 3, f"the address takes {lines} lines"
    expect(card.locator("td[data-label='期限']")).to_contain_text("签收期限")
    assert_within_screen(page, f"table.tasks a[href='/cases/{to_sign}']")

    # -- sign for, or return with a reason ---------------------------------------------------
    task_of(page, live, to_sign)
    assert_fits(page, "the sign-for form")
    expect(page.locator("input[name=action][value=sign]")).to_be_checked()
    page.check("input[name=action][value=return]")
    reason = page.locator("#f_return_reason")
    expect(reason).to_be_visible()
    assert reason.bounding_box()["width"] >= 300
    assert_within_screen(page, "form.task-form button.primary[type=submit]")
    assert_fits(page, "the sign-for form, returning")
    # the case's address on the task page wraps inside the screen
    expect(page.locator("body")).to_contain_text("白沙大道")
    assert_fits(page, "the sign-for form with the long address")

    # -- handle: reply, or ask for an extension or a suspension -------------------------------
    task_of(page, live, to_handle)
    assert_fits(page, "the handling form")
    page.check("input[name=action][value=reply]")
    expect(page.locator("#f_reply_text")).to_be_visible()
    assert page.locator("#f_reply_text").bounding_box()["width"] >= 300
    page.check("input[name=action][value=request_extension]")
    expect(page.locator("#f_extension_days")).to_be_visible()
    expect(page.locator("#f_extension_reason")).to_be_visible()
    assert_fits(page, "the handling form, extension")
    page.check("input[name=action][value=request_suspension]")
    expect(page.locator("#f_suspension_reason")).to_be_visible()
    assert_fits(page, "the handling form, suspension")
    assert_within_screen(page, "form.task-form button.primary[type=submit]")
    # the interim reply beside the form
    expect(page.locator("textarea").last).to_be_visible()

    # -- the co-handling part and the resume of a suspended case -----------------------------
    task_of(page, live, co_handled)
    assert_fits(page, "the co-handling form")
    expect(page.locator("#f_cohandle_text")).to_be_visible()
    assert_within_screen(page, "form.task-form button.primary[type=submit]")

    task_of(page, live, ordered, "督办回复")  # a supervision order to answer in writing
    assert_fits(page, "the supervision answer form")
    expect(page.locator("#f_answer")).to_be_visible()
    assert page.locator("#f_answer").bounding_box()["width"] >= 300
    assert_within_screen(page, "form.task-form button.primary[type=submit]")

    task_of(page, live, to_resume)
    assert_fits(page, "the resume form")
    assert_within_screen(page, "form.task-form button.primary[type=submit]")
    # and it is done from the phone: the reply goes through
    page.fill("#f_note", "检测报告已出")
    page.locator("form.task-form button.primary[type=submit]").click()
    expect(page.locator(".flash").first).to_be_visible()
    assert_fits(page, "the inbox after a task")

    # -- the case page: fields, deadlines, timeline, notifications, the diagram ---------------
    page.goto(f"{live.url}/cases/{to_sign}")
    assert_fits(page, "the case page")
    expect(page.locator("h1")).to_contain_text(to_sign)
    expect(page.locator("#case-diagram[data-ready=true] svg").first).to_be_visible()
    expect(page.locator("#case-diagram-controls")).to_be_visible()
    assert_within_screen(page, "#case-diagram")
    assert_within_screen(page, "#case-diagram-controls button[data-zoom=current]")
    assert_fits(page, "the case page with its diagram")

    # -- the notifications ------------------------------------------------------------------
    page.goto(f"{live.url}/notifications")
    assert_fits(page, "the notifications")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator(".notifications li").first).to_be_visible()
    assert console_errors == []


def test_the_callback_agent_and_the_dispatcher_on_a_phone(page: Page, live, console_errors):
    app = live.app
    number = open_case(app, address=LONG_ADDRESS)
    page.set_viewport_size(PHONE)
    sign_in(page, live, "disp1")
    page.goto(f"{live.url}/queues")
    assert_fits(page, "the dispatcher's queues")
    row = page.locator("tr", has=page.locator(f"a[href='/cases/{number}']"))
    expect(row).to_be_visible()
    row.locator("a[href^='/tasks/']").first.click()
    expect(page.locator("form.task-form")).to_be_visible()
    assert_fits(page, "the dispatch form")
    assert_within_screen(page, "form.task-form button.primary[type=submit]")

    # the callback: the case goes round the loop first
    act(app, number, "dispatch", "disp1", {"lead_department": "B-MR", "co_departments": []})
    act(app, number, "sign_for", "h_mr", {"action": "sign"})
    act(app, number, "handle", "h_mr",
        {"action": "reply", "reply_text": "已现场检查并整改", "result": "resolved"})  # fmt: skip
    act(app, number, "review_reply", "disp1", {"decision": "accept"})
    sign_in(page, live, "cb1")
    assert_fits(page, "the callback agent's inbox")
    task_of(page, live, number)
    assert_fits(page, "the callback form")
    page.check("input[name=contact_result][value=not_reached]")
    expect(page.locator("input[name=unreached_reason]").first).to_be_visible()
    assert_fits(page, "the callback form, not reached")
    assert_within_screen(page, "form.task-form button.primary[type=submit]")
    assert console_errors == []


def test_the_case_diagram_opens_readable_and_zooms(page: Page, live, console_errors):
    number = open_case(live.app)
    act(live.app, number, "dispatch", "disp1", {"lead_department": "B-MR", "co_departments": []})
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live, "h_mr")
    page.goto(f"{live.url}/cases/{number}")
    diagram = page.locator("#case-diagram[data-ready=true]")
    expect(diagram).to_be_attached()
    # it opens on the step waiting now (sign for), at a scale whose labels read
    opened = float(diagram.get_attribute("data-zoom"))
    assert opened >= 0.85, opened
    current = diagram.locator(".djs-element.current[data-element-id=sign_for]")
    box = current.bounding_box()
    frame = diagram.bounding_box()
    assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]
    assert frame["width"] >= 1000  # the width the page has
    controls = page.locator("#case-diagram-controls")
    controls.locator("button[data-zoom=fit]").click()
    whole = float(diagram.get_attribute("data-zoom"))
    assert whole < opened
    controls.locator("button[data-zoom=in]").click()
    assert float(diagram.get_attribute("data-zoom")) > whole
    controls.locator("button[data-zoom=out]").click()
    controls.locator("button[data-zoom=out]").click()
    assert float(diagram.get_attribute("data-zoom")) < whole
    controls.locator("button[data-zoom=current]").click()
    assert float(diagram.get_attribute("data-zoom")) == opened
    assert console_errors == []


def test_the_kpi_trend_line_has_room_above_100_percent(page: Page, live, console_errors):
    sign_in(page, live, "sup1")
    page.goto(f"{live.url}/kpi?start=2026-03-01&end=2026-03-31")
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length >= 3")
    axis = page.evaluate(
        """() => { const y = Chart.getChart(document.getElementById('chart-trend')).scales.y;
                   return { max: y.max, ticks: y.ticks.map((t) => t.value) }; }"""
    )
    assert axis["max"] > 100  # a line at 100% is drawn whole
    assert max(axis["ticks"]) == 100  # and no tick says more than 100%
    assert console_errors == []


def test_the_first_page_has_a_favicon_and_no_console_error(page: Page, live, console_errors):
    page.goto(f"{live.url}/login")
    href = page.locator("link[rel=icon][type='image/svg+xml']").get_attribute("href")
    icon = page.request.get(f"{live.url}{href}")
    assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml")
    ico = page.request.get(f"{live.url}/favicon.ico")
    assert ico.ok and ico.body()[:4] == b"\x00\x00\x01\x00"
    # a wrong password keeps the user name typed
    page.fill("input[name=username]", "h_mr")
    page.fill("input[name=password]", "wrong password")
    page.click("form button[type=submit].primary")
    expect(page.locator(".error-message")).to_be_visible()
    expect(page.locator("input[name=username]")).to_have_value("h_mr")
    expect(page.locator("input[name=password]")).to_be_focused()
    # the refusal (401) is the only console line: a missing icon would be a 404 besides it
    assert all("401" in line for line in console_errors), console_errors
