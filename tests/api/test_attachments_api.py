"""The attachments' API: add files (multipart), list them, download them and their thumbnails;
refused files named; other departments see nothing."""

from __future__ import annotations

import io

from tests.webapp.test_attachments import HTML, jpeg, png, stored
from tests.webapp.test_cases_pages import dispatched


def post_files(client, number: str, *files: tuple[str, bytes]):
    return client.post(
        f"/api/v1/cases/{number}/attachments",
        data={"attachments": [(io.BytesIO(d), n) for n, d in files]},
        content_type="multipart/form-data",
    )


def test_add_list_and_download(hotline_app, api):
    number = dispatched(hotline_app)
    client = api("handler")
    response = post_files(client, number, ("罚单.jpg", jpeg()), ("a.png", png()))
    assert response.status_code == 201, response.get_json()
    items = response.get_json()["items"]
    assert [(i["file_name"], i["content_type"], i["source"]) for i in items] == [
        ("罚单.jpg", "image/jpeg", "api"),
        ("a.png", "image/png", "api"),
    ]
    listed = client.get(f"/api/v1/cases/{number}/attachments").get_json()
    assert [i["id"] for i in listed["items"]] == [i["id"] for i in items]
    first = client.get(items[0]["url"])
    assert first.status_code == 200 and first.data == jpeg()
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    thumb = client.get(items[0]["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    # another department's handler: no such case
    other = api("other_handler")
    assert other.get(f"/api/v1/cases/{number}/attachments").status_code == 404
    assert other.get(items[0]["url"]).status_code == 404


def test_refused_files_are_named_and_nothing_is_kept(hotline_app, api):
    number = dispatched(hotline_app)
    client = api("supervisor")
    response = post_files(client, number, ("ok.png", png()), ("evil.jpg", HTML))
    assert response.status_code == 422
    (message,) = response.get_json()["errors"]["attachments"]
    assert message.startswith("evil.jpg: this kind of file is not accepted")
    assert client.get(f"/api/v1/cases/{number}/attachments").get_json()["items"] == []
    assert stored(hotline_app) == []
    response = client.post(f"/api/v1/cases/{number}/attachments", json={"x": 1})
    assert response.status_code == 422 and "attachments" in response.get_json()["errors"]
    missing = client.get(f"/api/v1/cases/{number}/attachments/99999")
    assert missing.status_code == 404


def test_the_sheets_come_as_pdf_for_whoever_sees_the_case(hotline_app, api):
    from tests.webapp.test_cases_pages import close_on_time
    from tests.webapp.test_printing import pdf_text

    number = dispatched(hotline_app)
    client = api("handler")
    response = client.get(f"/api/v1/cases/{number}/sheets/dispatch")
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="dispatch-{number}.pdf"'
    )
    _pages, text = pdf_text(response)
    assert "交办单" in text and number in text
    # no reply yet: no closure sheet, said in JSON
    early = client.get(f"/api/v1/cases/{number}/sheets/closure")
    assert early.status_code == 409 and "还没有办结单" in early.get_json()["message"]
    unknown = client.get(f"/api/v1/cases/{number}/sheets/receipt")
    assert unknown.status_code == 404 and "dispatch, closure" in unknown.get_json()["message"]
    close_on_time(hotline_app, number)
    _pages, text = pdf_text(client.get(f"/api/v1/cases/{number}/sheets/closure"))
    assert "办结单" in text
    # another department's handler does not see the case
    assert api("other_handler").get(f"/api/v1/cases/{number}/sheets/dispatch").status_code == 404
