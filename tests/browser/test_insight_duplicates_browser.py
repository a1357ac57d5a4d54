"""In Chromium: typing a description at intake shows an open case of the same matter beside
the form, with its reason, and one click records the call and merges it into that case."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_e2e import sign_in
from tests.workflows.dup_pairs import SAME

A, B = SAME[0]


def test_typing_a_description_shows_a_duplicate_with_its_reason(page: Page, live, console_errors):
    from tests.workflows.conftest import INTAKE
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.cases import flows
    from workflows.cases.models import Case

    with live.app.app_context():
        case = flows.open_case(
            db.session, get_hotline(), data={**INTAKE, "description": A}, actor="op2"
        )
        number = case.number
        db.session.commit()
    sign_in(page, live, "op1")
    panel = page.locator("#duplicates")
    expect(panel).not_to_contain_text(number)
    page.fill("#f_caller_phone", "13600000006")
    page.select_option("#f_category", "食品安全")
    page.locator("#f_description").type(B[:30])
    item = panel.locator("li.duplicate", has_text=number)
    expect(item).to_be_visible()
    expect(item.locator(".reasons")).to_contain_text("相似描述")
    item.get_by_role("button").click()
    page.wait_for_load_state("load")
    expect(page.locator(".flash").first).to_contain_text(number)
    with live.app.app_context():
        merged = db.session.query(Case).filter(Case.merged_into_id.isnot(None)).one()
        assert merged.description == B[:30]
    assert console_errors == []
