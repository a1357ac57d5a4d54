"""End to end in Chromium: a failed callback. The callback agent cannot reach the citizen:
the rating disappears from the form and the reason is asked instead; after three attempts over
two working days the case closes as "citizen not reached", its page lists the attempts, and
the supervisor's KPIs count it as not reached."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.browser.test_e2e import case_status, kpi_numerator, open_task_of, sign_in, submit_task
from tests.webapp.test_callback_pages import awaiting_callback


def test_a_citizen_not_reached_closes_the_case(page: Page, live, console_errors, shot):
    number = awaiting_callback(live.app)

    for day, reason in enumerate(("no_answer", "busy", "wrong_number")):
        sign_in(page, live, "cb1")
        expect(page).to_have_url(re.compile(r"/inbox"))
        open_task_of(page, number)
        satisfaction = page.locator(".field[data-key=satisfaction]")
        why = page.locator(".field[data-key=unreached_reason]")
        expect(satisfaction).to_be_visible()
        expect(why).to_be_hidden()
        page.check("input[name=contact_result][value=not_reached]")
        expect(satisfaction).to_be_hidden()  # no rating from a citizen not reached
        expect(page.locator(".field[data-key=resolved]")).to_be_hidden()
        expect(why).to_be_visible()
        if day == 0:
            submit_task(page)  # without a reason: refused next to the field
            expect(why.locator(".field-error")).to_be_visible()
            expect(page.locator("input[name=contact_result][value=not_reached]")).to_be_checked()
            expect(satisfaction).to_be_hidden()
            shot(page, "callback-not-reached-error")
        page.check(f"input[name=unreached_reason][value={reason}]")
        page.fill("#f_callback_note", f"第{day + 1}次回访")
        submit_task(page)
        flash = page.locator(".flash").first
        expect(flash).to_contain_text("已完成“回访”")
        if day < 2:
            expect(flash).to_contain_text("待回访")  # back for another attempt
            assert case_status(live, number) == "awaiting_callback"
            live.clock.advance(timedelta(days=1))
            live.fire_timers()
    expect(page.locator(".flash").first).to_contain_text("已办结")
    assert case_status(live, number) == "closed"

    # -- the case page: the attempts, and the outcome ---------------------------------------
    page.goto(f"{live.url}/cases/{number}")
    rows = page.locator("#callback-attempts tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("无人接听")
    expect(rows.nth(1)).to_contain_text("占线")
    expect(rows.nth(2)).to_contain_text("号码错误")
    expect(rows.nth(2)).to_contain_text("第3次回访")
    expect(page.locator("#fields")).to_contain_text("办结（未联系上市民）")
    shot(page, "case-not-reached", full_page=True)

    # -- supervisors no longer call back; their KPIs count the case as not reached ---------
    sign_in(page, live, "sup1")
    page.goto(f"{live.url}/kpi?start=2026-03-01&end=2026-03-31")
    assert kpi_numerator(page, "not_reached") == (1, 1)
    assert kpi_numerator(page, "callback") == (0, 1)
    expect(page.locator("#kpi-legend")).to_contain_text("未联系上率")
    # the one error the browser saw is the refused submission (422, the form again)
    refused = [e for e in console_errors if "status of 422" in e and "/tasks/" in e]
    assert len(refused) == 1
    assert [e for e in console_errors if e not in refused] == []
