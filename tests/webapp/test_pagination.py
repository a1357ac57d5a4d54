"""Lists whose count stops at a cap: the first pages as before, "more than" instead of a total."""

from __future__ import annotations

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
