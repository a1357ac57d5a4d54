"""Hostile input on every entry point is a 400 naming the problem, never a 500 (issue 15,
item 7): a lone surrogate in any JSON text (a value or a key, as the ``\\ud800`` escape or as
the bytes ED A0 80), JSON nested 100,000 levels deep on any URL (unauthenticated, before
anything else looks at the request), percent-encoded invalid UTF-8 in query strings and
forms. Nothing is written."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.api.conftest import make_token
from tests.open311.conftest import make_channel
from tests.open311.test_open311 import BASE, post_request
from tests.webapp.pages import post
from tests.workflows.conftest import INTAKE
from webapp.cli import cli
from webapp.extensions import db
from webapp.input_guard import DEPTH_MESSAGE, MAX_DEPTH, SURROGATE_MESSAGE
from workflows.cases.models import Case

DEEP = b"[" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000
JSON = {"Content-Type": "application/json", "Accept-Language": "en"}


def case_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def every_url(app) -> list[tuple[str, str]]:
    """(method, url) of every route of the app, its arguments filled with something."""
    out = []
    for rule in app.url_map.iter_rules():
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<{argument}>", "1")
        for converter in ("int", "path", "any(json, xml)", "string"):
            for argument in rule.arguments:
                url = url.replace(
                    f"<{converter}:{argument}>", "json" if "any" in converter else "1"
                )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, url))
    return out


def assert_refused(response, field: str, message: str) -> None:
    """400 in the area's format, naming ``field``."""
    path = response.request.path
    assert response.status_code == 400, (path, response.status_code)
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "RecursionError" not in text
    if path.startswith("/api/v1/"):
        assert response.json["errors"] == {field: [message]}, path
    elif path.startswith("/open311/") and response.is_json:
        assert response.json[0]["code"] == 400 and field in response.json[0]["description"]
    elif path.startswith("/open311/"):  # XML unless the URL ends in .json
        assert "<code>400</code>" in text and field in text, text
    else:
        assert f"{field}: {message}" in text, path


def test_deep_json_on_every_url_is_refused_before_anything_else(hotline_app):
    client = hotline_app.test_client()
    urls = every_url(hotline_app)
    assert len(urls) > 100 and ("POST", "/login") in urls and ("POST", "/api/v1/cases") in urls
    for method, url in urls:
        for body in (DEEP, DEEP_OBJECT):
            response = client.open(url, method=method, data=body, headers=JSON)
            assert_refused(response, "body", DEPTH_MESSAGE)


def test_a_lone_surrogate_in_json_on_every_url_is_named(hotline_app):
    client = hotline_app.test_client()
    for method, url in every_url(hotline_app):
        body = json.dumps({"note": {"text": "a\ud800b"}})
        response = client.open(url, method=method, data=body, headers=JSON)
        assert_refused(response, "note.text", SURROGATE_MESSAGE)


def test_the_api_refuses_surrogates_in_values_keys_and_bytes_and_writes_nothing(hotline_app):
    client = hotline_app.test_client()
    headers = {"Authorization": f"Bearer {make_token(hotline_app, 'op1')}", **JSON}
    before = case_count(hotline_app)
    for body, field in (
        (json.dumps({**INTAKE, "caller_name": "张\udc00三"}), "caller_name"),
        (json.dumps({**INTAKE, "address": {"\ud83d": "x"}}), "address.\\ud83d"),
        (json.dumps({**INTAKE, "tags": ["ok", "\udfff"]}), "tags"),
        # a surrogate encoded as UTF-8 (ED A0 80), which Python's JSON decoder lets through
        (json.dumps(INTAKE, ensure_ascii=False).replace("}", ', "x": "\ud800"}', 1), "x"),
    ):
        data = body.encode("utf-8", "surrogatepass")
        response = client.post("/api/v1/cases", data=data, headers=headers)
        assert_refused(response, field, SURROGATE_MESSAGE)
    assert case_count(hotline_app) == before
    deep = client.post("/api/v1/cases", data=DEEP, headers=headers)
    assert_refused(deep, "body", DEPTH_MESSAGE)
    ok = client.post("/api/v1/cases", json=INTAKE, headers=headers)  # the same without them
    assert ok.status_code == 201, ok.json
    assert case_count(hotline_app) == before + 1


def test_json_as_deep_as_the_limit_still_parses(hotline_app):
    app = hotline_app
    ok = json.dumps(json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)).encode()
    with app.test_request_context("/", method="POST", data=ok, headers=JSON):
        from flask import request

        assert request.get_json() is not None
    over = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    response = app.test_client().post("/api/v1/cases", data=over, headers=JSON)
    assert_refused(response, "body", DEPTH_MESSAGE)


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("supervisor", "/cases?text=%ED%A0%80%FF"),
        ("supervisor", "/cases?caller_phone=%C0%AF&page=%ED%A0%80"),
        ("supervisor", "/supervision/overdue?department=%ED%A0%80"),
        ("dispatcher", "/inbox?step=%ED%A0%80"),
        ("admin", "/admin/users?q=%FF%FE"),
        ("operator", "/intake/knowledge?q=%ED%A0%80"),
        ("operator", "/intake/caller?caller_phone=%ED%A0%80"),
    ],
)
def test_invalid_utf8_in_query_strings_is_no_500(as_role, role, path):
    response = as_role(role).get(path)
    assert response.status_code in (200, 400), (path, response.status_code)


def test_invalid_utf8_in_the_api_query_and_forms_is_no_500(hotline_app, as_role):
    client = hotline_app.test_client()
    headers = {"Authorization": f"Bearer {make_token(hotline_app, 'op1')}"}
    response = client.get("/api/v1/cases?text=%ED%A0%80", headers=headers)
    assert response.status_code == 200, response.json
    response = as_role("operator").post(
        "/intake",
        data=b"caller_phone=%ED%A0%80&description=%FF",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (200, 400, 422)


def test_open311_refuses_hostile_json_and_survives_invalid_utf8(hotline_app):
    key = make_channel(hotline_app, "web form")
    client = hotline_app.test_client()
    before = case_count(hotline_app)
    response = client.post(f"{BASE}/requests.json?api_key={key}", data=DEEP, headers=JSON)
    assert_refused(response, "body", DEPTH_MESSAGE)
    response = client.post(f"{BASE}/requests.json?api_key={key}", json={"description": "\ud800"})
    assert_refused(response, "description", SURROGATE_MESSAGE)
    assert case_count(hotline_app) == before
    response = post_request(client, key, description="漏水%ED%A0%80".encode())
    assert response.status_code in (200, 201, 400), response.get_data(as_text=True)
    response = client.get(f"{BASE}/requests.json?api_key={key}&status=%ED%A0%80")
    assert response.status_code in (200, 400)


# -- files and the command line -------------------------------------------------------------

DIAGRAM = Path("bpmn/complaint.bpmn").read_text(encoding="utf-8")
#: a diagram whose text holds what no text may: each is refused, located, with the reason
HOSTILE_DIAGRAMS = {
    "a character reference to a surrogate": (
        DIAGRAM.replace('name="', 'name="&#xD800;', 1).encode(),
        "invalid character number",
    ),
    "a surrogate encoded as UTF-8": (
        DIAGRAM.replace('name="', 'name="\ud800', 1).encode("utf-8", "surrogatepass"),
        "not well-formed",
    ),
    "bytes that are no UTF-8": (
        DIAGRAM.encode().replace(b'name="', b'name="\xff\xfe', 1),
        "not well-formed",
    ),
    "a character reference to NUL": (
        DIAGRAM.replace('name="', 'name="&#0;', 1).encode(),
        "invalid character number",
    ),
}


def versions(app) -> int:
    from engine.models import Definition

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Definition))


@pytest.mark.parametrize("kind", sorted(HOSTILE_DIAGRAMS))
def test_a_hostile_diagram_upload_is_a_located_validation_error(as_role, hotline_app, kind):
    data, reason = HOSTILE_DIAGRAMS[kind]
    before = versions(hotline_app)
    response = post(
        as_role("admin"),
        "/admin/definitions/upload",
        {"file": (BytesIO(data), "hostile.bpmn")},
        token_from="/admin/definitions",
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "hostile.bpmn:4" in html and reason in html, kind
    assert versions(hotline_app) == before


@pytest.mark.parametrize("kind", sorted(HOSTILE_DIAGRAMS))
def test_a_hostile_diagram_file_on_the_command_line_is_an_error_line(runner, kind, tmp_path):
    data, reason = HOSTILE_DIAGRAMS[kind]
    path = tmp_path / "hostile.bpmn"
    path.write_bytes(data)
    for command in ("validate", "deploy"):
        result = runner.invoke(cli, [command, str(path)])
        assert result.exit_code == 1 and not isinstance(result.exception, UnicodeError)
        assert "hostile.bpmn:4: -: malformed XML: " in result.output, result.output
        assert reason in result.output


def test_arguments_that_are_not_utf8_are_named_not_a_traceback(runner, tmp_path):
    diagram = tmp_path / "changed.bpmn"
    diagram.write_text(DIAGRAM.replace('name="', 'name="X', 1), encoding="utf-8")
    # what Python makes of the bytes FF and ED A0 80 in argv (surrogateescape)
    for args in (
        ["deploy", "--by", "\udcff", str(diagram)],
        ["deploy", str(tmp_path / "\udced\udca0\udc80.bpmn")],
        ["calendar", "set", "2026-10-01", "--name", "国庆\udcff"],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, (args, result.exception)
        assert "is not UTF-8 text" in result.output
        assert "\\xff" in result.output or "\\xed\\xa0\\x80" in result.output
