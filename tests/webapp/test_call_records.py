"""The call records (``/calls/records``): every count of the KPI page's calls section links to
the calls behind it, and the list counts what the figure counts (docs/lists.md); the list's
filters and sorting; bad input named."""

from __future__ import annotations

import re

from .test_call_kpis_page import make_calls
from .test_cases_pages import EN
from .test_lists import _in_all


def _count(html: str) -> int:
    return int(re.search(r'<p class="count">(\d+) calls</p>', html).group(1))


def test_every_call_count_links_to_exactly_its_calls(hotline_app, as_role):
    make_calls(hotline_app)
    client = as_role("supervisor")
    html = client.get("/kpi?start=2026-03-01&end=2026-03-02", headers=EN).get_data(True)
    calls = re.search(r'<section id="calls">.*?</section>', html, re.S).group(0)
    links = re.findall(r'<a href="(/calls/records\?[^"]+)" class="figure"[^>]*>(\d+)</a>', calls)
    assert len(links) > 20  # totals, each day, each queue and operator
    assert sum(int(f) for _h, f in links) > 10
    for href, figure in dict.fromkeys(links):
        page = client.get(href.replace("&amp;", "&") + "&per_page=200", headers=EN)
        assert page.status_code == 200, href
        assert _count(page.get_data(True)) == int(figure), (href, figure)
    # the calls of no operator have their links too
    assert any("agent=-" in href for href, _f in links)
    # rates and seconds are no counts: not linked
    totals = re.search(r'<table class="kpi calls" id="calls-totals">.*?</table>', calls, re.S)
    assert '<td data-kpi="asa"><a' not in totals.group(0)


def test_the_call_records_filter_sort_and_mask(hotline_app, as_role):
    make_calls(hotline_app)
    client = as_role("supervisor")
    html = client.get("/calls/records?from=2026-03-02&to=2026-03-02&sort=arrived&dir=asc",
                      headers=EN).get_data(True)  # fmt: skip
    assert _count(html) == 3
    assert len(re.findall(r'<td class="phone">', html)) == 3
    assert "13800138002" not in html  # callers' numbers masked
    arrived = re.findall(r'<tr data-call="\d+">\s*<td class="date">([^<]+)</td>', html)
    assert arrived == sorted(arrived) and len(arrived) == 3
    assert '<th aria-sort="ascending"' in html
    html = client.get("/calls/records?sort=wait&dir=desc&outcome=answered", headers=EN)
    assert _count(html.get_data(True)) == 2
    for query in ("from=yesterday", "outcome=won", "from=2026-03-02&to=2026-03-01"):
        response = client.get(f"/calls/records?{query}", headers=EN)
        assert response.status_code == 400, query
        assert 'class="field-error" role="alert"' in response.get_data(True), query
    response = client.get("/calls/records?sort=caller", headers=EN)
    assert response.status_code == 400 and "Sort: unknown column caller" in response.get_data(True)
    assert as_role("operator").get("/calls/records").status_code == 403


def test_the_cases_per_call_type_link_to_their_cases(hotline_app, as_role):
    make_calls(hotline_app)
    client = as_role("supervisor")
    html = client.get("/kpi?start=2026-03-01&end=2026-03-02", headers=EN).get_data(True)
    table = re.search(r'<table class="kpi" id="calls-case-types">.*?</table>', html, re.S).group(0)
    links = re.findall(r'<a href="(/cases\?[^"]+)" class="figure"[^>]*>(\d+)</a>', table)
    assert len(links) == 1 and links[0][1] == "1"
    href = links[0][0].replace("&amp;", "&")
    assert "called_from=2026-03-01" in href and "case_type=complaint" in href
    page = client.get(href, headers=EN).get_data(True)
    assert _in_all(page) == 1 and "Linked to a call that arrived from 2026-03-01" in page
    # w1, the linked call, arrived on Sunday: a Monday-only list has no case
    monday = href.replace("called_from=2026-03-01", "called_from=2026-03-02")
    assert _in_all(client.get(monday, headers=EN).get_data(True)) == 0
    assert client.get("/cases?called_from=yesterday").status_code == 400
