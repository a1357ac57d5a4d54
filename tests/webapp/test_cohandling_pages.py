"""Co-handling in the pages: the co-handler's task in its inbox, the lead's reply refused with
the pending unit named beside the reply field, the parts on the lead's task page and on the
case page (the API's case detail: tests/api/test_cohandling_api.py)."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.webapp.test_inbox import submit, task_link
from tests.webapp.test_intake import case_row, field_html, open_case
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases import flows
from workflows.users.service import by_username

PART = "已劝离门前占道摊贩，纳入日常巡查"


def dispatched(app, co=("B-UM", "B-HU")) -> str:
    number = open_case(app)
    with app.app_context():
        hotline = get_hotline()
        task = next(
            t for t in hotline.runtime.ready_tasks(db.session, case_row(app, number).instance_id)
        )
        flows.complete_task(
            db.session,
            hotline,
            task_id=task.task_id,
            data={"lead_department": "B-MR", "co_departments": list(co)},
            user=by_username(db.session, "disp1"),
        )
        db.session.commit()
    return number


def test_the_co_handler_answers_in_its_inbox_and_the_lead_sees_the_part(hotline_app, as_role):
    number = dispatched(hotline_app)
    h_mr = as_role("handler")
    sign = task_link(h_mr.get("/inbox").get_data(as_text=True), number)
    assert submit(h_mr, sign, {"action": "sign"}).status_code == 303

    h_um = as_role("handler", "h_um")
    inbox = h_um.get("/inbox").get_data(as_text=True)
    co_page = task_link(inbox, number)
    html = h_um.get(co_page).get_data(as_text=True)
    assert "协办意见" in html and "2026-03-09 23:59" in html  # the form and its deadline
    refused = submit(h_um, co_page, {"cohandle_text": ""})
    assert refused.status_code == 422
    assert "cohandle_text" in refused.get_data(as_text=True)
    assert submit(h_um, co_page, {"cohandle_text": PART}).status_code == 303

    page = task_link(h_mr.get("/inbox").get_data(as_text=True), number)
    refused = submit(
        h_mr, page, {"action": "reply", "reply_text": "已现场检查，责令整改", "result": "resolved"}
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    field = field_html(html, "reply_text")
    assert "住房和城乡建设局" in field and "2026-03-09 23:59" in field  # still pending, in time
    assert "城市管理和综合执法局" not in field  # it answered
    parts = re.search(r'<section class="panel" id="cohandling">.*?</section>', html, re.S).group(0)
    assert PART in parts and "按时" in parts and "城管局 郑军" in parts
    assert "住房和城乡建设局" in parts  # still to answer, with its deadline

    case_page = as_role("supervisor").get(f"/cases/{number}").get_data(as_text=True)
    parts = re.search(r'<section class="panel" id="cohandling">.*?</section>', case_page, re.S)
    assert parts and PART in parts.group(0)


def test_the_case_page_in_english_names_late_units(hotline_app, as_role, clock):
    number = dispatched(hotline_app, co=("B-UM",))
    clock.advance(timedelta(days=8))
    client = as_role("supervisor")
    html = client.get(f"/cases/{number}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    parts = re.search(r'<section class="panel" id="cohandling">.*?</section>', html, re.S).group(0)
    assert "Urban Management Bureau" in parts
    assert "overdue: the lead need not wait for it" in parts


def test_the_kpi_page_counts_a_late_co_handler_against_its_unit(hotline_app, as_role, clock):
    on_time = dispatched(hotline_app, co=("B-UM",))
    dispatched(hotline_app, co=("B-UM",))  # this one stays silent
    h_um = as_role("handler", "h_um")
    co_page = task_link(h_um.get("/inbox").get_data(as_text=True), on_time)
    assert submit(h_um, co_page, {"cohandle_text": PART}).status_code == 303
    clock.advance(timedelta(days=8))  # past the silent one's deadline
    html = as_role("supervisor").get("/kpi").get_data(as_text=True)
    table = re.search(r'<table class="kpi" id="cohandling">.*?</table>', html, re.S).group(0)
    row = re.search(r'<tr data-department="B-UM">.*?</tr>', table, re.S).group(0)
    assert "城市管理和综合执法局" in row and "50.0%" in row
    assert "协办按时反馈率" in html
    # each figure links to the cases behind it: the list counts what the figure counts
    client = as_role("supervisor")
    for part, figure in (("numerator", "1"), ("denominator", "2")):
        cell = re.search(rf'<td class="{part}"><a href="([^"]+)"[^>]*>(\d+)</a></td>', row)
        assert cell and cell.group(2) == figure, part
        href = cell.group(1).replace("&amp;", "&")
        assert "kpi=cohandling" in href and "department=B-UM" in href
        listing = client.get(href, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert f"({figure} in all)" in listing or f"{figure} in all" in listing, href
        assert "On-time co-handling rate (" in listing
        assert on_time in listing  # the case answered on time is in both
    # the unit is needed: without it the figure would mix units
    bad = client.get("/cases?kpi=cohandling&kpi_part=n", headers={"Accept-Language": "en"})
    assert bad.status_code == 400
    assert "The co-handling figure needs its unit" in bad.get_data(as_text=True)


def test_the_scorecards_co_handling_figure_links_to_its_cases(hotline_app, as_role, clock):
    on_time = dispatched(hotline_app, co=("B-UM",))
    dispatched(hotline_app, co=("B-UM",))  # this one stays silent
    h_um = as_role("handler", "h_um")
    co_page = task_link(h_um.get("/inbox").get_data(as_text=True), on_time)
    assert submit(h_um, co_page, {"cohandle_text": PART}).status_code == 303
    clock.advance(timedelta(days=8))
    client = as_role("supervisor")
    html = client.get("/evaluation/scorecards/B-UM?month=2026-03").get_data(as_text=True)
    row = re.search(r'<tr data-figure="cohandling_on_time">.*?</tr>', html, re.S).group(0)
    links = re.findall(r'<a href="(/cases\?[^"]+)">(\d+)</a>', row)
    assert [figure for _href, figure in links] == ["1", "2"]
    for href, figure in links:
        href = href.replace("&amp;", "&")
        assert "created_from=2026-03-01" in href and "created_to=2026-03-31" in href
        for reader in (client, h_um):  # the unit's own handler sees the same cases
            page = reader.get(href, headers={"Accept-Language": "en"}).get_data(as_text=True)
            assert re.search(rf"\b{figure} in all", page), href
