"""The case page's diagram as drawn in the browser speaks the page's language: its lanes by
the role's name (the bundled diagrams name them by role code), its tasks by the language's
half of their bilingual names (docs/glossary.md)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_e2e import sign_in


def test_the_case_diagram_is_drawn_in_the_pages_language(page: Page, live, console_errors):
    from tests.webapp.test_intake import open_case

    number = open_case(live.app)
    sign_in(page, live, "sup1")
    page.goto(f"{live.url}/cases/{number}")
    diagram = page.locator("#case-diagram")
    expect(diagram.locator(".djs-element").first).to_be_attached()
    expect(diagram).to_contain_text("派单员")
    expect(diagram).to_contain_text("签收")
    drawn = diagram.inner_text()
    assert "dispatcher" not in drawn and "Sign for" not in drawn

    page.click("header form button[name=lang][value=en]")
    page.wait_for_load_state("load")
    diagram = page.locator("#case-diagram")
    expect(diagram.locator(".djs-element").first).to_be_attached()
    expect(diagram).to_contain_text("Dispatcher")
    expect(diagram).to_contain_text("Sign for")
    assert "派单员" not in diagram.inner_text()
    assert console_errors == []
