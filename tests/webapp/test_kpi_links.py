"""The KPI dashboard's trend table (issue 20, item 4: every KPI figure links to its cases):
each period's figures link to the case list filtered to that period's cases, and the list
counts what the figure counts (the totals, departments and case types:
tests/webapp/test_lists.py; co-handling: tests/webapp/test_cohandling_pages.py)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from tests.api.test_case_filters import add
from tests.webapp.test_lists import _in_all

EN = {"Accept-Language": "en"}


def test_every_trend_figure_links_to_exactly_its_cases(hotline_app, as_role, clock):
    now = clock.now()
    day = timedelta(days=1)
    add(hotline_app, lead="B-MR", dispatched_at=now - day, reply_due=now + 5 * day)
    add(
        hotline_app,
        lead="B-UM",
        created_at=now - 3 * day,
        dispatched_at=now - 3 * day,
        reply_due=now - day,
    )  # overdue
    add(
        hotline_app,
        lead="B-UM",
        status="closed",
        created_at=now - 9 * day,
        dispatched_at=now - 9 * day,
        reply_due=now - 5 * day,
        replied_at=now - 6 * day,
        closed_at=now - 6 * day,
        satisfaction="satisfied",
        resolved=True,
    )
    add(hotline_app, created_at=now - 60 * day)  # before the period  # fmt: skip
    client = as_role("supervisor")
    html = client.get("/kpi?bucket=week", headers=EN).get_data(True)
    trend = re.search(r'<h2 id="trend">.*?</table>', html, re.S).group(0)
    links = re.findall(r'<a href="(/cases\?[^"]+)" class="figure"[^>]*>(\d+)</a>', trend)
    assert links and sum(int(f) for _h, f in links) > 5
    periods = set()
    for href, figure in links:
        href = href.replace("&amp;", "&")
        periods.add(re.search(r"created_from=([\d-]+)", href).group(1))
        page = client.get(href + "&per_page=200", headers=EN)
        assert page.status_code == 200, href
        assert _in_all(page.get_data(True)) == int(figure), (href, figure)
    assert len(periods) > 1  # a row per week, each with its own dates
    # the cases of all the periods are the period's cases
    total = re.search(r'<tr data-kpi="cases">.*?<a href="[^"]+"[^>]*>(\d+)</a>', html, re.S)
    counted = [int(f) for h, f in links if "kpi=cases&" in h.replace("&amp;", "&")]
    assert sum(counted) == int(total.group(1)) == 3
    # the chart's points open the same periods (kpi.js: a click on a point)
    chart = json.loads(re.search(r'<script type="application/json" id="kpi-data">(.*?)</script>',
                                 html, re.S).group(1))  # fmt: skip
    starts = {p[0] for p in chart["trend"]["periods"]}
    assert periods <= starts and chart["casesUrl"] == "/cases"
