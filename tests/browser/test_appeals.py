"""End to end in Chromium: an appeal (申诉) from filing to upheld. A case is signed for three
days late; the market supervision bureau's handler appeals the overdue mark from the case
page; the supervisor finds it in the review queue and upholds it with a reason; the case page
shows the whole trail (filed, by whom, why; the decision, the reviewer, why) and the
timeline both steps, and the case leaves the department's rates."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.browser.test_e2e import sign_in
from tests.webapp.test_cases_pages import act, case_row

REASON = "系统升级故障，签收按钮不可用，已报信息中心"
DECISION = "经信息中心核实，故障属实"


def test_an_appeal_from_filing_to_upheld(page: Page, live, console_errors, shot):
    with live.app.app_context():
        from tests.workflows.conftest import INTAKE
        from webapp.extensions import db
        from webapp.hotline import get_hotline
        from workflows.cases import flows

        number = flows.open_case(db.session, get_hotline(), data=INTAKE, actor="op1").number
        db.session.commit()
    act(live.app, number, "dispatch", "disp1", {"lead_department": "B-MR"})
    live.clock.advance(timedelta(days=3))
    live.fire_timers()
    act(live.app, number, "sign_for", "h_mr", {"action": "sign"})  # late

    # -- the department's handler appeals the overdue mark from the case page ------------------
    sign_in(page, live, "h_mr")
    page.goto(f"{live.url}/cases/{number}")
    form = page.locator("#appeal-form")
    expect(form).to_be_visible()
    page.select_option("#appeal_ground", "overdue")
    page.fill("#appeal_reason", REASON)
    shot(page, "appeal-file")
    form.locator("button").click()
    expect(page).to_have_url(re.compile(r"/appeals/\d+$"))
    expect(page.locator(".appeal-trail .status")).to_have_text("待审核")

    # -- the supervisor finds it first in the review queue and upholds it ----------------------
    live.clock.advance(timedelta(hours=2))
    sign_in(page, live, "sup1")
    page.goto(f"{live.url}/appeals")
    row = page.locator("#appeals tbody tr").first
    expect(row).to_contain_text(number)
    expect(row.locator(".status")).to_have_text("待审核")
    row.locator("a[href^='/appeals/']").click()
    page.check("input[name=decision][value=upheld]")
    page.fill("#review_reason", DECISION)
    shot(page, "appeal-review")
    page.locator("#review-form button.primary").click()
    expect(page.locator(".appeal-trail .status")).to_have_text("申诉成立")
    expect(page.locator("#review-form")).to_have_count(0)  # decided: no second review

    # -- the case page shows the whole trail, and the timeline both steps ----------------------
    page.goto(f"{live.url}/cases/{number}")
    trail = page.locator("#appeals .appeal-trail")
    expect(trail.locator(".ground")).to_have_text("超期")
    expect(trail.locator(".reason")).to_have_text(REASON)
    expect(trail.locator(".filed")).to_contain_text("市场监管局 黄敏")
    expect(trail.locator(".status")).to_have_text("申诉成立")
    expect(trail.locator(".decided")).to_contain_text("督办 刘洋")
    expect(trail.locator(".decision-reason")).to_have_text(DECISION)
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("提出申诉：超期")
    expect(timeline).to_contain_text("申诉审核：申诉成立（超期）")
    shot(page, "appeal-case-trail", full_page=True)
    assert case_row(live.app, number).appeal_upheld_at == live.clock.now()

    # -- the department sees the figure, linked to its appeals ---------------------------------
    sign_in(page, live, "h_mr")
    page.goto(f"{live.url}/appeals/kpi")
    expect(page.locator("#appeal-kpis td.upheld a")).to_have_text("1")
    page.locator("#appeal-kpis td.upheld a").click()
    expect(page.locator("#appeals tbody tr")).to_have_count(1)
    assert console_errors == []
