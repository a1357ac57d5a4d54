"""Connectors: named operations a service task calls, carried out by a worker after the step.

A service task whose ``spiffworkflow:serviceTaskOperator`` names a registered connector does not
run it in the step (which may be a person's request): the step evaluates the parameters, leaves
the task STARTED (:class:`~engine.spiff.WaitingServiceTask`) and writes one outbox message,
``connector:<instance>:<task>``, in its own transaction. A worker then

1. runs :meth:`Connector.perform` *outside* any transaction (an HTTP call: no lock is held
   while another system answers), and
2. in the transaction that marks the message done, runs :meth:`Connector.apply` (effects in
   this database: a case field, a notice) and completes the waiting task with the result
   (:meth:`Runtime.complete_service`), which runs the instance on to its next wait.

A failure is retried with the outbox's backoff (at most ``retries`` times when the task says
so); after the last attempt the message is an incident that administrators see and can retry,
the instance's log says so, and the task keeps waiting: the case never moves on silently.
Redelivery is harmless: a task already completed (or cancelled by a deadline) is not completed
again, and ``perform`` receives the message's key to pass on as an idempotency key.

The engine knows no connector: the domain registers them (``Runtime.add_connectors``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from .errors import EngineError
from .events import EventKind
from .models import ProcessInstance
from .outbox import ExternalHandler, Message, PermanentFailure

#: the outbox topic of connector calls
TOPIC = "connector"

#: what a literal parameter is checked against at deploy time (``Connector.check``)
NOT_LITERAL = object()


@dataclass(frozen=True)
class Param:
    """One parameter a connector takes: its name in the XML, its labels, whether it must be
    given, and what kind of value it expects (a hint for the modeler: str, int, number, bool,
    dict, datetime, expression)."""

    name: str
    label_zh: str
    label_en: str
    required: bool = False
    kind: str = "str"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "required": self.required,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class Call:
    """One connector call, as the worker is given it."""

    key: str
    instance_id: int
    task_id: str
    element_id: str
    connector: str
    params: dict[str, Any]
    result_variable: str
    #: failed attempts before this one
    attempts: int = 0

    @classmethod
    def of(cls, message: Message) -> Call:
        p = message.payload
        return cls(
            key=message.key,
            instance_id=int(p["instance_id"]),
            task_id=str(p["task_id"]),
            element_id=str(p.get("element_id") or ""),
            connector=str(p["connector"]),
            params=dict(p.get("params") or {}),
            result_variable=str(p["result_variable"]),
            attempts=message.attempts,
        )


@dataclass
class Outcome:
    """What a call gives back: ``value`` goes to the task's result variable; ``data`` is
    merged into the process data as well (a variable the connector was told to write)."""

    value: Any = None
    data: dict[str, Any] = field(default_factory=dict)


class Connector:
    """A named operation for service tasks. Subclasses declare ``name``, labels and
    ``params``, and override :meth:`perform` (outside transactions) and/or :meth:`apply`
    (inside the transaction that completes the task)."""

    name: str = ""
    label_zh: str = ""
    label_en: str = ""
    params: tuple[Param, ...] = ()

    def check(self, literals: Mapping[str, Any]) -> list[tuple[str | None, str]]:
        """Deploy-time checks of the parameters whose values are literals (the others are
        :data:`NOT_LITERAL`): ``[(parameter or None, what is wrong)]``."""
        return []

    def perform(self, call: Call) -> Any:
        """The part that talks to another system; runs outside any transaction and may run
        twice for one call (pass ``call.key`` on as an idempotency key)."""
        return None

    def apply(self, session: Session, call: Call, performed: Any) -> Outcome:
        """The part that changes this database, in the transaction that completes the task."""
        return Outcome(performed)

    def describe(self) -> dict[str, Any]:
        """What the modeler lists: name, labels and parameters (JSON-able)."""
        return {
            "name": self.name,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "params": [p.describe() for p in self.params],
        }


def literal(expression: str) -> Any:
    """The value of an expression that is a Python literal ("'a'", "3", "{'k': 1}"), else
    :data:`NOT_LITERAL`."""
    try:
        return ast.literal_eval((expression or "").strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return NOT_LITERAL


def param_issues(connector: Connector, params: Mapping[str, str]) -> list[tuple[str | None, str]]:
    """Unknown and missing parameters, then the connector's own checks of literal values:
    ``[(parameter or None, what is wrong)]``. ``params``: name -> expression text."""
    declared = {p.name: p for p in connector.params}
    issues: list[tuple[str | None, str]] = []
    for name in params:
        if name not in declared:
            known = ", ".join(declared) or "none"
            issues.append(
                (
                    name,
                    f"connector {connector.name!r} has no parameter {name!r} (it takes: {known})",
                )
            )
    for p in connector.params:
        if p.required and not (params.get(p.name) or "").strip():
            issues.append((p.name, f"connector {connector.name!r} needs the parameter {p.name!r}"))
    known = {name: literal(text) for name, text in params.items() if name in declared}
    return issues + connector.check(known)


#: what ``perform`` answers for a task that no longer waits (nothing was called)
_NOT_WAITING = object()


class ConnectorJobs(ExternalHandler):
    """The ``connector`` outbox handler: performs a call, applies it, completes the task."""

    def __init__(self, runtime, session_factory: Callable[[], Session] | None = None) -> None:
        self.runtime = runtime
        self.session_factory = session_factory

    def _still_waiting(self, call: Call) -> bool:
        if self.session_factory is None:
            return True
        session = self.session_factory()
        try:
            return self.runtime.service_waiting(session, call.instance_id, call.task_id)
        finally:
            session.close()

    def _connector(self, call: Call) -> Connector:
        connector = self.runtime.connectors.get(call.connector)
        if connector is None:
            raise PermanentFailure(f"no connector named {call.connector!r} is registered")
        return connector

    def perform(self, message: Message) -> Any:
        call = Call.of(message)
        connector = self._connector(call)
        retries = _retries(call.params)
        calls_out = type(connector).perform is not Connector.perform
        if calls_out and not self._still_waiting(call):
            return _NOT_WAITING  # a deadline or a cancellation took the task away
        try:
            return connector.perform(call)
        except PermanentFailure:
            raise
        except Exception as exc:
            if retries is not None and call.attempts >= retries:
                raise PermanentFailure(
                    f"{type(exc).__name__}: {exc} (after {call.attempts} retries)"
                ) from exc
            raise

    def __call__(self, session: Session, message: Message, outcome: Any = None) -> None:
        if outcome is _NOT_WAITING:
            return
        call = Call.of(message)
        result = self._connector(call).apply(session, call, outcome)
        self.runtime.complete_service(
            session,
            call.instance_id,
            call.task_id,
            result_variable=call.result_variable,
            value=result.value,
            data=result.data,
        )

    def failed(self, session: Session, message: Message, error: str, *, final: bool) -> None:
        call = Call.of(message)
        kind = EventKind.CONNECTOR_INCIDENT if final else EventKind.CONNECTOR_FAILED
        if session.get(ProcessInstance, call.instance_id) is None:
            return  # the instance was removed: the message's own row says enough
        self.runtime.record_event(
            session,
            call.instance_id,
            kind,
            actor="connector",
            element_id=call.element_id,
            payload={
                "connector": call.connector,
                "error": error[:500],
                "attempts": call.attempts + 1,
                "outbox_id": message.id,
            },
        )


def _retries(params: Mapping[str, Any]) -> int | None:
    value = params.get("retries")
    if value is None or isinstance(value, bool):
        return None
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        raise EngineError(f"retries must be a whole number, not {value!r}") from None
