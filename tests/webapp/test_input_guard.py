"""A NUL character (which PostgreSQL's text cannot hold) in any field of any entry point is
answered 400 naming the field, in that entry point's own error format, and nothing is written.
Before, a search or an intake with one failed inside the database driver: a 500."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.api.conftest import make_token
from tests.open311.conftest import make_channel
from tests.open311.test_open311 import BASE, post_request
from tests.workflows.conftest import INTAKE
from webapp.extensions import db
from workflows.cases.models import Case


def case_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def test_the_api_names_the_field_and_writes_nothing(hotline_app):
    client = hotline_app.test_client()
    headers = {"Authorization": f"Bearer {make_token(hotline_app, 'op1')}"}
    before = case_count(hotline_app)
    for query, field in (
        ("text=ab%00cd", "text"),
        ("phone=138%00", "phone"),
        ("number=2%00", "number"),
    ):
        response = client.get(f"/api/v1/cases?{query}", headers=headers)
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.json["errors"] == {field: [response.json["errors"][field][0]]}
        assert "U+0000" in response.json["errors"][field][0]
    intake = {**INTAKE, "caller_name": "张\x00三", "address": {"nested": "a\x00"}}
    response = client.post("/api/v1/cases", json=intake, headers=headers)
    assert response.status_code == 400
    assert set(response.json["errors"]) == {"caller_name", "address.nested"}
    assert case_count(hotline_app) == before
    ok = client.post("/api/v1/cases", json=INTAKE, headers=headers)  # the same without it
    assert ok.status_code == 201, ok.json
    assert case_count(hotline_app) == before + 1


def test_the_pages_name_the_field(as_role):
    client = as_role("supervisor")
    response = client.get("/cases?text=%00", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "text: contains the character U+0000" in page and "Traceback" not in page
    # in the reader's language (Chinese by default)
    page = client.get("/cases?text=%00&q=%ED%A0%80").get_data(as_text=True)
    assert "text: 含有字符 U+0000（NUL）" in page
    deep = client.post("/cases", data=b"[" * 1000, content_type="application/json")
    assert deep.status_code == 400 and "body: 嵌套超过 64 层" in deep.get_data(as_text=True)


def test_open311_answers_in_its_error_list(hotline_app):
    key = make_channel(hotline_app, "web form")
    before = case_count(hotline_app)
    response = post_request(hotline_app.test_client(), key, description="漏水\x00严重")
    assert response.status_code == 400
    (error,) = response.json
    assert error["code"] == 400 and "description" in error["description"]
    response = hotline_app.test_client().get(f"{BASE}/requests.json?api_key={key}&status=op%00en")
    assert response.status_code == 400 and "status" in response.json[0]["description"]
    assert case_count(hotline_app) == before
