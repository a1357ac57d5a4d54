"""Lists that work (issue 20, item 4; docs/lists.md): sorting by a column, a page past the last,
the task filter a role can use, dates that do not wrap, the keyboard help."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from lxml import etree

from tests.webapp.test_inbox import act, dispatched
from tests.webapp.test_intake import open_case
from tests.webapp.test_pagination import LISTS

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh"}


def order_in(html: str, numbers: list[str]) -> list[str]:
    """``numbers`` in the order the page shows them (by their first case link)."""
    found = [m for m in re.findall(r'href="/cases/([^"?#/]+)"', html) if m in numbers]
    return list(dict.fromkeys(found))


# -- sorting --------------------------------------------------------------------------------


def test_the_case_list_sorts_by_a_column_both_ways(hotline_app, as_role):
    normal = open_case(hotline_app, urgency="normal")
    critical = open_case(hotline_app, urgency="critical")
    urgent = open_case(hotline_app, urgency="urgent")
    client = as_role("supervisor")
    numbers = [normal, critical, urgent]
    # its own order: newest first
    assert order_in(client.get("/cases").get_data(True), numbers) == [urgent, critical, normal]
    html = client.get("/cases?sort=urgency&dir=asc", headers=EN).get_data(True)
    assert order_in(html, numbers) == [critical, urgent, normal]
    # the header shows the order, and its link turns it round
    assert re.search(
        r'<th aria-sort="ascending"[^>]*><a href="/cases\?sort=urgency&amp;dir=desc"', html
    )
    assert "▲" in html
    html = client.get("/cases?sort=urgency&dir=desc").get_data(True)
    assert order_in(html, numbers) == [normal, urgent, critical]
    html = client.get("/cases?sort=number&dir=asc").get_data(True)
    assert order_in(html, numbers) == sorted(numbers)
    # the filters and the sort are kept together, and paging keeps both
    html = client.get("/cases?urgency=critical&sort=created&dir=asc", headers=EN).get_data(True)
    assert order_in(html, numbers) == [critical]
    assert 'name="sort" value="created"' in html and 'name="dir" value="asc"' in html
    assert 'href="/cases?urgency=critical&amp;sort=number&amp;dir=desc"' in html
    html = client.get("/cases?per_page=1&sort=number&dir=asc", headers=EN).get_data(True)
    assert order_in(html, numbers) == [min(numbers)]
    assert "sort=number&amp;dir=asc&amp;page=2" in html
    page2 = client.get("/cases?per_page=1&sort=number&dir=asc&page=2").get_data(True)
    assert order_in(page2, numbers) == [sorted(numbers)[1]]


def test_the_case_csv_follows_the_sort(hotline_app, as_role):
    numbers = [open_case(hotline_app) for _ in range(3)]
    client = as_role("supervisor")
    for direction, expected in (("asc", sorted(numbers)), ("desc", sorted(numbers)[::-1])):
        body = client.get(f"/cases?format=csv&sort=number&dir={direction}").get_data(True)
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))[1:]
        assert [r[0] for r in rows if r[0] in numbers] == expected


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("supervisor", "/cases"),
        ("dispatcher", "/inbox"),
        ("dispatcher", "/queues"),
        ("supervisor", "/supervision/overdue"),
        ("supervisor", "/supervision/escalated"),
        ("admin", "/admin/users"),
        ("admin", "/admin/departments"),
        ("admin", "/admin/dispatch"),
        ("admin", "/admin/knowledge"),
    ],
)
def test_an_unknown_sort_is_a_clear_400(hotline_app, as_role, role, path):
    client = as_role(role)
    response = client.get(f"{path}?sort=caller_name", headers=EN)
    assert response.status_code == 400
    html = response.get_data(True)
    assert "Sort: unknown column caller_name; one of:" in html
    response = client.get(f"{path}?sort=number&dir=sideways", headers=EN)
    if "number" in html:  # the list sorts by number: the direction is what is wrong
        assert response.status_code == 400
        assert "Sort direction: unknown value sideways" in response.get_data(True)
    zh = client.get(f"{path}?sort=caller_name", headers=ZH).get_data(True)
    assert "排序：未知的列 caller_name" in zh
    # hostile values: a clear answer, never a 500
    for query in ("sort=%00", "sort=" + "x" * 5000, "sort=<script>", "dir=%FF&sort=", "sort=&dir="):
        response = client.get(f"{path}?{query}", headers=EN)
        assert response.status_code in (200, 400), (query, response.status_code)
        assert "<script>" not in response.get_data(True).split("</header>", 1)[-1]
    # a good sort of the same list answers
    good = {"/admin/dispatch": "priority"}.get(path, "active" if "/admin" in path else "urgency")
    assert client.get(f"{path}?sort={good}&dir=desc").status_code == 200


def test_the_inbox_and_queue_sort(hotline_app, as_role):
    first = open_case(hotline_app, urgency="normal", category="食品安全")
    second = open_case(hotline_app, urgency="critical", category="噪音扰民")
    numbers = [first, second]
    disp = as_role("dispatcher")
    # its own order: the most urgent first
    assert order_in(disp.get("/queues?queue=dispatch").get_data(True), numbers) == [second, first]
    html = disp.get("/queues?queue=dispatch&sort=received&dir=asc").get_data(True)
    assert order_in(html, numbers) == [first, second]
    assert 'href="/queues?queue=dispatch&amp;sort=received&amp;dir=desc"' in html
    # the other queues' tabs keep the order
    assert 'href="/queues?queue=review_return&amp;sort=received&amp;dir=asc"' in html
    html = disp.get("/inbox?sort=case&dir=desc").get_data(True)
    assert order_in(html, numbers) == [second, first]
    body = disp.get("/queues?queue=dispatch&format=csv&sort=received&dir=asc").get_data(True)
    rows = [r[0] for r in csv.reader(io.StringIO(body.lstrip("\ufeff")))]
    assert [n for n in rows if n in numbers] == [first, second]


def test_the_overdue_list_sorts(hotline_app, as_role, clock):
    from datetime import timedelta

    early = dispatched(hotline_app)
    late = dispatched(hotline_app, urgency="urgent")
    clock.advance(timedelta(days=40))
    client = as_role("supervisor")
    own = order_in(client.get("/supervision/overdue").get_data(True), [early, late])
    assert own == [late, early]  # the most urgent first
    html = client.get("/supervision/overdue?sort=number&dir=asc").get_data(True)
    assert order_in(html, [early, late]) == sorted([early, late])
    html = client.get("/supervision/overdue?sort=number&dir=desc").get_data(True)
    assert order_in(html, [early, late]) == sorted([early, late], reverse=True)


# -- a page past the last -------------------------------------------------------------------


PAGE_OF = re.compile(r"Page (\d+) of (more than )?(\d+)")


@pytest.mark.parametrize(("role", "path"), LISTS)
def test_a_page_past_the_last_is_the_last_on_every_list(hotline_app, as_role, role, path):
    for _ in range(2):  # every list of cases and tasks has two rows at least
        number = open_case(hotline_app)
        act(hotline_app, number, "dispatch", "disp1", {"lead_department": "B-MR"})
    open_case(hotline_app)
    client = as_role(role)
    response = client.get(f"{path}?per_page=1&page=99999", headers=EN)
    assert response.status_code == 200
    html = response.get_data(True)
    shown = PAGE_OF.search(html)
    if shown is None:  # one page only: "N in all", never "page 99999"
        assert "Page 99999" not in html and "of 99999" not in html
        return
    assert shown.group(2) is None and shown.group(1) == shown.group(3), (path, shown.group(0))
    assert 'rel="next"' not in html and 'rel="prev"' in html
    zh = client.get(f"{path}?per_page=1&page=99999", headers=ZH).get_data(True)
    assert "99999 /" not in zh and "第 99999" not in zh


# -- filters the viewer can use -------------------------------------------------------------


def test_the_task_filter_offers_only_a_roles_steps(hotline_app, as_role):
    html = as_role("handler").get("/inbox", headers=EN).get_data(True)
    select = re.search(r'<select name="element">(.*?)</select>', html, re.S).group(1)
    offered = re.findall(r'<option value="(\w+)"', select)
    assert offered == ["sign_for", "handle", "resume", "cohandle", "answer_supervision"]
    assert "Dispatch" not in select and "Call back" not in select
    refused = as_role("handler").get("/inbox?element=dispatch", headers=EN).get_data(True)
    assert "Task type: Dispatch is never in your inbox, showing all." in refused
    html = as_role("dispatcher").get("/inbox", headers=EN).get_data(True)
    select = re.search(r'<select name="element">(.*?)</select>', html, re.S).group(1)
    assert "Review return" in select and "Sign for" not in select


def test_role_steps_are_the_bundled_diagrams_lanes():
    """ROLE_STEPS is what the bundled diagrams put in each lane (a diagram changed, the table
    follows)."""
    from webapp.inbox.labels import ROLE_STEPS

    ns = {
        "b": "http://www.omg.org/spec/BPMN/20100524/MODEL",
        "s": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    }
    found: dict[str, set[str]] = {}
    for path in Path(__file__).parents[2].joinpath("bpmn").glob("*.bpmn"):
        tree = etree.parse(str(path))
        lanes = {
            ref.text: lane.get("name")
            for lane in tree.iterfind(".//b:lane", ns)
            for ref in lane.iterfind("b:flowNodeRef", ns)
        }
        for task in tree.iterfind(".//b:userTask", ns):
            step = next(
                (
                    p.get("value")
                    for p in task.iterfind(".//s:property", ns)
                    if p.get("name") == "step"
                ),
                None,
            )
            if step:
                found.setdefault(lanes[task.get("id")], set()).add(step)
    assert found == {role: set(steps) for role, steps in ROLE_STEPS.items()}


# -- dates, keys ----------------------------------------------------------------------------


def test_list_dates_do_not_wrap_and_the_keys_are_offered(hotline_app, as_role):
    open_case(hotline_app)
    client = as_role("supervisor")
    html = client.get("/cases", headers=EN).get_data(True)
    assert re.search(r'<td class="date">\d{4}-\d\d-\d\d', html)
    assert 'href="/static/lists.css' in html and 'src="/static/lists.js' in html
    assert 'id="list-keys"' in html and 'role="dialog"' in html and "data-list-filters" in html
    response = client.get("/static/lists.css")
    css = response.get_data(True)
    response.close()
    assert re.search(r"td\.date[^{]*\{[^}]*white-space: nowrap", css)
    html = as_role("dispatcher").get("/queues", headers=EN).get_data(True)
    assert 'class="date"' in html and "Press ? for keyboard shortcuts." in html


# -- the dispatch queue: a description preview; category and urgency corrected at dispatch ---


def test_the_dispatch_queue_previews_the_description(hotline_app, as_role):
    long_text = "楼下烧烤店油烟直排" + "，每天晚上十点以后仍在营业" * 8
    number = open_case(hotline_app, description=long_text)
    short = open_case(hotline_app, description="路灯不亮了很久")
    html = as_role("dispatcher").get("/queues?queue=dispatch", headers=EN).get_data(True)
    row = re.search(rf'href="/cases/{number}".*?</tr>', html, re.S).group(0)
    assert '<details class="desc-preview">' in row
    assert f'title="{long_text}"' in row and f'<p class="full">{long_text}</p>' in row
    summary = re.search(r"<summary[^>]*>(.*?)<span", row).group(1)
    assert long_text.startswith(summary) and len(summary) <= 60
    row = re.search(rf'href="/cases/{short}".*?</tr>', html, re.S).group(0)
    assert "路灯不亮了很久" in row and "<details" not in row
    # the inbox of a handler does not carry the column
    assert "desc-preview" not in as_role("handler").get("/inbox").get_data(True)


def test_the_dispatcher_corrects_category_and_urgency(hotline_app, as_role):
    from tests.webapp.test_inbox import submit, task_link
    from tests.webapp.test_intake import case_row

    kept = open_case(hotline_app)
    number = open_case(hotline_app)
    disp = as_role("dispatcher")
    page = task_link(disp.get("/queues?queue=dispatch").get_data(True), number)
    html = disp.get(page, headers=EN).get_data(True)
    assert "Category (correct it if it is wrong)" in html
    assert re.search(r'<select id="f_urgency"[^>]*>.*?value="normal" selected', html, re.S)

    # a category outside the list, an urgency outside the values: refused, nothing changed
    for field, bad in (("category", "不存在的分类"), ("urgency", "whenever")):
        response = submit(disp, page, {"lead_department": "B-MR", field: bad}, headers=EN)
        assert response.status_code == 422
        assert re.search(
            rf'data-key="{field}".*?class="field-error"', response.get_data(True), re.S
        )
        row = case_row(hotline_app, number)
        assert (row.category, row.urgency, row.status) == (
            "食品安全",
            "normal",
            "awaiting_dispatch",
        )

    response = submit(
        disp, page, {"lead_department": "B-MR", "category": "噪音扰民", "urgency": "critical"}
    )
    assert response.status_code == 303
    row = case_row(hotline_app, number)
    assert (row.category, row.urgency, row.status) == ("噪音扰民", "critical", "dispatched")
    # the deadlines follow the new urgency: sooner than a normal case's dispatched alongside
    task = task_link(disp.get("/queues?queue=dispatch").get_data(True), kept)
    assert submit(disp, task, {"lead_department": "B-MR"}).status_code == 303
    normal = case_row(hotline_app, kept)
    assert (normal.category, normal.urgency) == ("食品安全", "normal")  # not corrected: kept
    assert row.reply_due < normal.reply_due

    # the case history says what changed, old and new, and who did it
    sup = as_role("supervisor")
    html = sup.get(f"/cases/{number}", headers=EN).get_data(True)
    assert "Corrected at dispatch" in html
    assert "食品安全 → 噪音扰民" in html and "Normal → Critical" in html
    zh = sup.get(f"/cases/{number}", headers=ZH).get_data(True)
    assert "派单时更正" in zh and "一般 → 特急" in zh
    assert "Corrected at dispatch" not in sup.get(f"/cases/{kept}", headers=EN).get_data(True)


# -- every KPI figure links to its cases ----------------------------------------------------


def _in_all(html: str) -> int:
    found = re.search(r"\((\d+) in all\)|(\d+) in all", html)
    assert found, "no count on the case list"
    return int(found.group(1) or found.group(2))


def test_every_kpi_figure_links_to_exactly_its_cases(hotline_app, as_role, clock):
    from datetime import timedelta

    from tests.api.test_case_filters import add

    now = clock.now()
    day = timedelta(days=1)
    add(hotline_app, lead="B-MR", dispatched_at=now - day, reply_due=now + 5 * day)
    add(
        hotline_app,
        lead="B-MR",
        status="closed",
        dispatched_at=now - day,
        signed_at=now - day,
        sign_due=now,
        reply_due=now + day,
        replied_at=now - day / 2,
        closed_at=now - day / 3,
        satisfaction="satisfied",
        resolved=True,
    )
    add(
        hotline_app,
        lead="B-UM",
        case_type="report",
        status="closed",
        dispatched_at=now - day,
        reply_due=now - day / 2,
        replied_at=now - day / 4,
        closed_at=now - day / 5,
        return_count=1,
        reopen_count=1,
        satisfaction="unsatisfied",
        resolved=False,
    )
    add(hotline_app, lead="B-UM", dispatched_at=now - day, reply_due=now - day / 3)  # overdue
    add(hotline_app, status="closed", intake_outcome="answered", closed_at=now - day)
    add(hotline_app, created_at=now - 60 * day)  # before the period: in no figure

    client = as_role("supervisor")
    html = client.get("/kpi", headers=EN).get_data(True)
    links = re.findall(r'<a href="(/cases\?[^"]+)" class="figure"[^>]*>(\d+)</a>', html)
    assert len(links) > 40  # the totals, each department's and case type's figures
    checked = set()
    for href, figure in links:
        href = href.replace("&amp;", "&")
        if href in checked:
            continue
        checked.add(href)
        page = client.get(href + "&per_page=200", headers=EN)
        assert page.status_code == 200, href
        assert _in_all(page.get_data(True)) == int(figure), (href, figure)
    # figures that are not zero were among them: the equality was not only 0 == 0
    assert sum(int(f) for _h, f in links) > 30
    totals = re.search(r'<table class="kpi" id="totals">.*?</table>', html, re.S).group(0)
    cases_link = re.search(r'data-kpi="cases".*?<a href="([^"]+)"[^>]*>(\d+)</a>', totals, re.S)
    assert cases_link.group(2) == "5"
    assert "kpi=cases" in cases_link.group(1)
    # the cases never dispatched have their links too (no lead department)
    assert any("dispatched=no" in href for href, _f in links)
    # the list says which figure it shows, in both languages, and can drop it
    listing = client.get(links[0][0].replace("&amp;", "&"), headers=EN).get_data(True)
    assert "The cases behind a KPI figure:" in listing and "Remove this filter" in listing
    zh = client.get("/cases?kpi=overdue&kpi_part=n", headers=ZH).get_data(True)
    assert "考核指标对应的工单：超期率（分子）。" in zh
    en = client.get("/cases?kpi=overdue&kpi_part=d", headers=EN).get_data(True)
    assert re.search(r"The cases behind a KPI figure: [^<]+ \(denominator\)\.", en)


def test_a_bad_kpi_filter_names_its_field(hotline_app, as_role):
    client = as_role("supervisor")
    for query, message in (
        ("kpi=nonsense", "Not one of the choices."),
        ("kpi=overdue", "Numerator (n) or denominator (d) of the rate."),
        ("kpi=overdue&kpi_part=x", "Numerator (n) or denominator (d) of the rate."),
        ("kpi_part=n", "Choose the KPI too."),
    ):
        response = client.get(f"/cases?{query}", headers=EN)
        assert response.status_code == 400, query
        html = response.get_data(True)
        shown = re.search(r'<p class="kpi-filter" id="kpi-filter">.*?</p>', html, re.S).group(0)
        assert f'<span class="field-error" role="alert">{message}</span>' in shown, query
    assert client.get("/cases?kpi=dispatched").status_code == 200  # a count needs no part


def test_the_dispatch_page_carries_the_department_tree(hotline_app, as_role):
    import html as html_lib
    import json

    from tests.webapp.test_inbox import task_link

    number = open_case(hotline_app)
    disp = as_role("dispatcher")
    page = disp.get(task_link(disp.get("/queues").get_data(True), number), headers=EN)
    html = page.get_data(True)
    # without the script the plain selects still work
    assert '<select id="f_lead_department" name="lead_department">' in html
    assert '<select id="f_co_departments" name="co_departments" multiple' in html
    data = re.search(
        r'<script type="application/json" id="department-tree"[^>]*>(.*?)</script>', html, re.S
    )
    tree = json.loads(html_lib.unescape(data.group(1)))
    groups = list(dict.fromkeys(u["group"] for u in tree))
    assert groups == [
        "City bureaus",
        "Jianghai District platform",  # by code: D-JH, D-PJ, D-XH
        "Pengjiang District platform",
        "Xinhui District platform",
    ]
    codes = [u["code"] for u in tree]
    assert "CITY" not in codes  # the centre's platform is not a unit to dispatch to
    # a district's platform first, its streets below it
    assert codes.index("D-PJ") + 1 == codes.index("S-BS")
    assert {u["code"]: u["depth"] for u in tree}["S-BS"] == 1
    assert 'src="/static/department_picker.js' in html
    # not on other tasks
    from tests.webapp.test_inbox import dispatched

    other = dispatched(hotline_app)
    h_mr = as_role("handler")
    task = h_mr.get(task_link(h_mr.get("/inbox").get_data(True), other)).get_data(True)
    assert "department-tree" not in task


# -- bulk actions on the supervision lists ---------------------------------------------------


def test_the_ticked_cases_export_and_each_case_is_its_own_transaction(
    hotline_app, as_role, clock, monkeypatch
):
    from datetime import timedelta

    from engine.errors import ConflictError
    from tests.webapp.pages import csrf_token
    from workflows.supervision import flows as supervision

    first = dispatched(hotline_app)
    second = dispatched(hotline_app)
    third = dispatched(hotline_app)
    clock.advance(timedelta(days=40))
    sup = as_role("supervisor")
    token = csrf_token(sup, "/supervision/overdue")
    response = sup.post(
        "/supervision/actions",
        data={"numbers": [third, first, "no-such"], "export": "csv", "csrf_token": token},
        headers=EN,
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(True).lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:]] == [third, first]  # as ticked; one unseen left out
    response = sup.post(
        "/supervision/actions", data={"export": "csv", "csrf_token": token}, headers=EN
    )
    assert response.status_code == 400 and "Tick at least one case." in response.get_data(True)

    # the second case fails in the engine: it alone is rolled back, the others are sent
    real = supervision._act

    def failing(session, hotline, case, action, note, user):
        if case.number == second:
            real(session, hotline, case, action, note, user)  # written, then undone
            raise ConflictError("the case moved on")
        return real(session, hotline, case, action, note, user)

    monkeypatch.setattr(supervision, "_act", failing)
    response = sup.post(
        "/supervision/actions",
        data={
            "numbers": [first, second, third],
            "action": "chase_notice",
            "note": "请加快办理",
            "back": "overdue",
            "csrf_token": token,
        },
        headers=EN,
    )
    result = response.get_data(True)
    assert "2 of 3 cases done." in result
    assert f'data-number="{second}" data-done="no"' in result
    assert "the case changed meanwhile: nothing was sent, try again" in result
    for number, chased in ((first, True), (second, False), (third, True)):
        page = sup.get(f"/cases/{number}", headers=EN).get_data(True)
        assert ("Chase notice to the department" in page) is chased, number


# -- saved views of the inbox and the queues ---------------------------------------------------


def test_saved_views_of_the_inbox_and_the_queues(hotline_app, as_role):
    from tests.webapp.pages import csrf_token

    handler = as_role("handler")
    html = handler.get("/inbox?element=handle&sort=deadline&dir=desc", headers=EN).get_data(True)
    assert 'name="query" value="element=handle&amp;sort=deadline&amp;dir=desc"' in html
    token = csrf_token(handler, "/inbox")
    response = handler.post(
        "/inbox/views",
        data={
            "list": "inbox",
            "name": "  我的办理 ",
            "query": "element=handle&sort=deadline&dir=desc&page=3&bogus=1",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/inbox?element=handle&sort=deadline&dir=desc"
    html = handler.get("/inbox", headers=EN).get_data(True)
    assert 'href="/inbox?element=handle&amp;sort=deadline&amp;dir=desc">我的办理</a>' in html
    # a bad name is said, naming the field; nothing saved
    response = handler.post(
        "/inbox/views",
        data={"list": "inbox", "name": "", "query": "element=handle", "csrf_token": token},
        headers=EN,
        follow_redirects=True,
    )
    assert "Saved view name: Give the view a name." in response.get_data(True)
    # another list's key, or one the role does not have, is refused
    for list_key in ("queues", "cases", ""):
        response = handler.post(
            "/inbox/views",
            data={"list": list_key, "name": "x", "query": "queue=dispatch", "csrf_token": token},
            headers=EN,
        )
        assert response.status_code == 400 and "List: unknown value" in response.get_data(True)
    # views are per user and per list
    other = as_role("handler", "h_hu")
    assert "我的办理" not in other.get("/inbox").get_data(True)
    disp = as_role("dispatcher")
    token_d = csrf_token(disp, "/queues")
    response = disp.post(
        "/inbox/views",
        data={
            "list": "queues",
            "name": "退单",
            "query": "queue=review_return",
            "csrf_token": token_d,
        },
    )
    assert response.headers["Location"] == "/queues?queue=review_return"
    queues = disp.get("/queues").get_data(True)
    assert 'href="/queues?queue=review_return">退单</a>' in queues
    assert "退单</a>" not in disp.get("/inbox").get_data(True)
    # deleting: one's own only
    view_id = re.search(r'action="/inbox/views/(\d+)/delete"', queues).group(1)
    response = handler.post(
        f"/inbox/views/{view_id}/delete", data={"list": "inbox", "csrf_token": token}
    )
    assert response.status_code == 404
    response = disp.post(
        f"/inbox/views/{view_id}/delete", data={"list": "queues", "csrf_token": token_d}
    )
    assert response.status_code == 303
    assert "退单</a>" not in disp.get("/queues").get_data(True)


def test_the_department_filter_offers_a_handler_only_units_it_shares_cases_with(
    hotline_app, as_role
):
    from tests.api.test_case_filters import add

    add(hotline_app, lead="B-MR", co=("B-UM",))
    add(hotline_app, lead="B-HU", co=("B-WA",))  # not B-MR's: no B-HU or B-WA for h_mr

    def offered(client) -> list[str]:
        html = client.get("/cases", headers=EN).get_data(True)
        select = re.search(r'<select name="department"[^>]*>(.*?)</select>', html, re.S).group(1)
        return re.findall(r'<option value="([^"]+)"', select)

    assert sorted(offered(as_role("handler"))) == ["B-MR", "B-UM"]
    assert sorted(offered(as_role("handler", "h_hu"))) == ["B-HU", "B-WA"]
    every = offered(as_role("supervisor"))
    assert {"B-MR", "B-UM", "B-HU", "B-WA", "S-BS"} <= set(every)


def test_the_admin_lists_sort(hotline_app, as_role):
    admin = as_role("admin")
    users = re.compile(r'<td><a href="/admin/users/\d+[^"]*"><code>([^<]+)</code></a></td>')
    html = admin.get("/admin/users?sort=username&dir=desc&per_page=200", headers=EN).get_data(True)
    names = users.findall(html)
    assert len(names) > 3 and names == sorted(names, reverse=True)
    html = admin.get("/admin/users?sort=username&dir=asc&per_page=200", headers=EN).get_data(True)
    assert users.findall(html) == sorted(names)
    assert '<th aria-sort="ascending"' in html
    departments = re.compile(r'<td><a href="/admin/departments/\d+[^"]*"><code>([^<]+)</code>')
    html = admin.get("/admin/departments?sort=code&dir=desc&q=S-", headers=EN).get_data(True)
    codes = departments.findall(html)
    assert len(codes) > 2 and codes == sorted(codes, reverse=True)
    assert 'name="sort" value="code"' in html  # the search keeps the order
    body = admin.get("/admin/users?format=csv&sort=username&dir=desc").get_data(True)
    rows = [r[0] for r in csv.reader(io.StringIO(body.lstrip("\ufeff")))][1:]
    assert len(rows) > 3 and rows == sorted(rows, reverse=True)


def test_the_dispatch_catalogue_sorts_by_priority_and_category(hotline_app, as_role):
    admin = as_role("admin")
    rows = re.compile(
        r'<td><a href="/admin/dispatch/\d+[^"]*">([^<]+)</a></td>\s*<td><code>[^<]*</code></td>'
        r'<td>.*?</td><td class="num">(\d+)</td>',
        re.S,
    )
    html = admin.get("/admin/dispatch?sort=category&dir=desc&per_page=200").get_data(True)
    categories = [c for c, _p in rows.findall(html)]
    assert len(categories) > 3 and categories == sorted(categories, reverse=True)
    html = admin.get("/admin/dispatch?sort=priority&per_page=200").get_data(True)
    priorities = [int(p) for _c, p in rows.findall(html)]
    assert len(priorities) > 3 and priorities == sorted(priorities, reverse=True)
