"""The appeals sorted by a column, on the page and in the API (docs/lists.md): the same
columns, a 422 naming the field in the API."""

from __future__ import annotations

import re

from tests.webapp.test_appeals_pages import signed_late


def test_appeals_sort_on_the_page_and_in_the_api(hotline_app, as_role, api, clock):
    numbers = []
    for _ in range(2):
        number = signed_late(hotline_app, clock)
        filed = api("handler").post(
            f"/api/v1/cases/{number}/appeals", json={"ground": "overdue", "reason": "系统故障"}
        )
        assert filed.status_code == 201, filed.json
        numbers.append(number)
    client = as_role("supervisor")
    for direction, expected in (("asc", sorted(numbers)), ("desc", sorted(numbers)[::-1])):
        html = client.get(f"/appeals?sort=case&dir={direction}").get_data(True)
        shown = [n for n in re.findall(r'href="/cases/([^"/]+)"', html) if n in numbers]
        assert shown == expected
        listed = api("supervisor").get(f"/api/v1/appeals?sort=case&dir={direction}").json
        assert [a["case"] for a in listed["items"]] == expected
    bad = api("supervisor").get("/api/v1/appeals?sort=caller_name&dir=up")
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"sort", "dir"}
    assert "case" in " ".join(bad.json["errors"]["sort"])
    alone = api("supervisor").get("/api/v1/appeals?dir=asc")
    assert alone.status_code == 422 and list(alone.json["errors"]) == ["dir"]
