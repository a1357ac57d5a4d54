"""Every answer carries the security headers; a diagram's XML can run nothing (issue 15,
items 3 and 6, first part)."""

from __future__ import annotations

import pytest

from tests.webapp.test_cases_pages import open_case
from webapp.headers import ALWAYS, DATA_CSP


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (None, "/login"),
        ("operator", "/intake"),
        ("supervisor", "/cases"),
        ("supervisor", "/cases?format=csv"),
        ("supervisor", "/cases/NOPE"),  # an error page too
        ("admin", "/admin"),
    ],
)
def test_pages_carry_the_security_headers(hotline_app, as_role, role, path):
    client = as_role(role) if role else hotline_app.test_client()
    response = client.get(path)
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, (path, name)
    assert "sandbox" not in response.headers.get("Content-Security-Policy", "")


def test_a_diagram_is_served_as_data_that_runs_nothing(hotline_app, as_role):
    number = open_case(hotline_app)
    client = as_role("supervisor")
    response = client.get(f"/cases/{number}/diagram.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.headers["Content-Security-Policy"] == DATA_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    admin = as_role("admin").get("/admin/definitions/complaint/1/xml")
    assert admin.status_code == 200
    assert admin.headers["Content-Security-Policy"] == DATA_CSP


def test_the_api_carries_them_too(hotline_app):
    response = hotline_app.test_client().get("/api/v1/cases")  # unauthenticated: 401
    assert response.status_code == 401
    assert response.headers["X-Content-Type-Options"] == "nosniff"
