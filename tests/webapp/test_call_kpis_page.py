"""The KPI page's calls section (``/kpi``): the period's call figures by period, queue and
operator, the answer rate coloured against the target, the legend, and its CSV.

The calls (Beijing time; the tests' clock is Monday 2 March 2026, 09:00):

| call | arrived | queue | operator | outcome | wait | talk | case |
|---|---|---|---|---|---|---|---|
| w1 | Sun 1 Mar 23:59 | 12345 | op1 | answered | 20 | 100 | a complaint |
| w2 | Mon 2 Mar 00:01 | 12345 | - | abandoned | 30 | - | - |
| w3 | Mon 2 Mar 08:00 | english | op2 | answered | 10 | 50 | - |
| w4 | Mon 2 Mar 08:30 | english | - | missed | 0 | - | - |
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from webapp.extensions import db
from workflows.calls.models import Call, CallSettings
from workflows.cases.models import Case

from .test_call_board import send
from .test_cases_pages import EN, open_case, parse_csv

SUNDAY = datetime.fromisoformat("2026-03-01T00:00:00+08:00")
MONDAY = SUNDAY + timedelta(days=1)


def at(day: datetime, hh: int, mm: int, ss: int = 0) -> datetime:
    return day.replace(hour=hh, minute=mm, second=ss)


@pytest.fixture
def calls(hotline_app):
    make_calls(hotline_app)
    return hotline_app


def make_calls(app) -> None:
    """The four calls of the module's table, w1 linked to a new complaint."""
    send(app, "w1", "ringing", at(SUNDAY, 23, 59), caller="13800138001", queue="12345")
    send(app, "w1", "answered", at(SUNDAY, 23, 59, 20), agent="op1")
    send(app, "w1", "ended", at(MONDAY, 0, 1))
    send(app, "w2", "ringing", at(MONDAY, 0, 1), caller="13800138002", queue="12345")
    send(app, "w2", "ended", at(MONDAY, 0, 1, 30))
    send(app, "w3", "ringing", at(MONDAY, 8, 0), caller="13800138003", queue="english")
    send(app, "w3", "answered", at(MONDAY, 8, 0, 10), agent="op2")
    send(app, "w3", "ended", at(MONDAY, 8, 1))
    send(app, "w4", "missed", at(MONDAY, 8, 30), caller="13800138004", queue="english")
    number = open_case(app)
    with app.app_context():
        case_id = db.session.scalars(select(Case.id).where(Case.number == number)).one()
        db.session.execute(update(Call).where(Call.call_id == "w1").values(case_id=case_id))
        db.session.commit()


def table(html: str, table_id: str) -> str:
    found = re.search(rf'<table class="kpi[^"]*" id="{table_id}">(.*?)</table>', html, re.S)
    assert found, table_id
    return found.group(1)


def cells(html: str, table_id: str) -> dict[str, dict[str, str]]:
    """{group: {figure: text}} of one of the calls tables."""
    rows = re.findall(r'<tr data-group="([^"]*)">(.*?)</tr>', table(html, table_id), re.S)
    return {
        # a count is a link to its calls (/calls/records): its figure is the link's text
        group: dict(
            re.findall(r'<td data-kpi="([a-z_]+)"[^>]*>(?:<a [^>]*>)?([^<]*)(?:</a>)?</td>', body)
        )
        for group, body in rows
    }


def answer_rate_class(html: str, table_id: str, group: str) -> str:
    body = table(html, table_id)
    row = re.search(rf'<tr data-group="{re.escape(group)}">(.*?)</tr>', body, re.S)
    assert row, group
    return re.search(r'<td data-kpi="answer_rate" class="([^"]*)"', row.group(1)).group(1)


def test_the_calls_section(calls, as_role):
    html = as_role("supervisor").get("/kpi", headers=EN).get_data(as_text=True)
    total = cells(html, "calls-totals")["All calls"]
    assert total == {
        "inbound": "4",
        "answered": "2",
        "abandoned": "1",
        "missed": "1",
        "transferred": "0",
        "answer_rate": "50.0%",
        "abandon_rate": "25.0%",
        "asa": "15.0",
        "aht": "75.0",
        "talk": "75.0",
        "calls_per_case": "1.0",
    }
    # 50% is below the default target of 95%
    assert "below-target" in answer_rate_class(html, "calls-totals", "All calls")
    trend = cells(html, "calls-trend")
    assert len(trend) == 30  # the page's default period: 30 days, the empty ones too
    # 23:59 on Sunday and 00:01 on Monday fall on their own days
    assert (trend["2026-03-01"]["inbound"], trend["2026-03-02"]["inbound"]) == ("1", "3")
    assert trend["2026-02-01"]["inbound"] == "0" and trend["2026-02-01"]["answer_rate"] == "–"
    assert answer_rate_class(html, "calls-trend", "2026-02-01") == "answer-rate"
    queues = cells(html, "calls-queues")
    assert list(queues) == ["12345", "english"]
    assert (queues["12345"]["inbound"], queues["12345"]["abandoned"]) == ("2", "1")
    assert (queues["english"]["missed"], queues["english"]["asa"]) == ("1", "10.0")
    agents = cells(html, "calls-agents")
    assert list(agents) == ["No operator", "op1", "op2"]
    assert agents["No operator"]["answer_rate"] == "0.0%"
    assert agents["op1"]["answer_rate"] == "100.0%" and agents["op1"]["talk"] == "100.0"
    assert "on-target" in answer_rate_class(html, "calls-agents", "op1")
    types = table(html, "calls-case-types")
    # the count links to its cases (tests/webapp/test_call_records.py follows it)
    assert re.search(r'data-case-type="complaint"><td>Complaint</td><td><a [^>]*>1</a></td>', types)
    assert "Answer rate target 95.0%" in html
    legend = html[html.index('id="calls-legend"') :]
    assert "Average handling time" in legend and "Answered / inbound." in legend


def test_the_target_comes_from_the_call_settings(calls, as_role):
    with calls.app_context():
        db.session.add(CallSettings(id=1, answer_rate_target=0.5))
        db.session.commit()
    html = as_role("admin").get("/kpi", headers=EN).get_data(as_text=True)
    assert "Answer rate target 50.0%" in html
    assert "on-target" in answer_rate_class(html, "calls-totals", "All calls")  # 50% >= 50%


def test_a_week_by_week_period_and_an_empty_one(calls, as_role):
    client = as_role("supervisor")
    weekly = client.get("/kpi?start=2026-02-23&end=2026-03-08&bucket=week", headers=EN)
    trend = cells(weekly.get_data(as_text=True), "calls-trend")
    # Sunday 1 March is in the week of 23 February; Monday 2 March starts the next
    assert {k: v["inbound"] for k, v in trend.items()} == {"2026-02-23": "1", "2026-03-02": "3"}
    empty = client.get("/kpi?start=2026-01-01&end=2026-01-31&bucket=month", headers=EN)
    html = empty.get_data(as_text=True)
    assert cells(html, "calls-totals")["All calls"]["inbound"] == "0"
    assert cells(html, "calls-totals")["All calls"]["asa"] == "–"
    assert "No calls in this period." in table(html, "calls-queues")
    assert "No call in this period is linked to a case." in html


def test_chinese(calls, as_role):
    html = as_role("supervisor").get("/kpi").get_data(as_text=True)
    for text in (
        "来电",
        "呼入量",
        "接通率",
        "平均应答时长",
        "按接线员",
        "无接线员",
        "各类型工单数",
    ):
        assert text in html, text


def test_the_csv(calls, as_role):
    client = as_role("supervisor")
    rows = parse_csv(client.get("/kpi?format=csv&part=calls", headers=EN))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Table", "Group", "Inbound", "Answered"]
    assert header[-2:] == ["Calls linked to a case", "Linked cases"]
    table_rows = [dict(zip(header, r, strict=True)) for r in body]
    total = table_rows[0]
    assert (total["Table"], total["Group"], total["Inbound"], total["Answer rate"]) == (
        "Total",
        "All calls",
        "4",
        "50.0%",
    )
    assert (total["Average speed of answer"], total["Calls per case"]) == ("15.0", "1.0")
    trend = [r for r in table_rows if r["Table"] == "Trend"]
    assert len(trend) == 30 and trend[0]["Answer rate"] == ""  # nothing to divide: empty
    queues = {r["Group"]: r["Inbound"] for r in table_rows if r["Table"] == "Queue"}
    assert queues == {"12345": "2", "english": "2"}
    agents = {r["Group"]: r["Answered"] for r in table_rows if r["Table"] == "Operator"}
    assert agents == {"No operator": "0", "op1": "1", "op2": "1"}
    (by_type,) = [r for r in table_rows if r["Table"] == "Cases per call type"]
    assert (by_type["Group"], by_type["Linked cases"], by_type["Inbound"]) == ("Complaint", "1", "")
    assert (
        client.get("/kpi?format=csv&part=calls")
        .headers["Content-Disposition"]
        .endswith('filename="kpi-calls.csv"')
    )


def test_who_may_and_bad_input(calls, as_role):
    for role in ("operator", "lead", "handler"):
        assert as_role(role).get("/kpi?format=csv&part=calls").status_code == 403, role
    client = as_role("supervisor")
    bad = client.get("/kpi?format=csv&part=calls&start=yesterday", headers=EN)
    assert bad.status_code == 400 and "Not a date" in bad.get_data(as_text=True)
