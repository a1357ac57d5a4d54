"""Under the pages' Content-Security-Policy (no inline script, no eval) every script-driven
part of the app still works in Chromium, and the browser reports no violation: the modeler
and the version viewer, the case page's diagram, the KPI charts, the API's Swagger UI, the
intake page (knowledge base search and "use as the answer", caller history), the keyboard
shortcuts, a confirmation before a delete (issue 15, item 6)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_e2e import sign_in
from webapp.headers import PAGE_CSP

#: records every violation the page reports, before any of the page's own scripts runs
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def watched(page: Page) -> Page:
    page.add_init_script(WATCH)
    return page


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__violations")


def opened(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.headers["content-security-policy"] == PAGE_CSP


def test_every_scripted_page_works_under_the_policy(watched: Page, live, console_errors):
    page = watched
    sign_in(page, live, "op1")
    opened(page, f"{live.url}/intake")
    # the keyboard: the first field has the focus, Enter moves on instead of submitting
    expect(page.locator("#f_caller_phone")).to_be_focused()
    page.keyboard.type("13900139000")
    page.keyboard.press("Enter")
    expect(page.locator("#f_caller_phone")).not_to_be_focused()
    expect(page.locator("#caller-history")).to_contain_text("13900139000")
    # the knowledge base: Enter searches (a custom event now, no evaluated filter)
    page.fill("#kb-q", "")
    page.locator("#kb-q").press_sequentially("社保卡")
    page.locator("#kb-q").press("Enter")
    answer = page.locator("#kb-results [data-answer]").first
    expect(answer).to_be_visible()
    answer.click()
    expect(page.locator("#f_answer")).not_to_have_value("")
    assert violations(page) == []
    opened(page, f"{live.url}/intake")  # a fresh form for a case to hand on
    page.fill("#f_caller_phone", "13900139000")
    page.select_option("#f_category", "食品安全")
    page.fill("#f_description", "超市出售过期食品")
    page.locator("#f_description").press("Control+Enter")  # Ctrl+Enter records the case
    page.wait_for_load_state("load")
    expect(page.locator(".flash").first).to_contain_text("2026030200001")
    assert violations(page) == []

    sign_in(page, live, "sup1")
    opened(page, f"{live.url}/cases/2026030200001")
    expect(page.locator("#case-diagram .djs-element").first).to_be_attached()
    assert violations(page) == []
    opened(page, f"{live.url}/kpi?start=2026-03-01&end=2026-03-31")
    chart = page.locator("#chart-trend")
    expect(chart).to_be_visible()
    assert page.evaluate("Chart.getChart(document.getElementById('chart-trend')) !== undefined")
    assert violations(page) == []

    sign_in(page, live, "admin")
    opened(page, f"{live.url}/admin/definitions/complaint/1/edit")
    expect(page.locator("#modeler-status")).to_have_text("")
    expect(page.locator("#canvas .djs-element[data-element-id=sign_for]")).to_be_attached()
    with page.expect_response("**/admin/definitions/validate") as checked:
        page.click("#validate-button")  # the modeler's own script posts the diagram
    assert checked.value.ok
    assert violations(page) == []
    opened(page, f"{live.url}/admin/definitions/complaint/1")  # the read-only viewer
    expect(page.locator(".bpmn-viewer .djs-element").first).to_be_attached()
    assert violations(page) == []
    opened(page, f"{live.url}/api/docs")
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()
    expect(page.locator("#endpoints")).to_be_hidden()
    assert violations(page) == []
    # a delete asks first (data-confirm, no onclick): dismissing it sends nothing
    opened(page, f"{live.url}/admin/dispatch")
    delete = page.locator("button[data-confirm]").first
    expect(delete).to_be_visible()
    asked: list[str] = []

    def dismiss(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    rows = page.locator("button[data-confirm]").count()
    delete.click()
    assert asked and asked[0]
    expect(page.locator("button[data-confirm]")).to_have_count(rows)
    assert violations(page) == []
    assert console_errors == []


def test_an_inline_script_would_be_refused(watched: Page, live, console_errors):
    """The policy is really in force: a script the page did not load from a file is refused
    and reported (as an injected one would be)."""
    page = watched
    opened(page, f"{live.url}/login")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = true'; document.body.appendChild(s); }"
    )
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in v for v in violations(page))
    console_errors.clear()  # the browser's report of that refusal is the point here
