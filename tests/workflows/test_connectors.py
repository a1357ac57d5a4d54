"""The hotline's connectors in a case: the complaint diagram with a chain of service tasks
after intake (an HTTP call, a case field, a deadline by the calendar, a notice), deployed and
run with the outbox worker driven here. HTTP is answered in-process (an httpx transport).

Runs straight and restored (``mode``), on SQLite and PostgreSQL (when configured).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from engine.errors import DefinitionInvalid
from engine.events import EventKind
from engine.models import OutboxMessage
from tests.conftest import ROOT
from workflows.connectors import AllowedHosts, build, catalogue
from workflows.notifications.models import Notification
from workflows.users.models import Role, User

HOST = "crm.example.org"


def _param(name: str, value: str) -> str:
    value = value.replace("&", "&amp;").replace("'", "&apos;").replace('"', "&quot;")
    value = value.replace("<", "&lt;")
    return f'<spiffworkflow:parameter id="{name}" type="any" value="{value}"/>'


def _service(element: str, connector: str, result: str, params: dict[str, str]) -> str:
    inner = "".join(_param(k, v) for k, v in params.items())
    return (
        f'<bpmn:serviceTask id="{element}" name="{element}"><bpmn:extensionElements>'
        f'<spiffworkflow:serviceTaskOperator id="{connector}" resultVariable="{result}">'
        f"<spiffworkflow:parameters>{inner}</spiffworkflow:parameters>"
        "</spiffworkflow:serviceTaskOperator></bpmn:extensionElements>"
    )


#: the chain put between intake and the intake-outcome gateway
CHAIN = [
    (
        "c_http",
        "http_request",
        "crm",
        {
            "method": "'POST'",
            "url": f"'https://{HOST}/tickets'",
            "headers": "{'X-Case': case_number}",
            "body": "{'number': case_number, 'text': description}",
            "timeout": "5",
            "retries": "2",
        },
    ),
    (
        "c_field",
        "set_case_field",
        "field_set",
        {"field": "'category'", "value": "crm['body']['category']"},
    ),
    (
        "c_deadline",
        "compute_deadline",
        "check_due",
        {"amount": "3", "unit": "'workdays'", "variable": "'check_by'", "case_field": "'warn_at'"},
    ),
    (
        "c_notify",
        "notify",
        "told",
        {
            "notice": "'supervision_order'",
            "role": "'supervisor'",
            "values": "{'note': 'CRM ticket ' + str(crm['body']['ticket'])}",
        },
    ),
]


def complaint_with_chain(chain=CHAIN) -> bytes:
    """The bundled complaint diagram with ``chain`` between its start and first gateway."""
    text = (ROOT / "bpmn" / "complaint.bpmn").read_text(encoding="utf-8")
    first = chain[0][0]
    text = text.replace(
        "<bpmn:outgoing>flow_start_to_intake_outcome</bpmn:outgoing>",
        "<bpmn:outgoing>flow_c0</bpmn:outgoing>",
        1,
    )
    text = text.replace(
        '<bpmn:sequenceFlow id="flow_start_to_intake_outcome" sourceRef="start"',
        f'<bpmn:sequenceFlow id="flow_start_to_intake_outcome" sourceRef="{chain[-1][0]}"',
    )
    parts = [f'<bpmn:sequenceFlow id="flow_c0" sourceRef="start" targetRef="{first}" />']
    for index, (element, connector, result, params) in enumerate(chain):
        incoming = f"flow_c{index}"
        outgoing = (
            f"flow_c{index + 1}" if index + 1 < len(chain) else "flow_start_to_intake_outcome"
        )
        parts.append(
            _service(element, connector, result, params)
            + f"<bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing>"
            "</bpmn:serviceTask>"
        )
        if index + 1 < len(chain):
            parts.append(
                f'<bpmn:sequenceFlow id="{outgoing}" sourceRef="{element}" '
                f'targetRef="{chain[index + 1][0]}" />'
            )
    anchor = '<bpmn:sequenceFlow id="flow_start_to_intake_outcome"'
    return text.replace(anchor, "".join(parts) + anchor, 1).encode()


class Crm:
    """The other system: records requests, answers a ticket, fails while told to."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.failures = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures:
            self.failures -= 1
            return httpx.Response(503, text="busy")
        return httpx.Response(201, json={"ticket": 77, "category": "餐饮卫生"})


@pytest.fixture
def crm(city) -> Crm:
    crm = Crm()
    http = city.hotline.connectors["http_request"]
    http.hosts = AllowedHosts.parse(HOST)
    http.transport = httpx.MockTransport(crm)
    return crm


def _deploy(city, xml: bytes):
    return city.hotline.runtime.deploy(
        city.session,
        xml,
        "complaint.bpmn",
        deployed_by="designer",
        form_exists=city.hotline.forms.exists,
    )


def _outbox(city, topic: str = "connector") -> list[OutboxMessage]:
    city.session.rollback()
    return list(
        city.session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(OutboxMessage.id)
        )
    )


def test_a_case_runs_through_every_connector(city, crm, deliver):
    _deploy(city, complaint_with_chain())
    case = city.intake()
    # the operator's request queued the first call and nothing more: no HTTP yet
    assert crm.requests == []
    assert city.ready(case) == []
    assert [m.status for m in _outbox(city)] == ["pending"]

    from workflows.cases.reads import element_markers

    assert "c_http" in element_markers(city.session, city.case(case).instance_id)["waiting"]
    deliver()
    markers = element_markers(city.session, city.case(case).instance_id)
    assert {"c_http", "c_field", "c_deadline", "c_notify"} <= set(markers["done"])
    assert "c_http" not in markers["waiting"]
    (request,) = crm.requests
    assert request.method == "POST"
    assert request.headers["X-Case"] == case.number
    assert request.headers["Idempotency-Key"].startswith("connector:")
    assert json.loads(request.content)["number"] == case.number

    case = city.case(case)
    assert case.category == "餐饮卫生"
    assert case.warn_at is not None and case.warn_at > city.clock.now()
    data = city.hotline.runtime.data(city.session, case.instance_id)
    assert data["crm"] == {"status": 201, "body": {"ticket": 77, "category": "餐饮卫生"}}
    assert data["field_set"] == "餐饮卫生"
    assert data["check_by"] == data["check_due"]
    assert data["told"] == {"notice": "supervision_order", "to": "role:supervisor"}
    # the case went on to dispatch after the last connector
    assert [t.kind for t in city.ready(case)] == ["dispatch"]
    # the notice reached the supervisors' bells
    bells = city.session.scalars(
        select(Notification).where(Notification.kind == "supervision_order")
    ).all()
    supervisors = city.session.scalars(select(User.id).where(User.role == Role.SUPERVISOR)).all()
    assert {b.user_id for b in bells} == set(supervisors) and bells
    assert "CRM ticket 77" in bells[0].text
    kinds = city.events(case)
    assert kinds.count(EventKind.CONNECTOR_QUEUED) == 4
    assert kinds.count(EventKind.CONNECTOR_DONE) == 4


def test_a_failing_call_retries_then_is_an_incident_and_the_case_waits(city, crm, deliver):
    _deploy(city, complaint_with_chain())
    case = city.intake()
    crm.failures = 10
    deliver()  # the first attempt
    for _ in range(2):  # the task allows two retries, after the outbox's backoff
        city.clock.advance(timedelta(minutes=5))
        deliver()
    assert len(crm.requests) == 3
    (message,) = _outbox(city)
    assert message.status == "incident"
    assert "503" in message.last_error
    assert city.ready(case) == []
    assert city.case(case).category == "食品安全"  # nothing after the call ran
    kinds = city.events(case)
    assert kinds.count(EventKind.CONNECTOR_FAILED) == 2
    assert EventKind.CONNECTOR_INCIDENT in kinds
    # the administrators are told
    incident_bells = city.session.scalars(
        select(Notification).where(Notification.kind == "incident")
    ).all()
    assert incident_bells
    assert f"of case {case.number} given up on" in incident_bells[0].text
    # retried once the other system is back, the case goes on
    crm.failures = 0
    city.hotline.runtime.outbox.retry(city.session, message.id)
    deliver()
    assert [t.kind for t in city.ready(case)] == ["dispatch"]


def test_a_host_not_on_the_list_is_refused_at_deploy(city, crm):
    chain = [("c_http", "http_request", "r", {"url": "'https://evil.example.net/x'"})]
    with pytest.raises(DefinitionInvalid) as caught:
        _deploy(city, complaint_with_chain(chain))
    (issue,) = caught.value.issues
    assert issue.element == "c_http"
    assert "parameter 'url'" in issue.message and "evil.example.net" in issue.message
    assert "HOTLINE_CONNECTOR_HOSTS" in issue.message


def test_a_computed_url_to_another_host_is_an_incident_at_once(city, crm, deliver):
    chain = [("c_http", "http_request", "r", {"url": "'https://' + address + '/x'"})]
    _deploy(city, complaint_with_chain(chain))
    case = city.intake(address="evil.example.net")
    deliver()
    assert crm.requests == []
    (message,) = _outbox(city)
    assert message.status == "incident" and "not allowed" in message.last_error
    assert city.ready(case) == []


@pytest.mark.parametrize(
    ("connector", "params", "named", "expected"),
    [
        ("set_case_field", {"field": "'status'", "value": "'closed'"}, "field", "not a case field"),
        ("set_case_field", {"field": "'urgency'", "value": "'soon'"}, "value", "urgency is one of"),
        ("compute_deadline", {"amount": "2", "unit": "'weeks'"}, "unit", "the unit is one of"),
        ("compute_deadline", {"amount": "2", "case_field": "'status'"}, "case_field", "written to"),
        ("notify", {"notice": "'hello'"}, "notice", "is not a notice"),
        ("notify", {"notice": "'case_closed'", "role": "'admin'"}, "role", "citizen's notice"),
        ("notify", {"notice": "'task_assigned'"}, "role", "needs a role or a department"),
        ("notify", {"notice": "'overdue'", "role": "'king'"}, "role", "is not a role"),
        ("http_request", {"url": "'ftp://crm.example.org/'"}, "url", "http(s)"),
        ("http_request", {"url": f"'https://{HOST}/'", "timeout": "600"}, "timeout", "at most"),
        ("http_request", {"url": f"'https://{HOST}/'", "method": "'BREW'"}, "method", "not one"),
        ("http_request", {"method": "'GET'"}, "url", "needs the parameter 'url'"),
        ("notify", {"notice": "'overdue'", "to": "'x'"}, "to", "has no parameter 'to'"),
        ("compute_deadline", {"amount": "2 +"}, "amount", "service parameter 'amount'"),
    ],
)
def test_deploy_names_the_element_and_the_parameter(city, crm, connector, params, named, expected):
    with pytest.raises(DefinitionInvalid) as caught:
        _deploy(city, complaint_with_chain([("c_x", connector, "r", params)]))
    issues = caught.value.issues
    assert any(
        i.element == "c_x" and f"'{named}'" in i.message and expected in i.message for i in issues
    ), [str(i) for i in issues]


def test_compute_deadline_counts_working_days(city, crm, deliver):
    # Friday 2026-12-04 10:00 local: three working days on is the end of Wednesday 12-09
    # (the calendar's rule: a limit in working days ends with its last day)
    start = "'2026-12-04T10:00:00+08:00'"
    chain = [("c_d", "compute_deadline", "due", {"amount": "3", "start": start})]
    _deploy(city, complaint_with_chain(chain))
    case = city.intake()
    deliver()
    data = city.hotline.runtime.data(city.session, city.case(case).instance_id)
    assert data["due"].astimezone(city.hotline.tz) == datetime(
        2026, 12, 9, 23, 59, 59, tzinfo=city.hotline.tz
    )


def test_the_catalogue_lists_every_connector_with_its_parameters():
    listed = catalogue(build())
    assert [c["name"] for c in listed] == [
        "compute_deadline",
        "http_request",
        "notify",
        "set_case_field",
    ]
    http = next(c for c in listed if c["name"] == "http_request")
    assert {p["name"] for p in http["params"]} == {
        "url",
        "method",
        "headers",
        "body",
        "timeout",
        "retries",
    }
    url = next(p for p in http["params"] if p["name"] == "url")
    assert url == {
        "name": "url",
        "label_zh": "地址",
        "label_en": "URL",
        "required": True,
        "kind": "str",
    }
    json.dumps(listed)  # JSON-able


def test_notify_tells_the_citizen_or_a_department(city, crm, deliver):
    from workflows.departments.models import Department
    from workflows.notifications.models import Message

    department = city.session.scalars(
        select(Department).where(Department.duty_phone != "").order_by(Department.id)
    ).first()
    chain = [
        (
            "c_citizen",
            "notify",
            "a",
            {"notice": "'case_replied'", "values": "{'summary': '已处理'}"},
        ),
        ("c_unit", "notify", "b", {"notice": "'overdue'", "department": f"'{department.code}'"}),
    ]
    _deploy(city, complaint_with_chain(chain))
    case = city.intake()
    deliver()
    data = city.hotline.runtime.data(city.session, city.case(case).instance_id)
    assert data["a"] == {"notice": "case_replied", "to": "citizen"}
    assert data["b"] == {"notice": "overdue", "to": f"department:{department.code}"}
    city.session.rollback()
    rows = city.session.scalars(select(Message).where(Message.case_id == case.id)).all()
    told = {(m.notice, m.audience) for m in rows}
    assert ("case_replied", "citizen") in told
    assert ("overdue", "department") in told
    sms = next(m for m in rows if m.notice == "case_replied")
    assert "已处理" in sms.body
