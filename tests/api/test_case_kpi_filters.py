"""``GET /api/v1/cases`` takes the case list page's figure filters (docs/lists.md): ``dispatched``,
``kpi`` and ``kpi_part``, with the same cases as the page; bad values are a 422 naming the
field."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.api.test_case_filters import add
from webapp.hotline import get_hotline
from workflows.kpi.service import COUNT_KPIS, RATE_KPIS

EN = {"Accept-Language": "en"}


def _numbers(html: str) -> set[str]:
    return set(re.findall(r'href="/cases/(\d+)"', html))


def test_the_api_lists_the_cases_behind_a_figure_as_the_page_does(api, hotline_app, as_role):
    with hotline_app.app_context():
        now = get_hotline().clock.now()
    day = timedelta(days=1)
    open_late = add(hotline_app, lead="B-UM", dispatched_at=now - day, reply_due=now - day / 3)
    closed = add(
        hotline_app, lead="B-MR", status="closed", dispatched_at=now - day,
        reply_due=now + day, replied_at=now - day / 2, closed_at=now - day / 3,
        satisfaction="satisfied", resolved=True,
    )  # fmt: skip
    never = add(hotline_app, status="closed", intake_outcome="answered", closed_at=now - day)
    client, page = api("supervisor"), as_role("supervisor")
    mine = {open_late, closed, never}
    undispatched = client.get("/api/v1/cases?dispatched=false&per_page=200").json
    assert never in {c["number"] for c in undispatched["items"]}
    assert not {open_late, closed} & {c["number"] for c in undispatched["items"]}
    dispatched = client.get("/api/v1/cases?dispatched=true&per_page=200").json
    assert {open_late, closed} <= {c["number"] for c in dispatched["items"]}
    for name in (*COUNT_KPIS, *RATE_KPIS):
        for part in ("",) if name in COUNT_KPIS else ("n", "d"):
            query = f"kpi={name}" + (f"&kpi_part={part}" if part else "") + "&per_page=200"
            listed = client.get(f"/api/v1/cases?{query}")
            assert listed.status_code == 200, (query, listed.json)
            found = {c["number"] for c in listed.json["items"]} & mine
            shown = _numbers(page.get(f"/cases?{query}").get_data(True)) & mine
            assert found == shown, query
    overdue = client.get("/api/v1/cases?kpi=overdue&kpi_part=n&per_page=200").json
    assert open_late in {c["number"] for c in overdue["items"]}
    assert closed not in {c["number"] for c in overdue["items"]}


def test_bad_figure_filters_are_a_422_naming_the_field(api):
    client = api("supervisor")
    for query, field in (
        ("kpi=nonsense", "kpi"),
        ("kpi=overdue", "kpi_part"),
        ("kpi=overdue&kpi_part=x", "kpi_part"),
        ("kpi_part=n", "kpi_part"),
        ("dispatched=maybe", "dispatched"),
        ("kpi=cohandling&kpi_part=n", "kpi"),
        ("kpi=cohandling&kpi_part=n&department=B-UM&department_role=lead", "kpi"),
    ):
        response = client.get(f"/api/v1/cases?{query}", headers=EN)
        assert response.status_code == 422, query
        assert list(response.json["errors"]) == [field], (query, response.json)
    good = client.get("/api/v1/cases?kpi=cohandling&kpi_part=d&department=B-UM&department_role=co")
    assert good.status_code == 200
    assert client.get("/api/v1/cases?kpi=dispatched").status_code == 200  # a count: no part


def test_the_api_lists_the_cases_linked_to_the_calls_of_a_period(api, hotline_app):
    from tests.webapp.test_call_kpis_page import make_calls

    make_calls(hotline_app)  # w1, on Sunday 1 March, is linked to a complaint
    client = api("supervisor")
    listed = client.get("/api/v1/cases?called_from=2026-03-01&called_to=2026-03-01")
    assert listed.status_code == 200 and listed.json["total"] == 1
    assert client.get("/api/v1/cases?called_from=2026-03-02").json["total"] == 0
    bad = client.get("/api/v1/cases?called_from=2026-03-02&called_to=2026-03-01")
    assert bad.status_code == 422 and list(bad.json["errors"]) == ["called_to"]
