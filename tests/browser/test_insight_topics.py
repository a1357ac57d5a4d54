"""In Chromium: the topics and areas page draws its charts and the server's SVG map under the
page policy (no inline script), and an area of the map links to its cases."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from tests.browser.test_csp import opened, violations, watched  # noqa: F401
from tests.browser.test_e2e import sign_in


def test_the_page_shows_the_charts_and_the_map(watched: Page, live, console_errors):  # noqa: F811
    page = watched
    with live.app.app_context():
        from engine.db import unit_of_work
        from webapp.extensions import db
        from webapp.hotline import get_hotline
        from workflows.cases.models import Case
        from workflows.insight.areas import seed_demo_areas

        with unit_of_work(db.session):
            seed_demo_areas(db.session, clock=get_hotline().clock)
            for i, area in enumerate(["D-JH", "D-JH", "D-PJ"]):
                at = datetime(2026, 2, 24, 2, i, tzinfo=UTC)
                db.session.add(
                    Case(number=f"B{i:08d}", case_type="complaint", urgency="normal",
                         status="received", intake_outcome="dispatch", category="噪音扰民",
                         area=area, description="小区门口夜间施工噪音扰民", created_at=at,
                         updated_at=at)
                )  # fmt: skip
    sign_in(page, live, "sup1")
    opened(page, f"{live.url}/insight/topics?from=2026-02-23&to=2026-03-01")
    expect(page.locator("#chart-topics-trend")).to_be_visible()
    assert page.evaluate(
        "Chart.getChart(document.getElementById('chart-topics-trend')) !== undefined"
    )
    jianghai = page.locator("#area-map a[data-area='D-JH'] path")
    expect(jianghai).to_be_visible()
    assert "area-5" in (jianghai.get_attribute("class") or "")
    expect(page.locator("#area-map a[data-area='D-XH'] path.area-0")).to_be_attached()
    page.locator("#area-map a[data-area='D-JH']").click()
    expect(page).to_have_url(
        f"{live.url}/cases?created_from=2026-02-23&created_to=2026-03-01&area=D-JH"
    )
    assert violations(page) == []
    assert console_errors == []
