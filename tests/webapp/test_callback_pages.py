"""The callback through the pages: the callback agent's form (contact result, why not
reached, a rating only when reached), and the case page's attempts, outcome and timeline, in
Chinese and English; the CSV names the outcome."""

from __future__ import annotations

import re

from tests.webapp.test_cases_pages import advance, parse_csv
from tests.webapp.test_inbox import act, dispatched, ready_task, submit, task_link
from tests.webapp.test_intake import case_row, field_html

EN = {"Accept-Language": "en"}


def awaiting_callback(app) -> str:
    number = dispatched(app)
    act(app, number, "sign_for", "h_mr", {"action": "sign"})
    act(
        app,
        number,
        "handle",
        "h_mr",
        {"action": "reply", "reply_text": "已责令餐馆停业整改", "result": "resolved"},
    )
    act(app, number, "review_reply", "disp1", {"decision": "accept"})
    assert case_row(app, number).status == "awaiting_callback"
    return number


def test_the_callback_form_asks_the_contact_result_first(hotline_app, as_role):
    number = awaiting_callback(hotline_app)
    cb1 = as_role("callback")
    page = task_link(cb1.get("/inbox").get_data(as_text=True), number)
    html = cb1.get(page).get_data(as_text=True)
    assert html.index('data-key="contact_result"') < html.index('data-key="satisfaction"')
    for label in ("已联系上", "未联系上", "拒绝评价", "无人接听", "占线", "号码错误", "拒接"):
        assert label in html
    english = cb1.get(page, headers=EN).get_data(as_text=True)
    for label in ("Reached", "Not reached", "Declined to rate", "No answer", "Wrong number"):
        assert label in english
    # not reached without saying why: refused on that field, nothing recorded
    response = submit(cb1, page, {"contact_result": "not_reached"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="field-error"' in field_html(html, "unreached_reason")
    assert 'class="field-error"' not in field_html(html, "satisfaction")
    assert re.search(r'value="not_reached" checked', field_html(html, "contact_result"))
    assert case_row(hotline_app, number).status == "awaiting_callback"
    assert 'id="callback-attempts"' not in cb1.get(f"/cases/{number}").get_data(as_text=True)


def test_a_citizen_not_reached_three_times_closes_and_the_case_page_lists_the_attempts(
    hotline_app, as_role, clock
):
    number = awaiting_callback(hotline_app)
    cb1 = as_role("callback")
    for reason, note in (("no_answer", "上午无人接听"), ("busy", ""), ("wrong_number", "空号")):
        page = f"/tasks/{ready_task(hotline_app, number, 'callback')}"
        data = {"contact_result": "not_reached", "unreached_reason": reason}
        response = submit(cb1, page, {**data, "callback_note": note})
        assert response.status_code == 303
        advance(hotline_app, clock, days=1)
    case = case_row(hotline_app, number)
    assert (case.status, case.outcome) == ("closed", "not_reached")

    html = cb1.get(f"/cases/{number}").get_data(as_text=True)
    attempts = re.search(r'<section class="panel" id="callback-attempts">.*?</section>', html, re.S)
    assert attempts, "no attempts on the case page"
    rows = re.findall(r"<tr data-result=\"(\w+)\">(.*?)</tr>", attempts.group(0), re.S)
    assert [r[0] for r in rows] == ["not_reached"] * 3
    assert "回访员 许静" in rows[0][1] and "无人接听" in rows[0][1] and "上午无人接听" in rows[0][1]
    assert "占线" in rows[1][1] and "号码错误" in rows[2][1] and "空号" in rows[2][1]
    assert "2026-03-02 09:00" in rows[0][1] and "2026-03-04 09:00" in rows[2][1]
    assert "办结（未联系上市民）" in html  # the outcome, in the fields and on the timeline
    timeline = re.search(r'<section class="panel" id="timeline">.*?</section>', html, re.S)
    assert "办结（未联系上市民）" in timeline.group(0)

    english = cb1.get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    assert "Callback attempts" in english and "No answer" in english
    assert "Closed, citizen not reached" in english

    rows = parse_csv(cb1.get(f"/cases?format=csv&number={number}"))
    assert rows[1][rows[0].index("办理结果")] == "办结（未联系上市民）"
    rows = parse_csv(cb1.get(f"/cases?format=csv&number={number}", headers=EN))
    assert rows[1][rows[0].index("Outcome")] == "Closed, citizen not reached"


def test_rating_declined_closes_and_says_so(hotline_app, as_role):
    number = awaiting_callback(hotline_app)
    cb1 = as_role("callback")
    page = f"/tasks/{ready_task(hotline_app, number, 'callback')}"
    assert submit(cb1, page, {"contact_result": "rating_declined"}).status_code == 303
    case = case_row(hotline_app, number)
    assert (case.status, case.outcome, case.satisfaction) == ("closed", "rating_declined", None)
    html = cb1.get(f"/cases/{number}").get_data(as_text=True)
    assert "办结（市民拒绝评价）" in html
    assert "Closed, rating declined" in cb1.get(f"/cases/{number}", headers=EN).get_data(
        as_text=True
    )


def test_supervisors_no_longer_call_back(hotline_app, as_role):
    number = awaiting_callback(hotline_app)
    sup1 = as_role("supervisor")
    assert number not in sup1.get("/inbox").get_data(as_text=True)
    page = f"/tasks/{ready_task(hotline_app, number, 'callback')}"
    assert sup1.get(page).status_code == 403


def test_the_kpi_page_counts_callbacks_and_states_each_definition(hotline_app, as_role, clock):
    from tests.webapp.test_supervision import kpi_cells

    reached, declined, unreached = (awaiting_callback(hotline_app) for _ in range(3))
    act(hotline_app, reached, "callback", "cb1", {"satisfaction": "satisfied", "resolved": "yes"})
    act(hotline_app, declined, "callback", "cb1", {"contact_result": "rating_declined"})
    for _ in range(3):
        data = {"contact_result": "not_reached", "unreached_reason": "no_answer"}
        act(hotline_app, unreached, "callback", "cb1", data)
        advance(hotline_app, clock, days=1)
    awaiting_callback(hotline_app)  # open: in no callback figure yet

    client = as_role("supervisor")
    html = client.get("/kpi", headers=EN).get_data(as_text=True)
    assert kpi_cells(html, "callback") == ("66.7%", "2", "3")  # reached, declined / the 3
    assert kpi_cells(html, "not_reached") == ("33.3%", "1", "3")
    assert kpi_cells(html, "closure") == ("75.0%", "3", "4")
    assert kpi_cells(html, "satisfaction") == ("100.0%", "1", "1")
    legend = html[html.index('<section id="kpi-legend">') :]
    assert "Closure rate" in legend and "Closed / received (merged duplicates excluded)." in legend
    assert "Callbacks made (reached, or rating declined)" in legend
    zh = client.get("/kpi").get_data(as_text=True)
    legend = zh[zh.index('<section id="kpi-legend">') :]
    assert "各项指标的口径" in legend and "未联系上率" in legend and "办结率" in legend
    assert "回访成功（联系上或拒绝评价）" in legend
