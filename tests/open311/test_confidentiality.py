"""Open311 and confidentiality: a citizen asks for it with ``attribute[confidential]``; reads
never show the caller's identity to the public, confidential or not; a department that
opens the case sees it masked."""

from __future__ import annotations

from sqlalchemy import select

from tests.open311.test_open311 import BASE, CATEGORY, post_request, xml
from tests.webapp.test_inbox import act
from webapp.extensions import db
from workflows.cases.models import Case


def confidential(app, number: str) -> bool:
    with app.app_context():
        return db.session.scalar(select(Case.confidential).where(Case.number == number))


def test_a_citizen_asks_for_confidentiality_with_an_attribute(hotline_app, api_key, as_role):
    client = hotline_app.test_client()
    asked = post_request(client, api_key, **{"attribute[confidential]": "true"})
    plain = post_request(client, api_key)
    refused = post_request(client, api_key, **{"attribute[confidential]": "perhaps"})
    assert (asked.status_code, plain.status_code) == (201, 201)
    assert refused.status_code == 400
    assert [e["description"] for e in refused.json if "attribute[confidential]" in e["description"]]
    number = asked.json[0]["service_request_id"]
    assert confidential(hotline_app, number) is True
    assert confidential(hotline_app, plain.json[0]["service_request_id"]) is False
    act(hotline_app, number, "dispatch", "disp1", {"lead_department": "B-MR"})
    page = as_role("handler").get(f"/cases/{number}").get_data(as_text=True)
    assert "138****8000" in page and "13800138000" not in page


def test_reads_never_show_who_called(hotline_app, api_key):
    client = hotline_app.test_client()
    numbers = [
        post_request(client, api_key, **{"attribute[confidential]": "true"}).json[0],
        post_request(client, api_key).json[0],
        post_request(
            client, api_key, service_code="report", **{"attribute[category]": CATEGORY}
        ).json[0],
    ]
    assert confidential(hotline_app, numbers[2]["service_request_id"])  # a report always
    ids = ",".join(n["service_request_id"] for n in numbers)
    for path in (
        f"{BASE}/requests.json?api_key={api_key}",
        f"{BASE}/requests.json?api_key={api_key}&service_request_id={ids}",
        f"{BASE}/requests/{numbers[0]['service_request_id']}.json?api_key={api_key}",
        f"{BASE}/requests.xml?api_key={api_key}",
        f"{BASE}/servicerequestupdates.json?api_key={api_key}",
    ):
        body = client.get(path).get_data(as_text=True)
        assert "13800138000" not in body and "138****8000" not in body, path
        assert "张" not in body, path
    root = xml(client.get(f"{BASE}/requests.xml?api_key={api_key}"))
    assert len(root.findall("request")) == 3
