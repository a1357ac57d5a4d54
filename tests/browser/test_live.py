"""End to end in Chromium: a handler's inbox refreshes by itself. Cases are dispatched to
their department in the test process (the services, and the worker's outbox delivery, as
`hotline worker` runs it): each new sign-for task appears in the open inbox without a reload,
the bell counts the dispatch notices, and what the handler was doing on the page is kept."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_e2e import sign_in

#: seconds between polls in these tests (the page reads it from <body data-live-interval>)
POLL = 0.3


def dispatch(live, lead: str = "B-MR", **intake) -> str:
    """A new case, dispatched to ``lead`` by disp1, and the outbox delivered (the notices)."""
    from sqlalchemy import select

    from engine.models import HumanTask
    from tests.workflows.conftest import INTAKE
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from webapp.scheduler import outbox_service
    from workflows.cases import flows
    from workflows.users.service import by_username

    with live.app.app_context():
        session, hotline = db.session, get_hotline()
        case = flows.open_case(session, hotline, data={**INTAKE, **intake}, actor="op1")
        task_id = session.scalar(
            select(HumanTask.task_id).where(
                HumanTask.instance_id == case.instance_id, HumanTask.state == "ready"
            )
        )
        flows.complete_task(
            session,
            hotline,
            task_id=task_id,
            data={"lead_department": lead},
            user=by_username(session, "disp1"),
        )
        number = case.number
        session.commit()
    outbox_service(live.app).drain()
    return number


def test_the_inbox_shows_a_new_case_without_a_reload(page: Page, live, console_errors, shot):
    live.app.config["LIVE_POLL_SECONDS"] = POLL
    first = dispatch(live)
    sign_in(page, live, "h_mr")
    page.goto(f"{live.url}/inbox")
    rows = page.locator("#live-tasks")
    expect(rows.locator(f"a[href='/cases/{first}']")).to_be_visible()
    count = page.locator("#bell .bell-count")
    expect(count).to_be_visible()  # the first dispatch's notice
    before = int(count.inner_text())

    # the handler picks a filter but has not applied it yet; meanwhile a case arrives
    page.select_option("select[name=due_state]", "red")
    page.evaluate("() => { window.reloaded = false; }")  # gone if the page reloads
    second = dispatch(live, caller_phone="13900139000")
    expect(rows.locator(f"a[href='/cases/{second}']")).to_be_visible()
    expect(rows.locator("tr.live-new")).to_have_count(1)
    expect(count).to_have_text(str(before + 1))
    expect(page.locator("#bell")).to_have_attribute("aria-label", f"通知：{before + 1} 条未读")
    expect(page.locator("#live-status")).to_have_text("新增 1 条")  # for screen readers
    expect(page.locator("select[name=due_state]")).to_have_value("red")  # kept
    assert page.evaluate("() => window.reloaded") is False  # the same page, not a reload
    shot(page, "live-inbox")

    # a case for another department changes nothing here
    other = dispatch(live, "B-HU", caller_phone="13700137000")
    # while the handler is in the list (a link focused), the new list waits for them
    rows.locator(f"a[href='/cases/{first}']").focus()
    third = dispatch(live, caller_phone="13600136000")
    waiting = page.locator("#live-tasks-waiting button")
    expect(waiting).to_have_text("列表有更新，点击显示")
    expect(count).to_have_text(str(before + 2))  # the bell does not wait
    expect(rows.locator(f"a[href='/cases/{third}']")).to_have_count(0)
    expect(rows.locator(f"a[href='/cases/{first}']")).to_be_focused()
    waiting.click()
    expect(rows.locator(f"a[href='/cases/{third}']")).to_be_visible()
    expect(page.locator("#live-tasks-waiting")).to_have_count(0)
    expect(rows).to_be_focused()  # where the button was: the list it showed
    expect(rows.locator(f"a[href='/cases/{other}']")).to_have_count(0)

    # the bell leads to the notifications; following one marks it read
    page.locator("#bell").click()
    expect(page).to_have_url(re.compile(r"/notifications$"))
    newest = page.locator(".notifications li").first
    expect(newest).to_contain_text("派单通知")
    expect(newest).to_have_class(re.compile(r"\bunread\b"))
    shot(page, "notifications")
    newest.locator(f"a:text('{third}')").click()
    expect(page).to_have_url(re.compile(rf"/cases/{third}$"))
    expect(count).to_have_text(str(before + 1))
    assert [e for e in console_errors if not left_behind(e)] == []


def left_behind(error: str) -> bool:
    """A poll, or a live list fetched again, still on its way when a click left the page:
    the browser cancels it."""
    live_pages = r"/(live|notifications|inbox|queues|supervision/\w+|sms/replies)[? ]"
    return re.search(live_pages, error) is not None and "net::ERR_ABORTED" in error


def test_the_overdue_list_waits_while_cases_are_ticked(page: Page, live, console_errors):
    """A supervisor ticks a case and types instructions; a new case falls overdue: the list
    says so but waits, the instructions stay, and the new list comes when asked for."""
    from datetime import timedelta

    live.app.config["LIVE_POLL_SECONDS"] = POLL
    first = dispatch(live)
    live.clock.advance(timedelta(days=30))
    sign_in(page, live, "sup1")
    page.goto(f"{live.url}/supervision/overdue")
    rows = page.locator("#live-overdue")
    expect(rows.locator(f"a[href='/cases/{first}']")).to_be_visible()
    rows.locator(f"input[name=numbers][value='{first}']").check()
    page.fill("textarea[name=note]", "请今日内联系市民并反馈")
    page.locator("textarea[name=note]").blur()

    second = dispatch(live, caller_phone="13900139000")
    live.clock.advance(timedelta(days=30))
    waiting = page.locator("#live-overdue-waiting button")
    expect(waiting).to_be_visible()
    expect(rows.locator(f"a[href='/cases/{second}']")).to_have_count(0)
    expect(rows.locator(f"input[name=numbers][value='{first}']")).to_be_checked()
    waiting.click()
    expect(rows.locator(f"a[href='/cases/{second}']")).to_be_visible()
    expect(page.locator("textarea[name=note]")).to_have_value("请今日内联系市民并反馈")
    # the box ticked in a row still listed stays ticked; the new row's is not
    expect(rows.locator(f"input[name=numbers][value='{first}']")).to_be_checked()
    expect(rows.locator(f"input[name=numbers][value='{second}']")).not_to_be_checked()
    assert [e for e in console_errors if not left_behind(e)] == []


def sms_reply(live, text: str) -> int:
    """A citizen's text to the centre that waits for a person (as the gateway's webhook
    leaves one with no case found)."""
    from webapp.extensions import db
    from workflows.notifications.models import SmsInbound

    with live.app.app_context():
        row = SmsInbound(
            from_phone="13800138000",
            text=text,
            received_at=live.clock.now(),
            kind="unmatched",
            status="open",
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def test_a_note_typed_in_the_sms_queue_survives_a_new_text(page: Page, live, console_errors):
    live.app.config["LIVE_POLL_SECONDS"] = POLL
    first = sms_reply(live, "路灯还是不亮")
    sign_in(page, live, "cb1")
    page.goto(f"{live.url}/sms/replies")
    rows = page.locator("#live-sms-replies")
    expect(rows.locator(f"tr[data-id='{first}']")).to_be_visible()
    page.fill(f"#note-{first}", "已电话联系市民")
    page.locator("h1").click()  # the focus leaves the list; the typed note is still in it

    second = sms_reply(live, "谢谢，已经修好了")
    expect(page.locator("#live-sms-replies-waiting button")).to_be_visible()
    expect(rows.locator(f"tr[data-id='{second}']")).to_have_count(0)
    page.locator("#live-sms-replies-waiting button").click()
    expect(rows.locator(f"tr[data-id='{second}']")).to_be_visible()
    expect(rows.locator("#sms-open-count")).to_have_attribute("data-count", "2")
    expect(page.locator(f"#note-{first}")).to_have_value("已电话联系市民")  # carried over
    expect(page.locator(f"#note-{second}")).to_have_value("")
    # and the note is sent with its row
    rows.locator(f"tr[data-id='{first}'] button.primary").click()
    expect(page.locator(".flash")).to_be_visible()
    from webapp.extensions import db
    from workflows.notifications.models import SmsInbound

    with live.app.app_context():
        assert db.session.get(SmsInbound, first).extra["note"] == "已电话联系市民"
    assert [e for e in console_errors if not left_behind(e)] == []
