"""Open311 photos: a request's media_url kept as a link (never fetched) and shown on the case
page; photos uploaded with the request (multipart field ``media``) attached to its case, or the
request refused, naming ``media``, with no case recorded."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from tests.open311.test_open311 import BASE, REPORT
from tests.webapp.test_attachments import HTML, jpeg, rows, stored
from webapp.extensions import db
from workflows.cases.models import Case


def post_multipart(client, key: str, *media: tuple[str, bytes], **changes):
    data = {**REPORT, "api_key": key, **changes}
    if media:
        data["media"] = [(io.BytesIO(d), n) for n, d in media]
    return client.post(f"{BASE}/requests.json", data=data, content_type="multipart/form-data")


def cases(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def test_a_photo_sent_with_the_request_is_attached_to_its_case(hotline_app, api_key, as_role):
    client = hotline_app.test_client()
    response = post_multipart(client, api_key, ("井盖.jpg", jpeg()))
    assert response.status_code == 201, response.get_data(as_text=True)
    number = response.json[0]["service_request_id"]
    (row,) = rows(hotline_app, number)
    assert row.source == "open311" and row.uploaded_by == "open311:web form"
    assert row.content_type == "image/jpeg" and row.thumb_key
    html = as_role("supervisor").get(f"/cases/{number}").get_data(as_text=True)
    # the photo, and the citizen's link as a link (the server never fetched it)
    assert f"/cases/{number}/attachments/{row.id}/thumb" in html
    assert 'href="https://img.example.org/1.jpg"' in html and 'rel="noopener' in html


def test_a_disguised_photo_refuses_the_request_and_records_nothing(hotline_app, api_key):
    client = hotline_app.test_client()
    before = cases(hotline_app)
    response = post_multipart(client, api_key, ("photo.jpg", HTML))
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "media: photo.jpg: this kind of file is not accepted" in body
    assert cases(hotline_app) == before and stored(hotline_app) == []
