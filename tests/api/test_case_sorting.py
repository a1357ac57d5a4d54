"""Sorting ``GET /api/v1/cases`` (issue 20, docs/lists.md): the case list's columns, and a
422 naming the field for an unknown column or direction."""

from __future__ import annotations


def test_the_api_sorts_the_cases_and_names_an_unknown_sort(hotline_app, api):
    from tests.api.test_case_filters import add

    numbers = [add(hotline_app, urgency=u) for u in ("normal", "critical", "urgent")]
    sup = api("supervisor")

    def listed(query: str) -> list[str]:
        response = sup.get(f"/api/v1/cases?per_page=100&{query}")
        assert response.status_code == 200, response.json
        return [c["number"] for c in response.json["items"] if c["number"] in numbers]

    assert listed("sort=urgency&dir=asc") == [numbers[1], numbers[2], numbers[0]]
    assert listed("sort=number&dir=asc") == sorted(numbers)
    assert listed("sort=number") == sorted(numbers, reverse=True)  # the number's own default
    for query, field in (
        ("sort=caller_name", "sort"),
        ("sort=number&dir=up", "dir"),
        ("dir=asc", "dir"),
    ):
        response = sup.get(f"/api/v1/cases?{query}")
        assert response.status_code == 422 and field in response.json["errors"], response.json
    assert "one of number, created" in sup.get("/api/v1/cases?sort=x").json["errors"]["sort"][0]
