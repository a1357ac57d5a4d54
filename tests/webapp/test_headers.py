"""Every answer carries the security headers; a diagram's XML can run nothing; every page
runs only our script files; nothing personal is stored by a cache (issue 15, items 3 and 6)."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import make_token
from tests.open311.conftest import make_channel
from tests.webapp.test_cases_pages import open_case
from webapp.headers import ALWAYS, DATA_CSP, PAGE_CSP


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


# -- the pages' Content-Security-Policy and no-store (issue 15, item 6) ----------------------

#: every page a role opens without an argument, besides the ones the loop leads to
PAGES_BY_ROLE = {
    None: ["/login"],
    "operator": ["/intake", "/cases", "/api/tokens"],
    "dispatcher": ["/queues", "/inbox"],
    "handler": ["/inbox"],
    "supervisor": ["/cases", "/supervision/overdue", "/kpi"],
    "admin": ["/admin", "/api/docs", "/admin/definitions/complaint/1/edit"],
}
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def inline_scripts(html: str) -> list[str]:
    """The <script> tags that would run their own text (data blocks run nothing)."""
    return [
        attrs
        for attrs in SCRIPT.findall(html)
        if "src=" not in attrs and 'type="application/json"' not in attrs
    ]


def every_page(hotline_app, as_role) -> list[tuple[str, str]]:
    """(path, html) of each role's pages, the case page, the task page and admin's lists."""
    number = open_case(hotline_app)
    seen = []
    for role, paths in PAGES_BY_ROLE.items():
        client = as_role(role) if role else hotline_app.test_client()
        if role == "admin":
            listed = client.get("/admin").get_data(as_text=True)
            paths = paths + sorted(set(re.findall(r'href="(/admin/[^"?#]+)"', listed)))
        if role == "supervisor":
            paths = paths + [f"/cases/{number}"]
        if role == "dispatcher":
            inbox = client.get("/inbox").get_data(as_text=True)
            paths = paths + sorted(set(re.findall(r'href="(/tasks/[^"?#]+)"', inbox)))[:1]
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (role, path, response.status_code)
            seen.append((path, response))
    return seen


def test_every_page_runs_only_our_script_files(hotline_app, as_role):
    pages = every_page(hotline_app, as_role)
    assert any(path.startswith("/tasks/") for path, _ in pages)
    assert any(path.startswith("/admin/definitions") for path, _ in pages)
    for path, response in pages:
        assert response.headers["Content-Security-Policy"] == PAGE_CSP, path
        html = response.get_data(as_text=True)
        assert inline_scripts(html) == [], path
        assert INLINE_HANDLER.findall(html) == [], path
        assert "javascript:" not in html, path


def test_the_policy_allows_no_inline_or_evaluated_script():
    directives = dict(d.split(" ", 1) for d in PAGE_CSP.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in directives["script-src"] and "unsafe" not in directives["default-src"]


def test_personal_answers_are_never_stored_static_files_are(hotline_app, as_role):
    number = open_case(hotline_app)
    supervisor = as_role("supervisor")
    token = make_token(hotline_app, "op1")
    for response in (
        supervisor.get("/cases"),
        supervisor.get(f"/cases/{number}"),
        supervisor.get("/cases?format=csv"),
        supervisor.get("/supervision/overdue?format=csv"),
        supervisor.get("/cases/NOPE"),
        hotline_app.test_client().get(
            "/api/v1/cases", headers={"Authorization": f"Bearer {token}"}
        ),
        hotline_app.test_client().get(
            f"/open311/v2/requests.json?api_key={make_channel(hotline_app, 'w')}"
        ),
        hotline_app.test_client().get("/login"),
    ):
        assert response.status_code in (200, 404), response.request.path
        assert response.headers["Cache-Control"] == "no-store", response.request.path
    static = hotline_app.test_client().get("/static/app.js")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")
    assert "Content-Security-Policy" not in static.headers
    static.close()
