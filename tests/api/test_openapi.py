"""The OpenAPI document and the documentation page: complete, and served from here."""

from __future__ import annotations

import re


def test_the_document_describes_every_endpoint_and_the_rules(hotline_app):
    response = hotline_app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert spec["security"] == [{"bearerAuth": []}]
    routes = {
        re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule.rule)
        for rule in hotline_app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
    }
    assert routes == set(spec["paths"])
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "status", "message", "errors"}
    intake = spec["components"]["schemas"]["Intake"]
    assert intake["properties"]["case_type"]["enum"][0] == "complaint"
    assert "caller_phone" in intake["required"] and intake["additionalProperties"] is False
    post_case = spec["paths"]["/api/v1/cases"]["post"]
    headers = {p["name"] for p in post_case["parameters"] if p["in"] == "header"}
    assert "Idempotency-Key" in headers
    complete = spec["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]
    assert {"If-Match", "Idempotency-Key"} <= {p["name"] for p in complete["parameters"]}
    assert "ETag" in spec["paths"]["/api/v1/cases/{number}"]["get"]["responses"]["200"]["headers"]


def test_the_docs_page_loads_nothing_from_other_hosts(hotline_app):
    response = hotline_app.test_client().get("/api/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "/api/v1/cases/{number}" in html and "/api/openapi.json" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources
