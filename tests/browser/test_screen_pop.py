"""End to end in Chromium: the screen pop. A call event sent by the test (through ``ingest``,
the one path the phone system's API takes) shows up on the operator's open intake page
without a reload: the caller's number in the banner and in the form, the call in the form's
hidden field. The case recorded links the call, and its page lists the call with a player.
A second call never overwrites a number the operator typed; on a 390 px phone screen the
banner fits."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.browser.test_e2e import sign_in

#: the poll's period in this test; the page must show a call within a second
POLL = 0.3
SOON = 2000  # ms: expect's patience (the poll answers within POLL)
RECORDING = "https://rec.pbx.example/call-1.wav"


def send(live, call_id: str, event: str, seconds: float = 0, **fields) -> None:
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.calls.service import CallEventIn, ingest

    with live.app.app_context():
        hotline = get_hotline()
        ingest(
            db.session,
            CallEventIn(
                call_id=call_id,
                event=event,
                at=live.clock.now() + timedelta(seconds=seconds),
                **fields,
            ),
            clock=hotline.clock,
            calendar=hotline.calendar.get(),
        )


def test_a_call_pops_up_on_the_intake_page(page: Page, live, console_errors, shot):
    from webapp.headers import allow_recordings

    live.app.config["SCREEN_POP_POLL_SECONDS"] = POLL
    allow_recordings(live.app, "https://rec.pbx.example")  # HOTLINE_RECORDING_HOSTS
    sign_in(page, live, "op1")
    expect(page).to_have_url(re.compile(r"/intake$"))
    page.evaluate("() => { window.reloaded = false; }")  # gone if the page reloads
    banner = page.locator("#screen-pop .pop-banner")
    expect(banner).to_have_count(0)

    send(live, "call-1", "ringing", caller="13800138000", queue="12345", agent="op1")
    expect(banner.locator(".pop-caller")).to_have_text("来电 13800138000", timeout=SOON)
    expect(page.locator("#f_caller_phone")).to_have_value("13800138000", timeout=SOON)
    expect(page.locator("#intake-call-id")).to_have_value("call-1")
    expect(page.locator("#pop-history")).to_be_visible()
    expect(page.locator("#pop-history")).to_contain_text("没有历史工单")
    send(live, "call-1", "answered", 8, agent="op1")
    expect(banner).to_contain_text("通话中", timeout=SOON)
    assert page.evaluate("() => window.reloaded") is False
    shot(page, "screen-pop")

    # -- the operator records the case; the call ends meanwhile -----------------------------
    page.select_option("#f_category", "食品安全")
    page.fill("#f_description", "小区门口餐馆卫生很差")
    send(live, "call-1", "ended", 98, recording_url=RECORDING)
    page.locator("form#intake-form button.primary[type=submit]").click()
    page.wait_for_load_state("load")
    number = "2026030200001"
    expect(page.locator(".flash").first).to_contain_text(number)
    expect(banner).to_have_count(0)  # the call is recorded: no banner for it any more

    page.goto(f"{live.url}/cases/{number}")
    rows = page.locator("#calls tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("13800138000")
    expect(rows.first).to_contain_text("1:30")  # talked from +8 s to +98 s
    player = rows.first.locator("audio")
    expect(player).to_have_attribute("src", RECORDING)
    expect(player).to_have_attribute("preload", "none")  # nothing is fetched until played

    # -- a second call: the number the operator typed stays ----------------------------------
    page.goto(f"{live.url}/intake")
    page.fill("#f_caller_phone", "13900139000")
    send(live, "call-2", "ringing", caller="13700137000", queue="12345", agent="op1")
    expect(banner.locator(".pop-caller")).to_have_text("来电 13700137000", timeout=SOON)
    expect(page.locator("#intake-call-id")).to_have_value("call-2")
    expect(page.locator("#f_caller_phone")).to_have_value("13900139000")

    # -- on a phone-sized screen the banner fits ----------------------------------------------
    page.set_viewport_size({"width": 390, "height": 800})
    page.locator("#screen-pop summary").click()  # the no-case form open too
    overflow = page.evaluate(
        """() => {
          const b = document.querySelector('#screen-pop .pop-banner');
          return [b.scrollWidth - b.clientWidth, b.getBoundingClientRect().right];
        }"""
    )
    assert overflow[0] <= 0 and overflow[1] <= 390, overflow

    # -- and a call with no case, from the banner ---------------------------------------------
    page.select_option("#pop-reason", "wrong_number")
    page.locator("#screen-pop form[data-pop-form] button[type=submit]").first.click()
    expect(page.locator("#screen-pop .pop-done")).to_contain_text("未立案（打错电话）")
    expect(page.locator("#f_caller_phone")).to_have_value("13900139000")  # the form untouched
    # leaving a page cancels the poll it had in flight (the next page polls again)
    cancelled = [e for e in console_errors if "/calls/pop?" in e and "ERR_ABORTED" in e]
    assert [e for e in console_errors if e not in cancelled] == []
