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


def test_the_department_picker_at_dispatch(page: Page, live, console_errors):
    from sqlalchemy import select

    from tests.workflows.conftest import INTAKE
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.cases import flows
    from workflows.cases.models import Case, CaseDepartment
    from workflows.departments.models import Department

    with live.app.app_context():
        case = flows.open_case(db.session, get_hotline(), data=dict(INTAKE), actor="op1")
        number = case.number
        db.session.commit()
    sign_in(page, live, "disp1")
    page.goto(f"{live.url}/queues?queue=dispatch")
    row = page.locator("tr", has=page.locator(f"a[href='/cases/{number}']"))
    row.locator("a[href^='/tasks/']").first.click()
    form = page.locator("form.task-form")
    expect(form).to_be_visible()

    # the lead: grouped, filtered by typing
    lead = form.locator("select[name=lead_department]")
    expect(lead.locator("optgroup")).not_to_have_count(0)
    assert lead.locator("optgroup").first.get_attribute("label") == "市直部门"
    filters = form.locator("input.dept-filter")
    expect(filters).to_have_count(2)
    expect(form.locator(".dept-none")).to_have_count(2)
    expect(form.locator(".dept-none:visible")).to_have_count(0)  # nothing typed: no "no match"
    filters.nth(0).fill("白沙")
    visible = lead.evaluate(
        "s => Array.from(s.options).filter(o => o.value && !o.hidden).map(o => o.value)"
    )
    assert "S-BS" in visible and "B-UM" not in visible
    filters.nth(0).fill("没有这个单位")
    expect(form.locator(".dept-none:visible")).to_have_count(1)
    filters.nth(0).fill("")
    lead.select_option("B-MR")

    # co-handlers: checkboxes in groups, chips, no Ctrl+click; the hidden select is submitted
    co = form.locator("select[name=co_departments]")
    expect(co).to_be_hidden()
    filters.nth(1).fill("街道")
    picks = form.locator(".dept-picker label.dept-choice:visible")
    assert all("街道" in t for t in picks.all_inner_texts())
    expect(form.locator(".dept-picker legend", has_text="市直部门")).to_be_hidden()
    form.locator(".dept-picker input[value=S-WH]").check()
    filters.nth(1).fill("城市管理")
    form.locator(".dept-picker input[value=B-UM]").check()
    chips = form.locator(".dept-chips .dept-chip")
    expect(chips).to_have_count(2)
    chips.filter(has_text="外海").get_by_role("button").click()
    expect(chips).to_have_count(1)
    form.locator("button.primary[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/queues"))
    with live.app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.number == number))
        co_codes = set(
            db.session.scalars(
                select(Department.code)
                .join(CaseDepartment, CaseDepartment.department_id == Department.id)
                .where(CaseDepartment.case_id == case_id, CaseDepartment.role == "co")
            )
        )
    assert co_codes == {"B-UM"}
    assert console_errors == []
