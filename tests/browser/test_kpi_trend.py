"""A click on a point of the KPI trend opens the cases behind it (docs/lists.md): the charted
rate's denominator for the line, every case of the period for the bar."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.test_e2e import sign_in
from tests.browser.test_live import dispatch


def test_a_trend_point_opens_its_cases(page: Page, live, console_errors):
    dispatch(live)
    sign_in(page, live, "sup1")
    page.goto(f"{live.url}/kpi?kpi=overdue")
    page.wait_for_function("Chart.getChart(document.getElementById('chart-trend')) !== undefined")
    page.locator("#chart-trend").scroll_into_view_if_needed()
    # the last point (today, with the case) of the bar of cases, in the page's coordinates
    x, y = page.evaluate(
        """() => {
          const chart = Chart.getChart(document.getElementById('chart-trend'));
          const bars = chart.getDatasetMeta(1).data;
          const bar = bars[bars.length - 1];
          const box = chart.canvas.getBoundingClientRect();
          return [box.left + bar.x, box.top + (bar.y + bar.base) / 2];
        }"""
    )
    page.mouse.click(x, y)
    page.wait_for_url("**/cases?**")
    assert "kpi=cases" in page.url and "created_from=" in page.url
    assert page.locator("#kpi-filter").count() == 1  # the list says which figure it shows
    assert console_errors == []
