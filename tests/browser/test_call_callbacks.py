"""End to end in Chromium: a missed call appears on the operators' callback list without a
reload, and an operator works it from the list to a close with no case needed."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.browser.test_e2e import sign_in
from tests.browser.test_live import POLL, left_behind


def miss(live, call_id: str, caller: str) -> None:
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.calls.service import CallEventIn, ingest

    with live.app.app_context():
        hotline = get_hotline()
        at = hotline.clock.now() - timedelta(minutes=1)
        ingest(
            db.session,
            CallEventIn(call_id=call_id, event="missed", at=at, caller=caller, queue="12345"),
            clock=hotline.clock,
            calendar=hotline.calendar.get(),
        )


def test_a_missed_call_is_called_back(page: Page, live, console_errors):
    live.app.config["LIVE_POLL_SECONDS"] = POLL
    sign_in(page, live, "op1")
    page.get_by_role("link", name="未接来电回拨 0 件").click()
    expect(page.locator("h1")).to_have_text("未接来电回拨")
    page.evaluate("() => { window.reloaded = false; }")  # gone if the page reloads

    miss(live, "e2e-m1", "13800138000")
    row = page.locator("#call-callbacks tbody tr[data-id]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("13800138000")
    assert page.evaluate("() => window.reloaded") is False

    row.get_by_role("link", name="13800138000").click()
    page.get_by_role("button", name="我来回拨").click()
    expect(page.locator("#callback-claimed")).to_have_text("接线员 李娜 Li Na")  # op1, by name
    page.get_by_label("已联系上", exact=True).check()
    page.get_by_label("备注").fill("咨询公交时刻，已告知，无需立案")
    page.get_by_role("button", name="记录", exact=True).click()
    expect(page.locator("#callback-state")).to_have_attribute("data-state", "done")
    page.get_by_role("link", name="未接来电回拨", exact=True).first.click()
    expect(page.locator("#call-callbacks tbody tr[data-id]")).to_have_count(0)
    assert [e for e in console_errors if not left_behind(e)] == []
