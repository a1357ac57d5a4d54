"""The supervisor's overdue and escalated lists and the KPI dashboard."""

from __future__ import annotations

import json
import re

import pytest

from tests.webapp.test_cases_pages import (
    EN,
    ROLES,
    act,
    advance,
    case_row,
    close_on_time,
    dispatched,
    numbers_on,
    open_case,
    parse_csv,
)

PAGES = ("/supervision/overdue", "/supervision/escalated", "/kpi")


@pytest.mark.parametrize("path", PAGES)
def test_only_supervisors_and_administrators(hotline_app, as_role, path):
    response = hotline_app.test_client().get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    for role in ROLES:
        expected = 200 if role in ("supervisor", "admin") else 403
        assert as_role(role).get(path).status_code == expected, role
        assert as_role(role).get(f"{path}?format=csv").status_code == expected, role


def late_case(app, clock, lead: str = "B-MR", handler: str = "h_mr", **intake) -> str:
    """A case signed for, then left past its reply deadline with the timers fired."""
    number = dispatched(app, lead=lead, **intake)
    act(app, number, "sign_for", handler, {"action": "sign"})
    return number


def test_the_overdue_list(hotline_app, as_role, clock):
    late = late_case(hotline_app, clock)
    other = late_case(hotline_app, clock, lead="B-HU", handler="h_hu", category="物业管理")
    replied = late_case(hotline_app, clock)
    act(
        hotline_app,
        replied,
        "handle",
        "h_mr",
        {"action": "reply", "reply_text": "已处理完毕，已整改", "result": "resolved"},
    )
    # never dispatched: no reply deadline, but its dispatch task has its own (two working hours)
    waiting = open_case(hotline_app)
    client = as_role("supervisor")
    assert numbers_on(client.get("/supervision/overdue").get_data(as_text=True)) == set()

    due = case_row(hotline_app, late).reply_due
    clock.set(due)
    advance(hotline_app, clock, hours=5)
    row = case_row(hotline_app, late)
    assert row.escalated and row.due_state == "red"

    html = client.get("/supervision/overdue", headers=EN).get_data(as_text=True)
    # the replied case is on time for its reply, but its reply review (a working day) is not
    assert numbers_on(html) == {late, other, waiting, replied}
    assert "overdue 5 h" in html and "Escalated" in html
    assert "Task overdue: Dispatch" in html and "Task overdue: Review reply" in html
    assert "Market Regulation Bureau" in html and "Housing and Urban-Rural" in html
    html = client.get("/supervision/overdue?department=B-HU").get_data(as_text=True)
    assert numbers_on(html) == {other}
    assert 'value="B-HU" selected' in html
    page_one = client.get("/supervision/overdue?per_page=1").get_data(as_text=True)
    page_two = client.get("/supervision/overdue?per_page=1&page=2").get_data(as_text=True)
    page_three = client.get("/supervision/overdue?per_page=1&page=3").get_data(as_text=True)
    page_four = client.get("/supervision/overdue?per_page=1&page=4").get_data(as_text=True)
    pages = [numbers_on(p) for p in (page_one, page_two, page_three, page_four)]
    assert [len(p) for p in pages] == [1, 1, 1, 1]
    assert set().union(*pages) == {late, other, waiting, replied}

    rows = parse_csv(client.get("/supervision/overdue?format=csv", headers=EN))
    header = rows[0]
    by_number = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(by_number) == {late, other, waiting, replied}
    assert by_number[replied]["Task overdue"] == "Review reply"
    assert by_number[late]["Lead department"] == "Market Regulation Bureau"
    assert by_number[late]["Time left"] == "overdue 5 h 0 min"
    assert by_number[late]["Escalated"] == "yes"
    assert by_number[late]["Due state"] == "Overdue"
    rows = parse_csv(client.get("/supervision/overdue?format=csv&department=B-MR"))
    assert sorted(r[0] for r in rows[1:]) == sorted([late, replied])

    response = client.get("/supervision/overdue?department=NOPE", headers=EN)
    assert response.status_code == 400 and "No such department." in response.get_data(as_text=True)


def test_the_escalated_list(hotline_app, as_role, clock):
    unsigned = dispatched(hotline_app)
    warned = late_case(hotline_app, clock, lead="B-HU", handler="h_hu", category="物业管理")
    client = as_role("admin")
    assert numbers_on(client.get("/supervision/escalated").get_data(as_text=True)) == set()
    advance(hotline_app, clock, hours=39)  # past the sign-for deadline of `unsigned`
    assert case_row(hotline_app, unsigned).sign_escalated
    calm = late_case(hotline_app, clock)  # dispatched later: its warning comes later
    warn_at = case_row(hotline_app, warned).warn_at
    clock.set(warn_at)
    advance(hotline_app, clock, minutes=1)
    assert case_row(hotline_app, warned).due_state == "yellow"
    assert case_row(hotline_app, calm).due_state == "normal"

    html = client.get("/supervision/escalated", headers=EN).get_data(as_text=True)
    assert numbers_on(html) == {unsigned, warned}
    assert "Sign-for escalated" in html and "Yellow" in html
    assert numbers_on(client.get("/supervision/escalated?mark=yellow").get_data(as_text=True)) == {
        warned
    }
    assert numbers_on(
        client.get("/supervision/escalated?mark=sign_escalated").get_data(as_text=True)
    ) == {unsigned}
    assert numbers_on(
        client.get("/supervision/escalated?department=B-MR").get_data(as_text=True)
    ) == {unsigned}
    rows = parse_csv(client.get("/supervision/escalated?format=csv"))
    assert {r[0] for r in rows[1:]} == {unsigned, warned}
    assert client.get("/supervision/escalated?mark=purple").status_code == 400
    # a closed case leaves the list
    close_on_time(hotline_app, warned, handler="h_hu", sign=False)
    assert numbers_on(client.get("/supervision/escalated").get_data(as_text=True)) == {unsigned}


def kpi_cells(html: str, name: str) -> tuple[str, str, str]:
    """(rate, numerator, denominator) of one KPI in the totals table."""
    totals = html[html.index('id="totals"') :]
    match = re.search(
        rf'<tr data-kpi="{name}">.*?class="rate">([^<]*)</td>'
        rf'<td class="numerator">(?:<a [^>]*>)?(\d+)(?:</a>)?</td>'
        rf'<td class="denominator">(?:<a [^>]*>)?(\d+)(?:</a>)?</td>',
        totals,
        re.S,
    )
    assert match, name
    return match.groups()


def test_the_dashboard_renders_with_no_cases(hotline_app, as_role):
    response = as_role("supervisor").get("/kpi", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert kpi_cells(html, "on_time_closure") == ("–", "0", "0")
    assert kpi_cells(html, "satisfaction") == ("–", "0", "0")
    assert "No cases in this period." in html
    assert 'name="start" value="2026-02-01"' in html and 'name="end" value="2026-03-02"' in html
    assert "chart.umd.min.js" in html and "kpi.js" in html
    data = json.loads(re.search(r'id="kpi-data">(.*?)</script>', html, re.S).group(1))
    assert (
        len(data["trend"]["labels"]) == 30
        and data["trend"]["rates"]["on_time_closure"] == [None] * 30
    )
    zh = as_role("admin").get("/kpi").get_data(as_text=True)
    assert "按时办结率" in zh and "满意率" in zh


def test_kpis_after_closing_a_case(hotline_app, as_role, clock):
    on_time = dispatched(hotline_app)
    late = dispatched(hotline_app, lead="B-HU", category="物业管理")
    open_case(hotline_app, case_type="consultation", intake_outcome="answered", answer="已解答")
    advance(hotline_app, clock, hours=2)
    close_on_time(hotline_app, on_time)
    act(hotline_app, late, "sign_for", "h_hu", {"action": "sign"})
    clock.set(case_row(hotline_app, late).reply_due)
    advance(hotline_app, clock, hours=1)  # `late` is open and past due: it counts against

    client = as_role("supervisor")
    html = client.get("/kpi", headers=EN).get_data(as_text=True)
    assert kpi_cells(html, "on_time_closure") == ("50.0%", "1", "2")
    assert kpi_cells(html, "satisfaction") == ("100.0%", "1", "1")
    assert kpi_cells(html, "on_time_sign_for") == ("100.0%", "2", "2")
    assert kpi_cells(html, "overdue") == ("50.0%", "1", "2")
    assert kpi_cells(html, "first_contact_resolution") == ("66.7%", "2", "3")
    assert "On-time closure rate" in html
    by_department = html[html.index("By department</h2>") : html.index("By case type</h2>")]
    assert "Market Regulation Bureau" in by_department and "Not dispatched" in by_department
    data = json.loads(re.search(r'id="kpi-data">(.*?)</script>', html, re.S).group(1))
    rates = dict(
        zip(
            data["departments"]["labels"],
            data["departments"]["rates"]["on_time_closure"],
            strict=True,
        )
    )
    assert rates["Market Regulation Bureau"] == 100.0
    assert rates["Housing and Urban-Rural Development Bureau"] == 0.0
    assert sum(data["trend"]["cases"]) == 3

    rows = parse_csv(client.get("/kpi?format=csv", headers=EN))
    header = rows[0]
    table = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    total = table[0]
    assert (total["Table"], total["Cases"], total["Dispatched"]) == ("Total", "3", "2")
    assert total["On-time closure rate"] == "50.0%"
    assert total["On-time closure rate numerator"] == "1"
    assert total["On-time closure rate denominator"] == "2"
    departments = {r["Group"]: r for r in table if r["Table"] == "Department"}
    assert departments["Market Regulation Bureau"]["On-time closure rate numerator"] == "1"
    case_types = {r["Group"]: r for r in table if r["Table"] == "Case type"}
    assert case_types["Complaint"]["Cases"] == "2" and case_types["Consultation"]["Cases"] == "1"
    assert any(r["Table"] == "Trend" for r in table)

    # a period before the cases: nothing to count
    earlier = client.get("/kpi?start=2026-01-01&end=2026-02-28&bucket=week").get_data(as_text=True)
    assert kpi_cells(earlier, "on_time_closure") == ("–", "0", "0")
    monthly = client.get("/kpi?start=2026-01-01&end=2026-12-31&bucket=month")
    data = json.loads(
        re.search(r'id="kpi-data">(.*?)</script>', monthly.get_data(as_text=True), re.S).group(1)
    )
    assert data["trend"]["labels"][2] == "2026-03-01" and data["trend"]["cases"][2] == 3


def test_bad_periods_name_the_field_and_keep_the_input(hotline_app, as_role):
    client = as_role("supervisor")
    response = client.get("/kpi?start=2026-02-30&end=2026-03-01", headers=EN)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Not a date (YYYY-MM-DD)." in html and 'name="start" value="2026-02-30"' in html
    response = client.get("/kpi?start=2026-03-05&end=2026-03-01", headers=EN)
    assert response.status_code == 400 and "Before the start date." in response.get_data(
        as_text=True
    )
    response = client.get("/kpi?start=2020-01-01&end=2026-03-01&bucket=day", headers=EN)
    assert response.status_code == 400 and "Too many points" in response.get_data(as_text=True)
    assert client.get("/kpi?bucket=year").status_code == 400
    assert client.get("/kpi?kpi=cases").status_code == 400
    assert client.get("/kpi?kpi=satisfaction&bucket=week").status_code == 200
