"""Open311 GeoReport v2: every endpoint in XML (default) and JSON, with every field DOMAIN.md
names, parsed from the answers; errors as GeoReport's list of {code, description}."""

from __future__ import annotations

from datetime import datetime, timedelta

import defusedxml.ElementTree as SafeET
import pytest

from tests.open311.conftest import make_channel
from tests.webapp.test_inbox import act
from tests.webapp.test_intake import open_case
from workflows.open311.service import category_code

BASE = "/open311/v2"
CATEGORY = "食品安全"
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
ATTRIBUTE_FIELDS = {
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
}
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
REPORT = {
    "service_code": category_code(CATEGORY),
    "lat": "22.5787",
    "long": "113.0815",
    "address_string": "江门市蓬江区白沙大道1号",
    "description": "小区门口餐馆卫生很差，吃完腹泻",
    "first_name": "三",
    "last_name": "张",
    "phone": "13800138000",
    "email": "zhang@example.org",
    "device_id": "dev-1",
    "account_id": "acct-9",
    "media_url": "https://img.example.org/1.jpg",
    "attribute[urgency]": "normal",
    "attribute[area]": "D-PJ",
}


def xml(response):
    assert response.mimetype == "text/xml", response.get_data(as_text=True)
    return SafeET.fromstring(response.get_data())


def records(root, item: str) -> list[dict]:
    """XML list items as dicts of their children's text ("" for empty)."""
    return [{child.tag: (child.text or "") for child in node} for node in root.findall(item)]


def iso(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, value
    return moment


def post_request(client, key: str, **changes):
    data = {**REPORT, "api_key": key, **changes}
    return client.post(
        f"{BASE}/requests.json", data={k: v for k, v in data.items() if v is not None}
    )


def test_discovery(hotline_app):
    client = hotline_app.test_client()
    body = client.get(f"{BASE}/discovery.json").json
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(body)
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = xml(client.get(f"{BASE}/discovery"))
    assert root.tag == "discovery"
    formats = [f.text for f in root.find("endpoints/endpoint/formats")]
    assert formats == ["text/xml", "application/json"]
    assert xml(client.get(f"{BASE}/discovery.xml")).tag == "discovery"


def test_services_are_case_types_and_categories(hotline_app):
    client = hotline_app.test_client()
    services = client.get(f"{BASE}/services.json").json
    codes = {s["service_code"]: s for s in services}
    assert {"complaint", "report", "consultation", "help", "suggestion", "praise"} <= set(codes)
    assert codes[category_code(CATEGORY)]["service_name"] == CATEGORY
    for service in services:
        assert set(service) == SERVICE_FIELDS
        assert service["type"] in ("realtime", "batch", "blackbox")
        assert service["metadata"] is True
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    items = records(root, "service")
    assert len(items) == len(services)
    assert all(set(i) == SERVICE_FIELDS for i in items)
    assert items[0]["metadata"] == "true"
    english = client.get(f"{BASE}/services.json", headers={"Accept-Language": "en"}).json
    assert english[0]["service_name"] == "Complaint"


def test_a_service_definition_lists_the_intake_forms_attributes(hotline_app):
    client = hotline_app.test_client()
    definition = client.get(f"{BASE}/services/complaint.json").json
    assert definition["service_code"] == "complaint"
    attributes = {a["code"]: a for a in definition["attributes"]}
    # the form's fields Open311 has no parameter for; the fixed and operator-only ones not
    assert set(attributes) == {"urgency", "confidential", "area", "category"}
    # the caller may ask for confidentiality: a true/false list, not required
    assert attributes["confidential"]["datatype"] == "singlevaluelist"
    assert attributes["confidential"]["required"] is False
    assert {v["key"] for v in attributes["confidential"]["values"]} == {"true", "false"}
    for attribute in attributes.values():
        assert set(attribute) == ATTRIBUTE_FIELDS
        assert attribute["datatype"] in DATATYPES and attribute["variable"] is True
    assert attributes["category"]["required"] is True
    assert attributes["urgency"]["required"] is False  # it has a default
    assert "default normal" in attributes["urgency"]["datatype_description"]
    assert {"key": CATEGORY, "name": CATEGORY} in attributes["category"]["values"]
    assert [v["key"] for v in attributes["urgency"]["values"]] == ["normal", "urgent", "critical"]
    orders = [a["order"] for a in definition["attributes"]]
    assert orders == sorted(orders)
    category = client.get(f"{BASE}/services/{category_code(CATEGORY)}.json").json
    assert {a["code"] for a in category["attributes"]} == {
        "case_type",
        "urgency",
        "confidential",
        "area",
    }
    root = xml(client.get(f"{BASE}/services/complaint.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "complaint"
    first = root.find("attributes/attribute")
    assert {c.tag for c in first} == ATTRIBUTE_FIELDS
    assert first.find("values/value/key") is not None
    missing = client.get(f"{BASE}/services/nothing.json")
    assert missing.status_code == 404 and missing.json[0]["code"] == 404


def test_post_a_request_and_read_it_back(hotline_app, api_key):
    client = hotline_app.test_client()
    response = post_request(client, api_key)
    assert response.status_code == 201, response.json
    (created,) = response.json
    assert set(created) == {"service_request_id", "token", "service_notice", "account_id"}
    assert created["account_id"] == "acct-9" and created["service_notice"]
    number = created["service_request_id"]
    token = client.get(f"{BASE}/tokens/{created['token']}.json").json
    assert token == [{"service_request_id": number, "token": created["token"]}]
    (request,) = client.get(f"{BASE}/requests/{number}.json?api_key={api_key}").json
    assert set(request) == REQUEST_FIELDS
    assert request["service_request_id"] == number and request["status"] == "open"
    assert request["status_notes"] == "待派单：已受理，等待派往承办单位"  # the status's one name
    assert request["service_code"] == category_code(CATEGORY)
    assert request["service_name"] == CATEGORY
    assert request["description"] == REPORT["description"]
    assert request["address"] == REPORT["address_string"]
    assert request["lat"] == pytest.approx(22.5787) and request["long"] == pytest.approx(113.0815)
    assert request["media_url"] == REPORT["media_url"]
    assert request["address_id"] == "" and request["zipcode"] == ""
    assert iso(request["requested_datetime"]) == iso("2026-03-02T09:00:00+08:00")
    assert iso(request["updated_datetime"]) >= iso(request["requested_datetime"])
    assert request["expected_datetime"] is None  # due once a department has it
    assert request["agency_responsible"] == ""
    # the case is an ordinary case of the hotline
    with hotline_app.app_context():
        from sqlalchemy import select

        from webapp.extensions import db
        from workflows.cases.models import Case

        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        assert case.channel == "open311" and case.caller_name == "三 张"
        assert case.caller_phone == "13800138000" and case.category == CATEGORY
        assert case.created_by == "open311:web form"
    root = xml(client.get(f"{BASE}/requests/{number}.xml?api_key={api_key}"))
    assert root.tag == "service_requests"
    (item,) = records(root, "request")
    assert set(item) == REQUEST_FIELDS and item["status"] == "open"
    assert item["expected_datetime"] == ""
    assert xml(client.get(f"{BASE}/requests/{number}?api_key={api_key}")).tag == "service_requests"


def test_post_answers_xml_by_default(hotline_app, api_key):
    client = hotline_app.test_client()
    data = {
        **REPORT,
        "api_key": api_key,
        "service_code": "complaint",
        "attribute[category]": CATEGORY,
    }
    response = client.post(f"{BASE}/requests", data=data)
    assert response.status_code == 201
    (item,) = records(xml(response), "request")
    assert set(item) == {"service_request_id", "token", "service_notice", "account_id"}


def test_a_request_follows_its_case_to_closed(hotline_app, api_key):
    client = hotline_app.test_client()
    number = post_request(client, api_key).json[0]["service_request_id"]
    act(hotline_app, number, "dispatch", "disp1", {"lead_department": "B-MR"})
    (dispatched,) = client.get(f"{BASE}/requests/{number}.json?api_key={api_key}").json
    assert dispatched["agency_responsible"] == "市场监督管理局"
    assert iso(dispatched["expected_datetime"]) > iso(dispatched["requested_datetime"])
    act(hotline_app, number, "sign_for", "h_mr", {"action": "sign"})
    act(
        hotline_app,
        number,
        "handle",
        "h_mr",
        {"action": "reply", "reply_text": "已责令餐馆停业整顿。", "result": "resolved"},
    )
    act(hotline_app, number, "review_reply", "disp1", {"decision": "accept"})
    act(hotline_app, number, "callback", "cb1", {"satisfaction": "satisfied", "resolved": "yes"})
    (closed,) = client.get(f"{BASE}/requests/{number}.json?api_key={api_key}").json
    assert closed["status"] == "closed" and closed["status_notes"] == "已责令餐馆停业整顿。"
    updates = client.get(f"{BASE}/servicerequestupdates.json?api_key={api_key}").json
    statuses = [u["status"] for u in updates if u["service_request_id"] == number]
    assert statuses[0] == "OPEN" and statuses[-1] == "CLOSED"
    assert "INTERNAL_REFERRAL" in statuses and "IN_PROGRESS" in statuses
    for update in updates:
        assert set(update) == {
            "update_id",
            "service_request_id",
            "status",
            "updated_datetime",
            "description",
            "media_url",
            "external_status_code",
        }
        iso(update["updated_datetime"])
    root = xml(client.get(f"{BASE}/servicerequestupdates?api_key={api_key}"))
    assert root.tag == "service_request_updates"
    assert [u["status"] for u in records(root, "request_update")] == [u["status"] for u in updates]


def test_merged_and_not_accepted_read_as_duplicate_and_not_ours(hotline_app, api_key):
    from tests.api.conftest import ApiClient, make_token

    client = hotline_app.test_client()
    master = post_request(client, api_key).json[0]["service_request_id"]
    duplicate = post_request(client, api_key, phone="13900139000").json[0]["service_request_id"]
    dispatcher = ApiClient(hotline_app, make_token(hotline_app, "disp1"))
    assert (
        dispatcher.post(f"/api/v1/cases/{duplicate}/merge", json={"master": master}).status_code
        == 200
    )
    (merged,) = client.get(f"{BASE}/requests/{duplicate}.json?api_key={api_key}").json
    assert merged["status"] == "closed" and master in merged["status_notes"]
    updates = client.get(f"{BASE}/servicerequestupdates.json?api_key={api_key}").json
    assert [u["status"] for u in updates if u["service_request_id"] == duplicate] == [
        "OPEN",
        "DUPLICATE",
    ]


def test_get_requests_filters(hotline_app, api_key, clock):
    client = hotline_app.test_client()
    first = post_request(client, api_key).json[0]["service_request_id"]
    clock.advance(timedelta(days=3))
    second = post_request(
        client, api_key, service_code="consultation", **{"attribute[category]": CATEGORY}
    ).json[0]["service_request_id"]
    act(hotline_app, second, "dispatch", "disp1", {"lead_department": "B-MR"})
    open_case(hotline_app)  # a phone case: not this channel's

    def ids(query: str = "") -> list[str]:
        response = client.get(f"{BASE}/requests.json?api_key={api_key}{query}")
        assert response.status_code == 200, response.json
        return [r["service_request_id"] for r in response.json]

    assert ids() == [second, first]  # newest first, only this channel's
    assert ids(f"&service_request_id={first},{second}") == [second, first]
    assert ids(f"&service_request_id={first}&status=closed") == [first]  # others ignored
    assert ids("&service_code=consultation") == [second]
    assert ids(f"&service_code={category_code(CATEGORY)}") == [second, first]
    assert ids("&status=open") == [second, first]
    assert ids("&status=closed") == []
    assert ids("&start_date=2026-03-03T00:00:00%2B08:00") == [second]
    assert ids("&end_date=2026-03-03T00:00:00%2B08:00") == [first]
    assert ids("&start_date=2026-03-02T00:00:00Z&end_date=2026-03-04T00:00:00Z") == [first]
    root = xml(client.get(f"{BASE}/requests.xml?api_key={api_key}"))
    assert [r["service_request_id"] for r in records(root, "request")] == [second, first]
    everyone = make_channel(hotline_app, "city dashboard", read_all=True)
    assert len(client.get(f"{BASE}/requests.json?api_key={everyone}").json) == 3


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("&start_date=yesterday", "start_date"),
        ("&start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "end_date"),
        ("&status=lost", "status"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(hotline_app, api_key, query, named):
    client = hotline_app.test_client()
    response = client.get(f"{BASE}/requests.json?api_key={api_key}{query}")
    assert response.status_code == 400
    assert response.json[0]["code"] == 400 and response.json[0]["description"].startswith(named)
    root = xml(client.get(f"{BASE}/requests.xml?api_key={api_key}{query}"))
    assert root.tag == "errors" and root.findtext("error/code") == "400"


def test_api_keys(hotline_app, api_key):
    client = hotline_app.test_client()
    missing = post_request(client, None)
    assert missing.status_code == 403 and missing.json[0]["description"].startswith("api_key")
    wrong = post_request(client, "ch_wrong")
    assert wrong.status_code == 403
    runner = hotline_app.test_cli_runner()
    from webapp.cli import cli

    made = runner.invoke(cli, ["channel", "create", "sms gateway"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert post_request(client, key).status_code == 201
    assert "sms gateway" in runner.invoke(cli, ["channel", "list"]).output
    assert runner.invoke(cli, ["channel", "revoke", "sms gateway"]).exit_code == 0
    assert post_request(client, key).status_code == 403
    assert runner.invoke(cli, ["channel", "create", "sms gateway"]).exit_code == 1


def test_bad_api_keys_are_slowed_down(hotline_app):
    client = hotline_app.test_client()
    codes = [client.get(f"{BASE}/requests.json?api_key=ch_guess").status_code for _ in range(11)]
    assert codes == [403] * 10 + [429]
    refused = client.get(f"{BASE}/requests.json?api_key=ch_guess")
    assert refused.json[0]["code"] == 429 and refused.headers["Retry-After"]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"service_code": None}, "service_code"),
        ({"service_code": "potholes"}, "service_code"),
        ({"phone": "12"}, "phone"),
        ({"description": "x" * 4001}, "description"),
        ({"lat": "north", "long": "east"}, "lat"),
        ({"lat": "95", "long": "113"}, "lat"),
        ({"long": None}, "long"),
        ({"lat": None, "long": None, "address_string": None}, "address_string"),
        ({"email": "not-an-email"}, "email"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"attribute[urgency]": "whenever"}, "attribute[urgency]"),
        ({"attribute[colour]": "red"}, "attribute[colour]"),
        ({"service_code": "complaint"}, "attribute[category]"),
    ],
)
def test_bad_requests_are_400_naming_the_parameter(hotline_app, api_key, changes, named):
    client = hotline_app.test_client()
    response = post_request(client, api_key, **changes)
    assert response.status_code == 400, response.json
    descriptions = [e["description"] for e in response.json]
    assert any(d.startswith(named) for d in descriptions), descriptions
    assert all(e["code"] == 400 for e in response.json)
    listed = client.get(f"{BASE}/requests.json?api_key={api_key}").json
    assert listed == []  # nothing half-made


def test_a_phone_is_stored_in_its_one_form(hotline_app, api_key):
    client = hotline_app.test_client()
    response = post_request(client, api_key, phone="+86 139-0223-1234")
    assert response.status_code == 201, response.json
    number = response.json[0]["service_request_id"]
    with hotline_app.app_context():
        from sqlalchemy import select

        from webapp.extensions import db
        from workflows.cases.models import Case

        phone = db.session.scalar(select(Case.caller_phone).where(Case.number == number))
    assert phone == "13902231234"


def test_a_description_over_the_limit_is_400_with_the_limit_and_the_length(hotline_app, api_key):
    client = hotline_app.test_client()
    response = post_request(client, api_key, description="x" * 4001)
    assert response.status_code == 400
    assert [e["description"] for e in response.json] == ["description: 最多 4000 字，现在 4001 字"]


def test_a_retried_post_returns_the_first_request(hotline_app, api_key):
    client = hotline_app.test_client()
    data = {**REPORT, "api_key": api_key}
    headers = {"Idempotency-Key": "web-42"}
    first = client.post(f"{BASE}/requests.json", data=data, headers=headers)
    second = client.post(f"{BASE}/requests.json", data=data, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json == second.json
    assert len(client.get(f"{BASE}/requests.json?api_key={api_key}").json) == 1
    other = client.post(
        f"{BASE}/requests.json", data={**data, "description": "另一件事，完全不同"}, headers=headers
    )
    assert other.status_code == 422 and other.json[0]["code"] == 422


def test_errors_never_answer_html(hotline_app):
    client = hotline_app.test_client()
    for path in (f"{BASE}/nothing.json", f"{BASE}/requests/1.json", f"{BASE}/tokens/x.json"):
        response = client.get(path)
        assert response.status_code in (403, 404) and response.mimetype == "application/json"
        assert set(response.json[0]) == {"code", "description"}
    root = xml(client.get(f"{BASE}/nothing"))
    assert root.tag == "errors" and root.findtext("error/code") == "404"
    not_allowed = client.delete(f"{BASE}/requests.json")
    assert not_allowed.status_code == 405 and not_allowed.json[0]["code"] == 405


def test_a_refusal_of_the_domain_is_409_in_georeport_errors(hotline_app, api_key):
    """A DomainError (no dispatch platform) answers Open311's error list, not a 500."""
    from tests.api.test_errors import without_dispatch_platform

    without_dispatch_platform(hotline_app)
    client = hotline_app.test_client()
    response = post_request(client, api_key)
    assert response.status_code == 409, response.get_data(as_text=True)
    assert [e["code"] for e in response.json] == [409]
    assert "no dispatch platform" in response.json[0]["description"]
    response = client.post(f"{BASE}/requests.xml", data={**REPORT, "api_key": api_key})
    assert response.status_code == 409
    assert "no dispatch platform" in xml(response).find("error/description").text
    assert client.get(f"{BASE}/requests.json?api_key={api_key}").json == []
