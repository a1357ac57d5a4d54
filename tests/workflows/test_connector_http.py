"""``http_request`` on its own: the allow-list, and calls to a local server in a thread."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine.connectors import Call
from engine.outbox import PermanentFailure
from workflows.connectors.http import AllowedHosts, HostError, HttpRequest


class _Handler(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        _Handler.seen.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        status = {"/missing": 404, "/busy": 503, "/moved": 302}.get(self.path, 200)
        payload = json.dumps({"ok": status == 200, "path": self.path}).encode()
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "http://elsewhere.example/")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _answer


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _call(**params) -> Call:
    return Call(
        key="connector:1:abc",
        instance_id=1,
        task_id="abc",
        element_id="c",
        connector="http_request",
        params=params,
        result_variable="r",
    )


def test_a_post_to_an_allowed_host_answers_status_and_body(server):
    _Handler.seen.clear()
    http = HttpRequest(AllowedHosts.parse(f"127.0.0.1:{server}"))
    result = http.perform(
        _call(
            url=f"http://127.0.0.1:{server}/tickets",
            method="POST",
            body={"number": "2026120500001"},
            headers={"X-Token": "t"},
        )
    )
    assert result == {"status": 200, "body": {"ok": True, "path": "/tickets"}}
    (seen,) = _Handler.seen
    assert seen["method"] == "POST"
    assert json.loads(seen["body"]) == {"number": "2026120500001"}
    assert seen["headers"]["X-Token"] == "t"
    assert seen["headers"]["Idempotency-Key"] == "connector:1:abc"
    assert seen["headers"]["Content-Type"].startswith("application/json")


def test_a_permanent_answer_is_not_retried_and_a_busy_one_is(server):
    http = HttpRequest(AllowedHosts.parse(f"127.0.0.1:{server}"))
    with pytest.raises(PermanentFailure, match="404"):
        http.perform(_call(url=f"http://127.0.0.1:{server}/missing"))
    with pytest.raises(ConnectionError, match="503"):
        http.perform(_call(url=f"http://127.0.0.1:{server}/busy"))


def test_a_redirect_is_not_followed(server):
    http = HttpRequest(AllowedHosts.parse(f"127.0.0.1:{server}"))
    with pytest.raises(ConnectionError, match="302"):
        http.perform(_call(url=f"http://127.0.0.1:{server}/moved"))


def test_another_port_of_an_allowed_host_is_refused_before_any_call(server):
    _Handler.seen.clear()
    http = HttpRequest(AllowedHosts.parse("127.0.0.1"))
    with pytest.raises(PermanentFailure, match="not allowed"):
        http.perform(_call(url=f"http://127.0.0.1:{server}/tickets"))
    assert _Handler.seen == []


@pytest.mark.parametrize(
    ("hosts", "url", "allowed"),
    [
        ("api.example.org", "https://api.example.org/x", True),
        ("api.example.org", "http://api.example.org/x", True),
        ("api.example.org", "https://api.example.org:8443/x", False),
        ("api.example.org:8443", "https://api.example.org:8443/x", True),
        ("API.Example.org", "https://api.example.ORG./x", True),
        ("api.example.org", "https://evil.example.org/x", False),
        ("api.example.org", "https://api.example.org.evil.net/x", False),
        ("api.example.org", "https://user:pw@api.example.org/x", False),
        ("api.example.org", "file:///etc/passwd", False),
        ("", "https://api.example.org/x", False),
    ],
)
def test_the_allow_list(hosts, url, allowed):
    assert (AllowedHosts.parse(hosts).refusal(url) is None) is allowed


@pytest.mark.parametrize("text", ["api.example.org:http", "https://api.example.org", "a b"])
def test_a_bad_entry_is_refused_naming_it(text):
    with pytest.raises(HostError, match="api.example.org|a b"):
        AllowedHosts.parse(text)
