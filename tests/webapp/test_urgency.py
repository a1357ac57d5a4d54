"""Urgency first: queues, inboxes and supervision lists put critical cases on top and mark
them; a task row shows the task's own deadline and says which deadline it is."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import select

from engine.models import HumanTask
from tests.webapp.test_cases_pages import advance, case_row, dispatched, open_case
from tests.webapp.test_inbox import act, ready_task
from webapp.extensions import db
from webapp.hotline import get_hotline
from webapp.i18n import local_time

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh"}
MEDICINE = {
    "case_type": "help",
    "category": "药品安全",
    "description": "独居老人急需救命药，家中无人可去药房",
}


def order_on(html: str, *numbers: str) -> list[str]:
    """``numbers`` in the order the page lists them."""
    return sorted(numbers, key=html.index)


def badge_of(html: str, number: str) -> str:
    """The urgency badge next to case ``number``'s link ('' when it has none)."""
    match = re.search(
        rf'href="/cases/{number}">{number}</a>\s*(<strong class="badge[^>]*>[^<]*</strong>)?', html
    )
    assert match, f"{number} is not listed"
    return match.group(1) or ""


def test_a_critical_case_recorded_last_leads_the_dispatch_queue(hotline_app, as_role, clock):
    routine = open_case(hotline_app)
    clock.advance(timedelta(minutes=10))
    urgent = open_case(hotline_app, urgency="urgent")
    clock.advance(timedelta(minutes=10))
    routine_too = open_case(hotline_app)
    clock.advance(timedelta(minutes=10))
    critical = open_case(hotline_app, urgency="critical", **MEDICINE)

    dispatcher = as_role("dispatcher")
    html = dispatcher.get("/queues?queue=dispatch", headers=EN).get_data(as_text=True)
    assert order_on(html, routine, urgent, routine_too, critical) == [
        critical,
        urgent,
        routine,
        routine_too,  # same urgency, no deadline: the older first
    ]
    assert ">Critical<" in badge_of(html, critical) and 'title="Urgency: Critical"' in html
    assert ">Urgent<" in badge_of(html, urgent)
    assert badge_of(html, routine) == "" and badge_of(html, routine_too) == ""
    zh = dispatcher.get("/queues?queue=dispatch", headers=ZH).get_data(as_text=True)
    assert ">特急<" in badge_of(zh, critical) and ">紧急<" in badge_of(zh, urgent)

    # the CSV export keeps the page's order
    rows = dispatcher.get("/queues?queue=dispatch&format=csv").get_data(as_text=True)
    assert order_on(rows, routine, urgent, critical) == [critical, urgent, routine]
    # the case list and the case page mark it too
    assert ">Critical<" in badge_of(
        dispatcher.get("/cases", headers=EN).get_data(as_text=True), critical
    )
    page = dispatcher.get(f"/cases/{critical}", headers=EN).get_data(as_text=True)
    assert '<strong class="badge critical"' in page
    assert '<strong class="badge critical"' not in dispatcher.get(
        f"/cases/{routine}", headers=EN
    ).get_data(as_text=True)


def test_the_sign_for_row_shows_the_sign_for_deadline(hotline_app, as_role):
    number = dispatched(hotline_app)
    task_id = ready_task(hotline_app, number, "sign_for")
    with hotline_app.app_context():
        due = db.session.scalar(select(HumanTask.due_at).where(HumanTask.task_id == task_id))
        sign_due, reply_due = local_time(due), local_time(case_row(hotline_app, number).reply_due)
    assert due is not None and sign_due != reply_due  # the task carries its own deadline

    html = as_role("handler").get("/inbox", headers=EN).get_data(as_text=True)
    cell = re.search(
        r'<small class="deadline-kind">([^<]*)</small> <span class="date">([^<]*)</span><br>', html
    )
    assert cell and cell.groups() == ("Sign-for by", sign_due)
    assert reply_due not in html
    rows = as_role("handler").get("/inbox?format=csv", headers=EN).get_data(as_text=True)
    header, row = list(csv.reader(io.StringIO(rows.lstrip("\ufeff"))))[:2]
    shown = dict(zip(header, row, strict=True))
    assert (shown["Deadline"], shown["Which deadline"]) == (sign_due, "Sign-for by")
    zh = as_role("handler").get("/inbox", headers=ZH).get_data(as_text=True)
    assert '<small class="deadline-kind">签收期限</small>' in zh

    # once signed, the handling task's own deadline is the reply deadline, named as the task's
    act(hotline_app, number, "sign_for", "h_mr", {"action": "sign"})
    html = as_role("handler").get("/inbox", headers=EN).get_data(as_text=True)
    assert (
        f'<small class="deadline-kind">Task due</small> <span class="date">{reply_due}</span><br>'
        in html
    )


def test_a_review_shows_its_own_review_deadline_not_the_reply_deadline(hotline_app, as_role):
    number = dispatched(hotline_app)
    act(
        hotline_app,
        number,
        "sign_for",
        "h_mr",
        {"action": "return", "return_reason": "不属于本单位职责范围"},
    )
    task_id = ready_task(hotline_app, number, "review_return")
    with hotline_app.app_context():
        due = db.session.scalar(select(HumanTask.due_at).where(HumanTask.task_id == task_id))
        reply_due = local_time(case_row(hotline_app, number).reply_due)
        now = get_hotline().clock.now()
        shown = local_time(due)
    # the review limit: one working day from the return, long before the reply deadline
    assert due is not None and now < due <= now + timedelta(days=3)
    html = (
        as_role("dispatcher").get("/queues?queue=review_return", headers=EN).get_data(as_text=True)
    )
    assert (
        f'<small class="deadline-kind">Task due</small> <span class="date">{shown}</span><br>'
        in html
    )
    assert reply_due not in html


def test_the_overdue_list_puts_the_critical_case_first(hotline_app, as_role, clock):
    routine = dispatched(hotline_app)
    act(hotline_app, routine, "sign_for", "h_mr", {"action": "sign"})
    reply_due = case_row(hotline_app, routine).reply_due
    clock.set(reply_due - timedelta(minutes=30))
    critical = dispatched(hotline_app, urgency="critical", **MEDICINE)
    act(hotline_app, critical, "sign_for", "h_mr", {"action": "sign"})
    assert case_row(hotline_app, critical).reply_due > reply_due  # less overdue than routine
    advance(hotline_app, clock, days=3)

    client = as_role("supervisor")
    for path in ("/supervision/overdue", "/supervision/escalated"):
        html = client.get(path, headers=EN).get_data(as_text=True)
        assert order_on(html, routine, critical) == [critical, routine], path
        assert ">Critical<" in badge_of(html, critical) and badge_of(html, routine) == ""
    rows = client.get("/supervision/overdue?format=csv").get_data(as_text=True)
    assert order_on(rows, routine, critical) == [critical, routine]


def row_of(html: str, number: str) -> str:
    """The table row of a case in a list page."""
    match = re.search(
        rf'<tr class="([a-z]*)">\s*<td><a href="/cases/{number}">.*?</tr>', html, re.S
    )
    assert match, number
    return match.group(0)


def test_lists_and_the_case_page_show_each_tasks_own_yellow_and_red(hotline_app, as_role, clock):
    returned_case = dispatched(hotline_app)
    act(
        hotline_app,
        returned_case,
        "sign_for",
        "h_mr",
        {"action": "return", "return_reason": "不属于本单位职责范围"},
    )
    review_id = ready_task(hotline_app, returned_case, "review_return")
    with hotline_app.app_context():
        review_due = local_time(
            db.session.scalar(select(HumanTask.due_at).where(HumanTask.task_id == review_id))
        )
    dispatcher = as_role("dispatcher")
    queue = "/queues?queue=review_return"
    assert 'class="normal"' in row_of(
        dispatcher.get(queue, headers=EN).get_data(as_text=True), returned_case
    )

    advance(hotline_app, clock, hours=30)  # past 80% of the review's working day
    html = dispatcher.get(queue, headers=EN).get_data(as_text=True)
    row = row_of(html, returned_case)
    assert row.startswith('<tr class="yellow">') and ">Yellow<" in row and review_due in row
    inbox = dispatcher.get("/inbox?due_state=yellow", headers=EN).get_data(as_text=True)
    assert returned_case in inbox
    assert returned_case not in dispatcher.get("/inbox?due_state=red").get_data(as_text=True)
    # the case itself is far from its reply deadline: its own badge stays off
    page = dispatcher.get(f"/cases/{returned_case}", headers=EN).get_data(as_text=True)
    tasks = page[page.index('id="tasks"') :]
    assert f"due {review_due}" in tasks and ">Yellow<" in tasks
    # and the task's own page, where the dispatcher decides
    task_page = dispatcher.get(f"/tasks/{review_id}", headers=EN).get_data(as_text=True)
    due_cell = re.search(r'<dd class="task-due">(.*?)</dd>', task_page, re.S)
    assert due_cell and review_due in due_cell.group(1) and ">Yellow<" in due_cell.group(1)

    advance(hotline_app, clock, hours=9)  # Wednesday 00:00: the review is overdue
    row = row_of(dispatcher.get(queue, headers=EN).get_data(as_text=True), returned_case)
    assert row.startswith('<tr class="red">') and ">Red<" in row
    assert returned_case in dispatcher.get("/inbox?due_state=red").get_data(as_text=True)
    csv_rows = dispatcher.get(f"{queue}&format=csv", headers=EN).get_data(as_text=True)
    header, line = list(csv.reader(io.StringIO(csv_rows.lstrip("\ufeff"))))[:2]
    shown = dict(zip(header, line, strict=True))
    assert (shown["Deadline"], shown["Deadline state"]) == (review_due, "Overdue")
    zh = dispatcher.get(f"/cases/{returned_case}", headers=ZH).get_data(as_text=True)
    assert f"期限 {review_due}" in zh[zh.index('id="tasks"') :]
