"""Case types added on the pages (issue 21): an administrator adds the 12315 consumer complaint
from a copy of the complaint diagram, with its own intake form and deadlines; it is offered at
intake, in the API and through Open311 at once, in every process of the installation, and its
cases keep their own fields."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import Definition, ProcessInstance
from tests.api import conftest as api_fixtures
from tests.open311.conftest import make_channel
from tests.open311.test_open311 import BASE, REPORT
from tests.webapp.consumer import FORM, VALUES, with_details_form
from tests.webapp.pages import post
from tests.workflows.conftest import INTAKE
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases.models import Case, CaseTypeRecord
from workflows.policy.models import DeadlinePolicy

api = api_fixtures.api  # the API's fixture: a client with a role's token


def add_consumer(app, client, **changes):
    return post(
        client, "/admin/case-types/new", {**FORM, **changes}, token_from="/admin/case-types/new"
    )


def test_an_administrator_adds_a_type_from_a_copy_of_a_diagram(hotline_app, as_role, tmp_path):
    with_details_form(hotline_app, tmp_path)
    admin = as_role("admin")
    page = admin.get("/admin/case-types/new").get_data(as_text=True)
    assert "consumer/details" in page and 'value="complaint"' in page
    response = add_consumer(hotline_app, admin)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    # the designer lands in the modeler on the copy
    assert response.headers["Location"].endswith("/admin/definitions/consumer/1/edit")
    listed = admin.get("/admin/case-types").get_data(as_text=True)
    assert "消费投诉" in listed and "consumer/details" in listed and "在本页新增" in listed
    with hotline_app.app_context():
        definition = db.session.scalars(
            select(Definition).where(Definition.key == "consumer")
        ).one()
        assert 'id="consumer"' in definition.xml and 'processRef="consumer"' in definition.xml
        normal = db.session.scalars(
            select(DeadlinePolicy).where(
                DeadlinePolicy.case_type == "consumer", DeadlinePolicy.urgency == "normal"
            )
        ).one()
        assert (normal.sign_value, normal.sign_unit) == (7, "workdays")
        assert (normal.reply_value, normal.reply_unit) == (45, "workdays")
        urgencies = db.session.scalars(
            select(DeadlinePolicy.urgency).where(DeadlinePolicy.case_type == "consumer")
        ).all()
        assert sorted(urgencies) == ["critical", "normal", "urgent"]
        assert "consumer" in get_hotline().case_types


def test_the_new_type_is_offered_and_keeps_its_own_fields(hotline_app, as_role, tmp_path):
    with_details_form(hotline_app, tmp_path)
    assert add_consumer(hotline_app, as_role("admin")).status_code == 303
    operator = as_role("operator")
    intake = operator.get("/intake").get_data(as_text=True)
    assert 'value="consumer"' in intake and "消费投诉" in intake
    fields = operator.get("/intake/details?case_type=consumer").get_data(as_text=True)
    for label in ("经营者", "商品或服务", "涉及金额（元）", "购买日期"):
        assert label in fields, label
    plain = operator.get("/intake/details?case_type=complaint").get_data(as_text=True)
    assert "经营者" not in plain and "<fieldset" not in plain
    # its own fields are required: the form comes back naming them, nothing recorded
    with hotline_app.app_context():
        before = len(db.session.scalars(select(Case.id)).all())
    refused = post(operator, "/intake", {**INTAKE, "case_type": "consumer"}, token_from="/intake")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'data-key="merchant"' in html and "经营者" in html
    with hotline_app.app_context():
        assert len(db.session.scalars(select(Case.id)).all()) == before
    response = post(
        operator, "/intake", {**INTAKE, "case_type": "consumer", **VALUES}, token_from="/intake"
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    with hotline_app.app_context():
        case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
        assert case.case_type == "consumer"
        assert case.details == {
            "merchant": "幸福超市",
            "product": "紫菜",
            "amount": 38.5,
            "purchase_date": "2026-02-20",
        }
        assert (
            case.policy["sign"] == {"value": 7, "unit": "workdays"}
            or case.policy["sign"]["value"] == 7
        )
        instance = db.session.scalars(
            select(ProcessInstance).where(ProcessInstance.business_key == case.number)
        ).one()
        assert instance.key == "consumer"
        number = case.number
    page = as_role("supervisor").get(f"/cases/{number}").get_data(as_text=True)
    assert "幸福超市" in page and "涉及金额（元）" in page and "2026-02-20" in page


def test_the_api_and_open311_take_the_types_own_fields(hotline_app, as_role, api, tmp_path):
    with_details_form(hotline_app, tmp_path)
    assert add_consumer(hotline_app, as_role("admin")).status_code == 303
    client = api("operator")
    missing = client.post("/api/v1/cases", json={**INTAKE, "case_type": "consumer"})
    assert missing.status_code == 422
    assert set(missing.get_json()["errors"]) >= {"merchant", "product", "amount", "purchase_date"}
    bad = client.post("/api/v1/cases", json={**INTAKE, "case_type": "consumer", "details": [1]})
    assert bad.status_code == 422 and "details" in bad.get_json()["errors"]
    made = client.post("/api/v1/cases", json={**INTAKE, "case_type": "consumer", "details": VALUES})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["details"]["merchant"] == "幸福超市"
    # a type without fields of its own refuses them, naming the field
    other = client.post("/api/v1/cases", json={**INTAKE, "details": {"merchant": "x"}})
    assert other.status_code == 422 and "details" in other.get_json()["errors"]

    web = hotline_app.test_client()
    services = web.get(f"{BASE}/services.json").get_json()
    assert any(s["service_code"] == "consumer" and s["group"] == "市场监管" for s in services)
    definition = web.get(f"{BASE}/services/consumer.json").get_json()
    codes = [a["code"] for a in definition["attributes"]]
    assert {"merchant", "product", "amount", "purchase_date"} <= set(codes)
    key = make_channel(hotline_app, "12315 app")
    data = {**REPORT, "api_key": key, "service_code": "consumer", "attribute[category]": "食品安全"}
    refused = web.post(f"{BASE}/requests.json", data=data)
    assert refused.status_code == 400 and "merchant" in refused.get_data(as_text=True)
    data.update({f"attribute[{k}]": v for k, v in VALUES.items()})
    created = web.post(f"{BASE}/requests.json", data=data)
    assert created.status_code == 201, created.get_data(as_text=True)
    with hotline_app.app_context():
        case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
        assert case.case_type == "consumer" and case.details["product"] == "紫菜"


def test_another_process_takes_the_new_type_up_without_a_restart(hotline_app, as_role, tmp_path):
    with_details_form(hotline_app, tmp_path)
    from tests.webapp.conftest import dispose, make_app

    other = make_app(
        str(db.engines[None].url) if False else hotline_app.config["DATABASE_URL"], None
    )
    try:
        with other.app_context():
            assert "consumer" not in get_hotline().case_types
        assert add_consumer(hotline_app, as_role("admin")).status_code == 303
        with other.app_context():
            stored = get_hotline().stored_types
            stored.every = 0  # the next request checks (every 2 seconds by default)
        services = other.test_client().get(f"{BASE}/services.json").get_json()
        assert "consumer" in [s["service_code"] for s in services]
    finally:
        dispose(other)


def test_bad_declarations_are_named_and_store_nothing(hotline_app, as_role, tmp_path):
    with_details_form(hotline_app, tmp_path)
    admin = as_role("admin")
    cases = {
        "code": ({"code": "Bad-Code"}, 400, "小写字母"),
        "code taken": ({"code": "complaint"}, 422, "complaint"),
        "no process": ({"copy_from": ""}, 400, "复制"),
        "both": ({"process": "complaint"}, 400, "二选一"),
        "limit": ({"reply_value": "0"}, 400, "f_reply_value"),
        "unknown diagram": ({"copy_from": "nothing"}, 400, "copy_from"),
        "label": ({"label_zh": ""}, 400, "label_zh"),
    }
    for name, (changes, status, said) in cases.items():
        response = add_consumer(hotline_app, admin, **changes)
        html = response.get_data(as_text=True)
        assert response.status_code == status, (name, html[:2000])
        assert said in html, name
    with hotline_app.app_context():
        assert db.session.scalars(select(CaseTypeRecord)).all() == []
        assert (
            db.session.scalars(select(Definition).where(Definition.key == "consumer")).all() == []
        )
        assert "consumer" not in get_hotline().case_types
