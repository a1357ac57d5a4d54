"""The connectors page and the JSON the modeler's properties panel reads."""

from __future__ import annotations

import pytest
from sqlalchemy import select


def test_the_json_lists_connectors_hosts_and_case_fields(as_role):
    client = as_role("admin")
    answer = client.get("/admin/connectors.json")
    assert answer.status_code == 200
    body = answer.get_json()
    names = [c["name"] for c in body["connectors"]]
    assert names == ["compute_deadline", "http_request", "notify", "set_case_field"]
    http = body["connectors"][1]
    assert {"name": "url", "label_zh": "地址", "label_en": "URL", "required": True}.items() <= (
        http["params"][0].items()
    )
    assert body["hosts"] == []
    assert "category" in [f["name"] for f in body["case_fields"]]


def test_the_page_names_the_setting_when_no_host_is_allowed(as_role):
    client = as_role("admin")
    page = client.get("/admin/connectors").get_data(as_text=True)
    assert "HOTLINE_CONNECTOR_HOSTS" in page
    assert "发送通知" in page


def test_the_app_refuses_a_bad_host_list_naming_the_variable(sqlite_db):
    from webapp import create_app
    from webapp.config import ConfigError

    with pytest.raises(ConfigError, match="HOTLINE_CONNECTOR_HOSTS"):
        create_app(
            {"TESTING": True, "DATABASE_URL": sqlite_db.url, "CONNECTOR_HOSTS": "https://crm.x"}
        )


def test_the_case_timeline_tells_of_a_call_given_up_on(hotline_app, as_role):
    from engine.db import unit_of_work
    from engine.events import EventKind
    from tests.webapp.test_intake import case_row, open_case
    from webapp.extensions import db
    from webapp.hotline import get_hotline

    number = open_case(hotline_app)
    with hotline_app.app_context():
        instance_id = case_row(hotline_app, number).instance_id
        with unit_of_work(db.session):
            for kind in (EventKind.CONNECTOR_QUEUED, EventKind.CONNECTOR_INCIDENT):
                get_hotline().runtime.record_event(
                    db.session,
                    instance_id,
                    kind,
                    actor="connector",
                    element_id="c_http",
                    payload={"connector": "http_request", "error": "crm answered 503"},
                )
    page = as_role("supervisor").get(f"/cases/{number}").get_data(as_text=True)
    assert "等待后台调用：HTTP请求" in page
    assert "后台调用已放弃" in page and "crm answered 503" in page


def test_the_operators_request_queues_the_call_and_the_worker_makes_it(hotline_app, as_role):
    """A person's request (the intake page) reaches an HTTP connector: the answer comes back
    without calling; the worker calls afterwards and the case goes on to dispatch."""
    import httpx

    from tests.webapp.pages import post
    from tests.workflows.conftest import INTAKE
    from tests.workflows.test_connectors import HOST, Crm, complaint_with_chain
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from webapp.scheduler import outbox_service
    from workflows.cases.models import Case
    from workflows.connectors import AllowedHosts

    crm = Crm()
    chain = [("c_http", "http_request", "crm", {"url": f"'https://{HOST}/t'"})]
    with hotline_app.app_context():
        hotline = get_hotline()
        http = hotline.connectors["http_request"]
        http.hosts, http.transport = AllowedHosts.parse(HOST), httpx.MockTransport(crm)
        hotline.runtime.deploy(
            db.session, complaint_with_chain(chain), "complaint.bpmn", deployed_by="designer"
        )
    response = post(as_role("operator"), "/intake", INTAKE, token_from="/intake")
    assert response.status_code in (302, 303)
    assert crm.requests == []
    assert outbox_service(hotline_app, owner="w1").drain().done >= 1
    assert len(crm.requests) == 1
    with hotline_app.app_context():
        case = db.session.scalars(select(Case)).one()
        assert case.status == "awaiting_dispatch"
        kinds = [t.kind for t in get_hotline().runtime.ready_tasks(db.session, case.instance_id)]
        assert kinds == ["dispatch"]
