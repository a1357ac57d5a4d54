"""Lists in Chromium (static/lists.js, docs/lists.md): j/k move a highlighted row, Enter opens
it, / goes to the filters, ? shows the keys; keys typed in a field are the field's; a header
checkbox ticks every case of the page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_e2e import sign_in
from tests.browser.test_live import dispatch


def test_keyboard_navigation_on_the_inbox(page: Page, live, console_errors):
    numbers = [dispatch(live) for _ in range(3)]
    sign_in(page, live, "h_mr")
    page.goto(f"{live.url}/inbox?sort=case&dir=asc")
    rows = page.locator("table[data-list] tbody tr")
    expect(rows).to_have_count(3)
    current = page.locator("table[data-list] tbody tr.kbd-current")
    expect(current).to_have_count(0)

    page.keyboard.press("j")
    expect(current).to_have_count(1)
    expect(rows.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # stays on the last row
    expect(rows.nth(2)).to_have_class(re.compile("kbd-current"))
    page.keyboard.press("k")
    expect(rows.nth(1)).to_have_class(re.compile("kbd-current"))
    expect(rows.nth(2)).not_to_have_class(re.compile("kbd-current"))

    # / goes to the filters; keys typed there are the field's, Esc leaves it
    page.keyboard.press("/")
    field = page.locator("form[data-list-filters] select[name=element]")
    expect(field).to_be_focused()
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile("kbd-current"))
    page.keyboard.press("Escape")
    expect(field).not_to_be_focused()

    # ? shows the help (a dialog), Esc closes it; keys do not move rows under it
    help_box = page.locator("#list-keys")
    expect(help_box).to_be_hidden()
    page.keyboard.press("?")
    expect(help_box).to_be_visible()
    expect(help_box).to_have_attribute("role", "dialog")
    expect(help_box.get_by_text("打开高亮的行")).to_be_visible()
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile("kbd-current"))
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()

    # Enter opens the highlighted row's case
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile("kbd-current"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/cases/{sorted(numbers)[0]}$"))
    assert console_errors == []


def test_select_all_on_the_overdue_list(page: Page, live, console_errors):
    from datetime import timedelta

    for _ in range(2):
        dispatch(live)
    live.clock.advance(timedelta(days=40))
    sign_in(page, live, "sup1")
    page.goto(f"{live.url}/supervision/overdue")
    boxes = page.locator("input[name=numbers]")
    expect(boxes).to_have_count(2)
    all_box = page.locator("input[data-select-all=numbers]")
    all_box.check()
    expect(boxes.nth(0)).to_be_checked()
    expect(boxes.nth(1)).to_be_checked()
    boxes.nth(0).uncheck()
    assert all_box.evaluate("b => b.indeterminate") is True
    expect(all_box).not_to_be_checked()
    boxes.nth(0).check()
    expect(all_box).to_be_checked()
    assert console_errors == []
