"""End to end in Chromium: a co-handled case. The dispatcher names a co-handling unit; the
lead signs for it, tries to reply and is told which unit it waits for; the co-handler sends
its part from its own inbox; the lead sees the part on its reply form and replies."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.browser.test_e2e import case_status, open_task_of, sign_in, submit_task

PART = "城管已劝离门前占道摊贩，并纳入日常巡查"


def test_a_co_handled_case_in_the_browser(page: Page, live, console_errors, shot):
    with live.app.app_context():
        from tests.workflows.conftest import INTAKE
        from webapp.extensions import db
        from webapp.hotline import get_hotline
        from workflows.cases import flows

        number = flows.open_case(db.session, get_hotline(), data=INTAKE, actor="op1").number
        db.session.commit()

    # -- the dispatcher names the urban management bureau as co-handling unit ---------------
    sign_in(page, live, "disp1")
    open_task_of(page, number)
    page.select_option("#f_lead_department", "B-MR")
    # the co-handlers are ticked in the department picker (the multi-select behind it is hidden)
    page.locator(".dept-picker input[value=B-UM]").check()
    submit_task(page)
    assert case_status(live, number) == "dispatched"

    # -- the lead signs for it, and cannot reply while the co-handler is in time -------------
    live.clock.advance(timedelta(hours=2))
    sign_in(page, live, "h_mr")
    open_task_of(page, number)
    page.check("input[name=action][value=sign]")
    submit_task(page)
    open_task_of(page, number)
    expect(page.locator("#cohandling")).to_contain_text("城市管理和综合执法局")  # pending
    page.check("input[name=action][value=reply]")
    page.fill("#f_reply_text", "已现场检查，责令停业整改")
    page.check("input[name=result][value=resolved]")
    submit_task(page)
    field = page.locator(".field[data-key=reply_text]")
    expect(field.locator(".field-error")).to_contain_text("城市管理和综合执法局")
    expect(page.locator("#f_reply_text")).to_have_value("已现场检查，责令停业整改")
    assert case_status(live, number) == "in_progress"

    # -- the co-handler sends its part from its inbox ------------------------------------------
    live.clock.advance(timedelta(hours=3))
    sign_in(page, live, "h_um")
    expect(page).to_have_url(re.compile(r"/inbox"))
    open_task_of(page, number)
    expect(page.locator("h1")).to_contain_text("协办")
    page.fill("#f_cohandle_text", PART)
    shot(page, "cohandle-task")
    submit_task(page)
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(f"a[href='/cases/{number}']")).to_have_count(0)  # done

    # -- the lead sees the part on its reply form, and replies ---------------------------------
    sign_in(page, live, "h_mr")
    open_task_of(page, number)
    parts = page.locator("#cohandling")
    expect(parts).to_contain_text(PART)
    expect(parts).to_contain_text("按时")
    expect(parts.locator(".cohandling-pending")).to_have_count(0)
    shot(page, "cohandle-parts")
    page.check("input[name=action][value=reply]")
    page.fill("#f_reply_text", "已现场检查，责令停业整改；城管已劝离占道摊贩")
    page.check("input[name=result][value=resolved]")
    submit_task(page)
    assert case_status(live, number) == "replied"

    # -- the case page shows the part -------------------------------------------------------
    page.goto(f"{live.url}/cases/{number}")
    expect(page.locator("#cohandling")).to_contain_text(PART)
    # the one refused reply (422) is the only error the browser saw
    refused = [e for e in console_errors if "status of 422" in e and "/tasks/" in e]
    assert len(refused) == 1
    assert [e for e in console_errors if e not in refused] == []
