"""Connectors: a service task naming one waits; a worker performs the call after the step
commits, completes the task with the result; failures retry, then become an incident.

Runs straight and restored (``mode``), on SQLite and PostgreSQL (when configured).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.connectors import NOT_LITERAL, Call, Connector, Outcome, Param, literal
from engine.errors import DefinitionInvalid
from engine.events import EventKind
from engine.models import OutboxMessage
from engine.outbox import OutboxService

from .conftest import fixture_bytes


class Echo(Connector):
    """Answers 'text' upper-cased; fails while told to; remembers every perform."""

    name = "echo"
    label_zh = "回声"
    label_en = "Echo"
    params = (
        Param("text", "文本", "Text", required=True),
        Param("retries", "重试次数", "Retries", kind="int"),
    )

    def __init__(self) -> None:
        self.performed: list[Call] = []
        self.failures = 0

    def check(self, literals):
        text = literals.get("text", NOT_LITERAL)
        if text is not NOT_LITERAL and not isinstance(text, str):
            return [("text", "must be text")]
        return []

    def perform(self, call: Call):
        self.performed.append(call)
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the other system is down")
        return call.params["text"].upper()

    def apply(self, session, call, performed):
        return Outcome(performed, {"echoed": True})


@pytest.fixture
def echo(runtime) -> Echo:
    connector = Echo()
    runtime.add_connectors([connector])
    return connector


@pytest.fixture
def worker(runtime, database, clock) -> OutboxService:
    return OutboxService(
        runtime.outbox,
        database.session,
        clock=clock,
        owner="w1",
        max_attempts=5,
        backoff_seconds=10,
    )


def _messages(session) -> list[OutboxMessage]:
    session.rollback()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _ready(runtime, session, instance_id) -> list[str]:
    session.rollback()  # see what the worker committed
    return [t.element_id for t in runtime.ready_tasks(session, instance_id)]


def test_the_request_that_completes_the_task_before_does_not_call(
    runtime, session, deploy, echo, worker
):
    deploy("connector.bpmn")
    step = runtime.start(session, "connector", data={"who": "world"})
    (task,) = step.ready
    step = runtime.complete_task(session, task.task_id, actor="ann")
    # the person's step only queued the call: nothing performed, the case waits
    assert echo.performed == []
    assert step.ready == []
    assert step.status == "running"
    (message,) = _messages(session)
    assert message.topic == "connector"
    assert message.payload["params"] == {"text": "hello world", "retries": 1}
    assert EventKind.CONNECTOR_QUEUED in [e.kind for e in runtime.events(session, step.instance_id)]

    result = worker.drain()
    assert result.done == 1
    assert [c.params["text"] for c in echo.performed] == ["hello world"]
    assert _ready(runtime, session, step.instance_id) == ["after"]
    data = runtime.data(session, step.instance_id)
    assert data["answer"] == "HELLO WORLD"
    assert data["echoed"] is True
    kinds = [e.kind for e in runtime.events(session, step.instance_id)]
    assert EventKind.CONNECTOR_DONE in kinds


def test_redelivery_completes_the_task_once(runtime, session, deploy, echo, worker):
    deploy("connector.bpmn")
    step = runtime.start(session, "connector", data={"who": "x"})
    runtime.complete_task(session, step.ready[0].task_id)
    (message,) = _messages(session)
    call = Call.of(_as_message(message))
    first = runtime.complete_service(
        session, call.instance_id, call.task_id, result_variable="answer", value=1
    )
    again = runtime.complete_service(
        session, call.instance_id, call.task_id, result_variable="answer", value=2
    )
    assert first is not None and again is None
    assert runtime.data(session, step.instance_id)["answer"] == 1
    assert _ready(runtime, session, step.instance_id) == ["after"]


def _as_message(row: OutboxMessage):
    from engine.outbox import Message

    return Message(row.id, row.topic, row.key, row.payload, row.attempts)


def test_failures_retry_with_backoff_then_an_incident_and_the_case_waits(
    runtime, session, deploy, echo, worker, clock
):
    deploy("connector.bpmn")
    step = runtime.start(session, "connector", data={"who": "x"})
    runtime.complete_task(session, step.ready[0].task_id)
    echo.failures = 5
    assert worker.drain().retried == 1
    (message,) = _messages(session)
    assert message.status == "failed"
    assert worker.drain().claimed == 0  # backing off
    clock.advance(timedelta(seconds=10))
    # the task says retries=1: the second failure is the last
    assert worker.drain().incidents == 1
    (message,) = _messages(session)
    assert message.status == "incident"
    assert "after 1 retries" in message.last_error
    kinds = [e.kind for e in runtime.events(session, step.instance_id)]
    assert kinds.count(EventKind.CONNECTOR_FAILED) == 1
    assert kinds[-1] == EventKind.CONNECTOR_INCIDENT
    # the case did not move on
    assert _ready(runtime, session, step.instance_id) == []
    assert runtime.instance(session, step.instance_id).status == "running"
    # an administrator retries it once the other system is back
    echo.failures = 0
    runtime.outbox.retry(session, message.id)
    assert worker.drain().done == 1
    assert _ready(runtime, session, step.instance_id) == ["after"]


def test_a_deadline_that_takes_the_task_away_wins_and_the_late_answer_is_dropped(
    runtime, session, deploy, echo, worker, clock
):
    deploy("connector_deadline.bpmn")
    step = runtime.start(session, "connector_deadline")
    assert step.ready == []
    clock.advance(timedelta(hours=2))
    runtime.fire_due_timers(session)
    assert _ready(runtime, session, step.instance_id) == ["by_hand"]
    assert worker.drain().done == 1  # performed, then found nothing waiting
    assert _ready(runtime, session, step.instance_id) == ["by_hand"]
    assert "answer" not in runtime.data(session, step.instance_id)


def test_with_a_session_a_task_that_no_longer_waits_is_not_called(
    runtime, session, deploy, database, worker, clock
):
    echo = Echo()
    runtime.add_connectors([echo], session_factory=database.session)
    deploy("connector_deadline.bpmn")
    step = runtime.start(session, "connector_deadline")
    clock.advance(timedelta(hours=2))
    runtime.fire_due_timers(session)
    assert worker.drain().done == 1
    assert echo.performed == []
    assert _ready(runtime, session, step.instance_id) == ["by_hand"]


def test_the_answer_before_the_deadline_goes_on(runtime, session, deploy, echo, worker):
    deploy("connector_deadline.bpmn")
    step = runtime.start(session, "connector_deadline")
    worker.drain()
    assert _ready(runtime, session, step.instance_id) == ["answered"]
    assert runtime.pending_timers(session, step.instance_id) == []


def _xml(params: str, operator: str = "echo") -> bytes:
    text = fixture_bytes("connector.bpmn").decode()
    start = text.index("<spiffworkflow:serviceTaskOperator")
    end = text.index("</spiffworkflow:serviceTaskOperator>") + len(
        "</spiffworkflow:serviceTaskOperator>"
    )
    operator_xml = (
        f'<spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="answer">'
        f"<spiffworkflow:parameters>{params}</spiffworkflow:parameters>"
        "</spiffworkflow:serviceTaskOperator>"
    )
    return (text[:start] + operator_xml + text[end:]).encode()


def _param(name: str, value: str) -> str:
    value = value.replace("'", "&apos;").replace('"', "&quot;")
    return f'<spiffworkflow:parameter id="{name}" type="str" value="{value}"/>'


@pytest.mark.parametrize(
    ("params", "operator", "expected"),
    [
        (_param("text", "'a'"), "nope", "service 'nope' is not registered"),
        ("", "echo", "parameter 'text': connector 'echo' needs the parameter 'text'"),
        (
            _param("text", "'a'") + _param("colour", "'red'"),
            "echo",
            "parameter 'colour': connector 'echo' has no parameter 'colour'",
        ),
        (_param("text", "3"), "echo", "parameter 'text': must be text"),
        (_param("text", "'a' +"), "echo", "service parameter 'text'"),
    ],
)
def test_deploy_refuses_bad_connector_parameters_naming_element_and_parameter(
    runtime, session, echo, params, operator, expected
):
    with pytest.raises(DefinitionInvalid) as caught:
        runtime.deploy(session, _xml(params, operator), "c.bpmn", deployed_by="t")
    issues = caught.value.issues
    assert any(i.element == "lookup" and expected in i.message for i in issues), issues
    assert all(i.line for i in issues)


def test_literal():
    assert literal("'a'") == "a"
    assert literal("{'k': 1}") == {"k": 1}
    assert literal("who + 1") is NOT_LITERAL


def test_describe_lists_parameters():
    described = Echo().describe()
    assert described["name"] == "echo"
    assert described["params"][0] == {
        "name": "text",
        "label_zh": "文本",
        "label_en": "Text",
        "required": True,
        "kind": "str",
    }
