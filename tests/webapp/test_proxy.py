"""Behind a reverse proxy: the client's address and scheme come from X-Forwarded-* only when
HOTLINE_PROXY_FIX says how many proxies to trust (issue 15, several machines)."""

from __future__ import annotations

import pytest

from tests.webapp.conftest import dispose
from webapp import create_app
from webapp.proxy import proxy_fix_settings

FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


def probed(url: str, clock, **settings):
    app = create_app({"TESTING": True, "DATABASE_URL": url, **settings}, clock=clock)

    @app.get("/_probe")
    def probe():
        from flask import request, session

        session["seen"] = True  # a cookie, to see whether it is Secure
        return {"remote_addr": request.remote_addr, "scheme": request.scheme}

    return app


def test_without_proxy_fix_the_headers_change_nothing(sqlite_db, clock):
    app = probed(sqlite_db.url, clock)
    response = app.test_client().get("/_probe", headers=FORWARDED)
    assert response.get_json() == {"remote_addr": "127.0.0.1", "scheme": "http"}
    assert "Secure" not in response.headers["Set-Cookie"]
    dispose(app)


def test_with_proxy_fix_the_proxy_tells_the_address_and_scheme(sqlite_db, clock):
    app = probed(sqlite_db.url, clock, PROXY_FIX="x_for=1,x_proto=1,x_host=1")
    client = app.test_client()
    response = client.get("/_probe", headers=FORWARDED)
    assert response.get_json() == {"remote_addr": "203.0.113.9", "scheme": "https"}
    assert "Secure" in response.headers["Set-Cookie"]  # HOTLINE_SECURE_COOKIES=auto
    # one proxy trusted: a client's own X-Forwarded-For before the proxy's is not believed
    chained = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
    assert client.get("/_probe", headers=chained).get_json()["remote_addr"] == "203.0.113.9"
    # and a request the proxy forwarded is no local scrape of /metrics
    assert client.get("/metrics", headers=FORWARDED).status_code == 404
    dispose(app)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("off", None),
        ("", None),
        ("x_for=1", {"x_for": 1, "x_proto": 0, "x_host": 0, "x_port": 0, "x_prefix": 0}),
        (
            " x_for=2, x_proto=1 ,x_prefix=1",
            {"x_for": 2, "x_proto": 1, "x_host": 0, "x_port": 0, "x_prefix": 1},
        ),
    ],
)
def test_the_setting_reads(value, expected):
    assert proxy_fix_settings(value) == expected
