"""A sixth case type declared in a temporary configuration (HOTLINE_CASE_TYPES: one
declaration and one diagram): `hotline init` seeds and deploys it, the pages, the REST API
and Open311 offer it, and its cases run through its diagram to closure."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.api.conftest import ApiClient, make_token
from tests.open311.conftest import make_channel
from tests.webapp.test_inbox import ready_task
from tests.workflows.conftest import INTAKE
from tests.workflows.test_case_types import PETITION, declare_petition
from webapp import create_app
from webapp.cli import cli
from webapp.config import ConfigError
from webapp.extensions import db
from workflows.cases.models import Case
from workflows.policy.models import DeadlinePolicy

EN = {"Accept-Language": "en"}
OPEN311 = "/open311/v2"


@pytest.fixture(autouse=True)
def petition(tmp_path, monkeypatch):
    """The declaration file, named by the environment as a deployment would (before the app
    is made: autouse fixtures come first)."""
    path = declare_petition(tmp_path)
    monkeypatch.setenv("HOTLINE_CASE_TYPES", str(path))
    return path


@pytest.fixture
def petition_app(hotline_app):
    """The demo city's app after `hotline init`, which adds what the declaration needs."""
    result = hotline_app.test_cli_runner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    assert "deadline policy: 3 rows added" in result.output
    assert "petition" in result.output.split("database is at the latest schema")[1]
    return hotline_app


def case_of(app, number: str) -> Case:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        db.session.expunge(case)
        return case


def test_init_seeds_the_declared_policy_and_the_admin_pages_list_it(petition_app, as_role):
    with petition_app.app_context():
        rows = {
            p.urgency: p
            for p in db.session.scalars(
                select(DeadlinePolicy).where(DeadlinePolicy.case_type == "petition")
            )
        }
    assert set(rows) == {"normal", "urgent", "critical"}
    assert (rows["normal"].reply_value, rows["normal"].reply_unit) == (7, "workdays")
    assert (rows["urgent"].reply_value, rows["urgent"].reply_unit) == (12, "hours")
    listed = as_role("admin").get("/admin/policies?per_page=100").get_data(as_text=True)
    # in declaration order: after the built-in types
    assert listed.index(">表扬<") < listed.index(">信访<")  # by their labels


def test_the_pages_offer_and_label_it_in_the_pages_language(petition_app, as_role):
    operator = as_role("operator")
    intake = operator.get("/intake").get_data(as_text=True)
    assert '<option value="petition" >信访</option>' in intake
    english = operator.get("/intake", headers=EN).get_data(as_text=True)
    assert '<option value="petition" >Petition</option>' in english
    with petition_app.app_context():
        from webapp.hotline import get_hotline
        from workflows.cases import flows

        number = flows.open_case(
            db.session, get_hotline(), data={**INTAKE, "case_type": "petition"}, actor="op1"
        ).number
    dispatcher = as_role("dispatcher")
    assert "信访" in dispatcher.get("/inbox").get_data(as_text=True)
    page = dispatcher.get(f"/cases/{number}").get_data(as_text=True)
    assert f"{number} · 信访 ·" in page
    page = dispatcher.get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    assert f"{number} · Petition ·" in page
    listed = dispatcher.get("/cases?case_type=petition", headers=EN).get_data(as_text=True)
    assert number in listed and '<option value="petition"' in listed


def test_the_api_opens_it_and_its_tasks_close_it(petition_app):
    def client(username: str) -> ApiClient:
        return ApiClient(petition_app, make_token(petition_app, username))

    created = client("op1").post("/api/v1/cases", json={**INTAKE, "case_type": "petition"})
    assert created.status_code == 201, created.json
    number = created.json["number"]
    assert created.json["case_type"] == "petition"
    steps = [
        ("dispatch", "disp1", {"lead_department": "B-MR"}),
        ("sign_for", "h_mr", {"action": "sign"}),
        ("handle", "h_mr", {"reply_text": "已协调处理并答复来访人", "result": "resolved"}),
        ("callback", "cb1", {"satisfaction": "satisfied", "resolved": "yes"}),
    ]
    for element, username, data in steps:
        task_id = ready_task(petition_app, number, element)
        done = client(username).post(f"/api/v1/tasks/{task_id}/complete", json=data)
        assert done.status_code == 200, (element, done.json)
    case = client("sup1").get(f"/api/v1/cases/{number}").json
    assert (case["status"], case["outcome"], case["case_type"]) == ("closed", "handled", "petition")
    found = client("sup1").get("/api/v1/cases?case_type=petition").json
    assert [c["number"] for c in found["items"]] == [number]
    refused = client("sup1").get("/api/v1/cases?case_type=petitions")
    assert refused.status_code == 422 and "petition" in str(refused.json["errors"]["case_type"])
    document = petition_app.test_client().get("/api/openapi.json").json
    intake = document["components"]["schemas"]["Intake"]["properties"]["case_type"]
    assert intake["enum"][-1] == "petition" and intake["enum"][0] == "complaint"
    (parameter,) = [
        p
        for p in document["paths"]["/api/v1/cases"]["get"]["parameters"]
        if p["name"] == "case_type"
    ]
    assert "petition" in parameter["schema"]["enum"]


def test_open311_lists_it_and_a_request_for_it_is_a_case_of_it(petition_app):
    client = petition_app.test_client()
    services = {s["service_code"]: s for s in client.get(f"{OPEN311}/services.json").json}
    assert (services["petition"]["service_name"], services["petition"]["group"]) == (
        "信访",
        "信访类",
    )
    english = client.get(f"{OPEN311}/services.json", headers=EN).json
    assert {
        "service_code": "petition",
        "service_name": "Petition",
        "group": "Petitions",
    }.items() <= (next(s for s in english if s["service_code"] == "petition").items())
    definition = client.get(f"{OPEN311}/services/petition.json").json
    assert definition["service_code"] == "petition"
    assert "case_type" not in {a["code"] for a in definition["attributes"]}
    # a category service asks for the case type, and offers the declared one
    category = next(s for s in services.values() if s["service_code"].startswith("c-"))
    attributes = client.get(f"{OPEN311}/services/{category['service_code']}.json").json
    (case_type,) = [a for a in attributes["attributes"] if a["code"] == "case_type"]
    assert {"key": "petition", "name": "信访"} in case_type["values"]
    key = make_channel(petition_app, "web form")
    posted = client.post(
        f"{OPEN311}/requests.json",
        data={
            "api_key": key,
            "service_code": "petition",
            "address_string": "江门市蓬江区白沙大道1号",
            "description": "反映小区加装电梯协调问题",
            "phone": "13800138000",
            "attribute[category]": "物业管理",
        },
    )
    assert posted.status_code == 201, posted.json
    number = posted.json[0]["service_request_id"]
    case = case_of(petition_app, number)
    assert (case.case_type, case.channel, case.status) == (
        "petition",
        "open311",
        "awaiting_dispatch",
    )
    (request,) = client.get(f"{OPEN311}/requests/{number}.json?api_key={key}").json
    assert (request["service_code"], request["service_name"]) == ("petition", "信访")
    listed = client.get(f"{OPEN311}/requests.json?api_key={key}&service_code=petition").json
    assert [r["service_request_id"] for r in listed] == [number]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('process = "petition"', 'process = "petiton"', "process: "),
        ('code = "petition"', 'code = "praise"', "code: 'praise' is declared twice"),
        ('label_zh = "信访"\n', "", "label_zh: missing"),
    ],
)
def test_a_bad_declaration_stops_the_app_at_start_up_naming_the_field(
    tmp_path, monkeypatch, old, new, message
):
    path = declare_petition(tmp_path, PETITION.replace(old, new))
    with pytest.raises(ConfigError, match=message):
        create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    # the command line says the same, in one line and without a traceback
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = CliRunner().invoke(cli, ["definitions"])
    assert result.exit_code == 1
    assert message in result.output and f"case types: {path}" in result.output
    assert "Traceback" not in result.output
