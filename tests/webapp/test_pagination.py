"""Lists whose count stops at a cap: the first pages as before, "more than" instead of a total."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.pagination import paginate
from workflows.cases.search import _next_prefix
from workflows.departments.models import Department


def test_a_capped_count_says_there_are_more_and_pages_on(hotline_app):
    stmt = select(Department).order_by(Department.id)
    with hotline_app.test_request_context("/?per_page=2"):
        every = db.session.scalars(stmt).all()
        assert len(every) > 4
        page = paginate(db.session, stmt, count_cap=3)
        assert page.capped and page.total == 3 and page.has_next
        assert [d.id for d in page.items] == [d.id for d in every[:2]]
        exact = paginate(db.session, stmt, count_cap=len(every))
        assert not exact.capped and exact.total == len(every)
        assert paginate(db.session, stmt).total == len(every)
    with hotline_app.test_request_context("/?per_page=2&page=3"):
        # past the cap, the pages still go on while rows come
        page = paginate(db.session, stmt, count_cap=3)
        assert [d.id for d in page.items] == [d.id for d in every[4:6]]
        assert page.has_prev


def test_number_prefix_bounds():
    assert _next_prefix("2026") == "2027"
    assert _next_prefix("2029") == "203"
    assert _next_prefix("202611300001") == "202611300002"
    assert _next_prefix("99") == ""


def test_the_case_list_says_more_than_when_the_count_stops(hotline_app, as_role, monkeypatch):
    import webapp.cases.views
    from tests.webapp.test_cases_pages import open_case

    numbers = [open_case(hotline_app) for _ in range(3)]
    client = as_role("supervisor")
    monkeypatch.setattr(webapp.cases.views, "COUNT_CAP", 2)
    html = client.get("/cases?per_page=1", headers={"Accept-Language": "en"}).get_data(True)
    assert "Page 1 of more than 2 (more than 2 in all)" in html
    assert numbers[-1] in html and 'rel="next"' in html
    html = client.get("/cases?per_page=1&page=3", headers={"Accept-Language": "en"}).get_data(True)
    assert numbers[0] in html
    monkeypatch.setattr(webapp.cases.views, "COUNT_CAP", 1000)
    html = client.get("/cases?per_page=1", headers={"Accept-Language": "en"}).get_data(True)
    assert "Page 1 of 3 (3 in all)" in html


# -- page numbers from a hostile query string (issue 15, item 7) ----------------------------

#: every paginated web list, with a role that sees it
LISTS = [
    ("supervisor", "/cases"),
    ("supervisor", "/supervision/overdue"),
    ("supervisor", "/supervision/escalated"),
    ("dispatcher", "/inbox"),
    ("dispatcher", "/queues"),
    ("operator", "/api/tokens"),
    ("admin", "/admin/users"),
    ("admin", "/admin/departments"),
    ("admin", "/admin/dispatch"),
    ("admin", "/admin/policies"),
    ("admin", "/admin/calendar"),
    ("admin", "/admin/knowledge"),
    ("admin", "/admin/incidents"),
    ("admin", "/admin/messages"),
    ("admin", "/admin/definitions"),
    ("admin", "/admin/definitions/complaint"),
    ("auditor", "/audit/"),
    ("handler", "/notifications"),
    ("callback", "/sms/replies"),
    ("operator", "/calls/callbacks"),
    ("supervisor", "/calls/records"),
    ("supervisor", "/appeals"),
    ("supervisor", "/evaluation/cases/B-MR"),
]
HUGE = "99999999999999999999"
PAGE_OF = re.compile(r"Page (\d+) of (more than )?(\d+)")


def test_every_paginated_list_is_found(hotline_app):
    """LISTS names every page that shows a pager (a new list must join it)."""
    templates = Path(hotline_app.root_path, "templates")
    with_pager = {
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if "pager(" in path.read_text() and path.name != "macros.html"
    }
    # the migration preview needs two versions: tested on its own below; a wave's cases need
    # a wave (tests/webapp/test_insight_waves_pages.py)
    assert len(with_pager) == len(LISTS) + 2, sorted(with_pager)
    assert {"insight/wave.html", "admin/migrate.html"} <= with_pager


@pytest.mark.parametrize(("role", "path"), LISTS)
def test_no_page_number_breaks_a_list(as_role, role, path):
    client = as_role(role)
    english = {"Accept-Language": "en"}
    for query in (
        f"page={HUGE}",
        f"page=-{HUGE}",
        "page=0",
        "page=abc",
        "page=1e3",
        "page=" + "9" * 5000,
        f"per_page={HUGE}",
        "per_page=-1",
        "per_page=abc",
        f"page={HUGE}&per_page=1",
    ):
        response = client.get(f"{path}?{query}", headers=english)
        assert response.status_code == 200, (path, query, response.status_code)
        shown = PAGE_OF.search(response.get_data(as_text=True))
        if shown:  # "page N of M" only when there is more than one page
            assert int(shown.group(1)) <= int(shown.group(3)), (path, query, shown.group(0))
        csv = client.get(f"{path}?{query}&format=csv")
        assert csv.status_code in (200, 404), (path, query)  # 404: a list without CSV


def test_a_page_past_the_end_is_the_last_page(hotline_app, as_role, monkeypatch):
    import webapp.cases.views
    from tests.webapp.test_cases_pages import open_case

    numbers = [open_case(hotline_app) for _ in range(3)]
    client = as_role("supervisor")
    english = {"Accept-Language": "en"}
    html = client.get(f"/cases?per_page=1&page={HUGE}", headers=english).get_data(True)
    assert "Page 3 of 3 (3 in all)" in html and numbers[0] in html
    # past a capped count the list is counted in full, once, to find its last page
    monkeypatch.setattr(webapp.cases.views, "COUNT_CAP", 1)
    html = client.get(f"/cases?per_page=1&page={HUGE}", headers=english).get_data(True)
    assert "Page 3 of 3 (3 in all)" in html and numbers[0] in html
    html = client.get("/cases?per_page=1&page=2", headers=english).get_data(True)
    assert numbers[1] in html  # within the rows that exist, pages still go past the cap


def test_the_migration_preview_pages_too(hotline_app, as_role):
    from tests.webapp.test_admin import complaint_v2, upload

    client = as_role("admin")
    assert upload(client, complaint_v2()).status_code == 302
    for query in (f"page={HUGE}", "page=-1", "per_page=abc"):
        response = client.get(f"/admin/definitions/complaint/migrate?from=1&to=2&{query}")
        assert response.status_code == 200, query


def test_a_waves_cases_past_the_end_are_its_last_page(hotline_app, as_role):
    from tests.webapp.test_insight_waves_pages import _wave

    wave_id, numbers = _wave(hotline_app, n=30)
    client = as_role("supervisor")
    html = client.get(f"/insight/waves/{wave_id}?page=99999", headers={"Accept-Language": "en"})
    text = html.get_data(as_text=True)
    assert html.status_code == 200 and "Page 2 of 2 (30 in all)" in text
    assert set(re.findall(r'data-case="([^"]+)"', text)) == set(numbers[:5])
