"""In Chromium: printing a case page (print media) shows the record without the navigation,
forms, buttons or the diagram, with the centre's name at the top."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_csp import opened, violations, watched  # noqa: F401
from tests.browser.test_e2e import sign_in


def test_a_printed_case_page_is_the_record_alone(watched: Page, live):  # noqa: F811
    from tests.webapp.test_cases_pages import dispatched

    page = watched
    number = dispatched(live.app)
    sign_in(page, live, "sup1")
    opened(page, f"{live.url}/cases/{number}")
    # on screen: navigation, the print links and the note form; no print heading
    expect(page.locator("header.top nav")).to_be_visible()
    expect(page.locator("#print-links")).to_be_visible()
    expect(page.locator(".print-head")).to_be_hidden()
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("#print-links")).to_be_hidden()
    expect(page.locator("#notes form")).to_be_hidden()
    expect(page.locator("#process")).to_be_hidden()
    expect(page.locator(".print-head")).to_be_visible()
    expect(page.locator(".print-head")).to_contain_text("12345热线")
    expect(page.locator("#fields")).to_contain_text("小区门口餐馆卫生很差")
    expect(page.locator("#timeline")).to_be_visible()
    assert page.locator("button:visible").count() == 0
    page.emulate_media(media="screen")
    expect(page.locator("header.top nav")).to_be_visible()
