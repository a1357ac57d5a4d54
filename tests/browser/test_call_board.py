"""End to end in Chromium: the on-duty lead's board refreshes by itself. Call events are
ingested in the test process (``workflows.calls.service.ingest``, as the API does): a ringing
call appears among the calls waiting without a reload, its wait counts up in the page, an
operator's state changes on the board; and the board fits a phone's 390 px."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.browser.test_e2e import sign_in
from tests.browser.test_live import POLL, left_behind


def ring(live, call_id: str, seconds_ago: float, **fields) -> None:
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.calls.service import CallEventIn, ingest

    with live.app.app_context():
        hotline = get_hotline()
        at = hotline.clock.now() - timedelta(seconds=seconds_ago)
        ingest(
            db.session,
            CallEventIn(call_id=call_id, event="ringing", at=at, **fields),
            clock=hotline.clock,
            calendar=hotline.calendar.get(),
        )


def set_state(live, username: str, state: str) -> None:
    from engine.db import unit_of_work
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.calls import agents
    from workflows.users.service import by_username

    with live.app.app_context(), unit_of_work(db.session):
        user = by_username(db.session, username)
        agents.set_state(db.session, user=user, state=state, now=get_hotline().clock.now())


def test_the_board_shows_a_ringing_call_without_a_reload(page: Page, live, console_errors, shot):
    live.app.config["LIVE_POLL_SECONDS"] = POLL
    sign_in(page, live, "lead1")
    page.get_by_role("link", name="值班长看板").click()
    expect(page.locator("h1")).to_have_text("值班长看板")
    waiting = page.locator("#waiting-calls")
    expect(waiting).to_contain_text("没有排队等待的来电")
    expect(page.locator("#tile-waiting .figure")).to_have_text("0")
    page.evaluate("() => { window.reloaded = false; }")  # gone if the page reloads

    ring(live, "e2e-1", 5, caller="13800138000", queue="12345")
    row = waiting.locator("tr[data-call='e2e-1']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("138****8000")
    expect(page.locator("#tile-waiting .figure")).to_have_text("1")
    expect(page.locator("#tile-waiting")).to_have_class(re.compile(r"\balert\b"))
    # the wait counts up in the page from the 5 seconds it had when the board was fetched
    wait = row.locator(".tick")
    expect(wait).to_have_text(re.compile(r"^0:(0[5-9]|[1-5]\d)$"))
    expect(wait).not_to_have_text("0:05")
    assert page.evaluate("() => window.reloaded") is False  # the same page, not a reload

    # an operator's state, set elsewhere, shows up too
    operator = page.locator("#operators tr[data-operator='op2']")
    expect(operator).to_have_attribute("data-state", "offline")
    set_state(live, "op2", "away")
    expect(operator).to_have_attribute("data-state", "away")
    expect(operator).to_contain_text("离开")
    shot(page, "call-board")

    # a phone: nothing wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    expect(row).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot(page, "call-board-phone")
    assert [e for e in console_errors if not left_behind(e)] == []


def test_an_operator_sets_their_state_in_the_header(page: Page, live, console_errors, shot):
    live.app.config["LIVE_POLL_SECONDS"] = POLL
    sign_in(page, live, "op1")
    now = page.locator("#live-agent-state .agent-now")
    expect(now).to_have_text("空闲")  # signing in made them available
    page.locator("#live-agent-state button", has_text="离开").click()
    expect(now).to_have_text("离开")
    # a call answered at them moves the header without a reload
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.calls.service import CallEventIn, ingest

    with live.app.app_context():
        hotline = get_hotline()
        for event in ("ringing", "answered"):
            ingest(
                db.session,
                CallEventIn(
                    call_id="e2e-2",
                    event=event,
                    at=hotline.clock.now() + timedelta(seconds=1),
                    caller="13800138000",
                    agent="op1",
                ),
                clock=hotline.clock,
                calendar=hotline.calendar.get(),
            )
    expect(now).to_have_text("通话中")
    shot(page, "operator-state")
    assert [e for e in console_errors if not left_behind(e)] == []
