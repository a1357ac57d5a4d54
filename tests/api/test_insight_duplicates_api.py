"""The duplicate suggestions' API (issue 19): a case's, and a draft's for phone systems."""

from __future__ import annotations

from tests.webapp.test_intake import open_case
from tests.workflows.dup_pairs import SAME

A, B = SAME[0]
ADDRESS = "幸福路88号阳光小区"


def test_the_api(hotline_app, api):
    master = open_case(hotline_app, description=A, address=ADDRESS, caller_phone="13900000001")
    dup = open_case(hotline_app, description=B, address="幸福路88号阳光小区")
    response = api("dispatcher").get(f"/api/v1/cases/{dup}/duplicates")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [i["number"] for i in items] == [master]
    assert items[0]["reasons"] == ["description", "address"] and items[0]["score"] > 0.2
    assert api("handler").get(f"/api/v1/cases/{dup}/duplicates").status_code == 404
    response = api("operator").post(
        "/api/v1/duplicates", json={"description": B, "caller_phone": "139-0000-0001"}
    )
    assert response.status_code == 200
    found = {i["number"]: i["reasons"] for i in response.get_json()["items"]}
    # the same words first (dup), then the case of the same matter and the same caller
    assert list(found) == [dup, master]
    assert found == {dup: ["description"], master: ["description", "caller"]}
    response = api("operator").post(
        "/api/v1/duplicates", json={"description": 5, "confidential": "yes", "other": 1}
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"description", "confidential", "other"}
    assert api("operator").post("/api/v1/duplicates", json={}).status_code == 422
    assert api("handler").post("/api/v1/duplicates", json={"description": B}).status_code == 403
