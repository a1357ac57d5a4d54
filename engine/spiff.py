"""Our SpiffWorkflow extensions: a restricted script engine, clock-driven timers, the parser.

SpiffWorkflow reads ``datetime.now()`` inside its timer definitions and evaluates expressions
with ``eval``. Here both go through objects we control: the script engine carries the injected
clock, and timer definitions ask it for "now". A timer value may be an ISO 8601 literal as other
tools write it (``PT2H``, ``2026-10-09T18:00:00+08:00``), or an expression (``workdays(5)``,
``hours(2)``) that returns a datetime, a timedelta or an ISO string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.control import BpmnStartTask
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, IntermediateCatchEvent, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.util.task import TaskState

from .clock import Clock, as_utc
from .errors import ExpressionError
from .expressions import Evaluator


def _trigger_wf(self: BpmnStartTask, my_task: Any, spec_name: str) -> Any:
    """Start an event sub-process (a signal or message caught by its start event) as a child
    of the process's start task, without touching the process spec.

    SpiffWorkflow's own ``BpmnStartTask.trigger_wf`` first connects the sub-process to the
    start and the end *in the spec*. Parsed specs are shared by every instance of a
    definition version (``engine/cache.py``): once one instance had caught such an event, the
    sub-process was one of the start's outputs, so every instance created afterwards grew it as
    an ordinary branch and its end join waited for it forever (a case answered at intake
    stayed open). Here the sub-process names the start as its input (a task spec must have
    one) and goes on to the end as before, but the start's outputs stay what the diagram
    says: only the instance that caught the event gets the child.
    """
    spec = self._wf_spec.task_specs.get(spec_name)
    if self.name not in spec._inputs:
        spec._connect_notify(self)  # the start becomes its input, not the other way round
        spec.connect(self._wf_spec.end)
    child = my_task._add_child(spec, TaskState.FUTURE)
    child.triggered = True
    child.task_spec._update(child)
    return child.id


BpmnStartTask.trigger_wf = _trigger_wf  # type: ignore[method-assign]


_ISO_DURATION = re.compile(
    r"^-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_ISO_CYCLE = re.compile(r"^R\d*/")


def is_iso_literal(text: str) -> bool:
    """True when a timer value is a bare ISO 8601 duration, date-time or cycle."""
    t = text.strip().upper()
    return bool(_ISO_DURATION.match(t) or _ISO_DATETIME.match(t) or _ISO_CYCLE.match(t))


def parse_duration(text: str, start: datetime) -> timedelta:
    """An ISO 8601 duration (``P3D``, ``PT2H``) as a timedelta from ``start`` (month-aware)."""
    if not _ISO_DURATION.match(text.strip().upper()):
        raise ExpressionError(f"{text!r} is not an ISO 8601 duration such as 'PT2H' or 'P3D'")
    parsed = TimerEventDefinition.parse_iso_duration(text.strip())
    return TimerEventDefinition.get_timedelta_from_start(parsed, start)


def resolve_due(value: Any, now: datetime, tz: tzinfo) -> datetime:
    """Turn an evaluated timer value into an aware UTC due time.

    A datetime or ISO date-time is absolute (naive ones are read in ``tz``); a timedelta or ISO
    duration counts from ``now``.
    """
    if isinstance(value, datetime):
        return as_utc(value if value.tzinfo else value.replace(tzinfo=tz))
    if isinstance(value, date):
        return as_utc(datetime(value.year, value.month, value.day, tzinfo=tz))
    if isinstance(value, timedelta):
        return now + value
    if isinstance(value, str):
        text = value.strip()
        if text.upper().startswith(("P", "-P")):
            return now + parse_duration(text, now)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ExpressionError(
                f"timer value {value!r} is neither an ISO 8601 duration nor a date-time"
            ) from None
        return resolve_due(parsed, now, tz)
    raise ExpressionError(
        f"timer value must be a date-time or a duration, not {type(value).__name__} ({value!r})"
    )


def time_functions(clock: Clock) -> dict[str, Callable[..., Any]]:
    """The engine's own timer helpers: ``now()``, ``minutes(n)``, ``hours(n)``, ``days(n)``
    (calendar time from now) and ``duration('P3D')``. The domain adds working-time ones."""

    def now() -> datetime:
        return clock.now()

    def minutes(n: float) -> datetime:
        return clock.now() + timedelta(minutes=n)

    def hours(n: float) -> datetime:
        return clock.now() + timedelta(hours=n)

    def days(n: float) -> datetime:
        return clock.now() + timedelta(days=n)

    def duration(text: str) -> datetime:
        start = clock.now()
        return start + parse_duration(text, start)

    return {"now": now, "minutes": minutes, "hours": hours, "days": days, "duration": duration}


@dataclass(frozen=True)
class DeferredCall:
    """A connector call a service task asked for in this step: written to the outbox when the
    step is saved, carried out by a worker after it commits (``engine/connectors.py``)."""

    task_id: str
    element_id: str
    connector: str
    params: dict[str, Any]
    result_variable: str


@dataclass
class StepContext:
    """What a service handler knows about the step it runs in."""

    session: Any
    instance_id: int | None
    actor: str | None
    clock: Clock
    extra: dict[str, Any] = field(default_factory=dict)
    #: connector calls the step's service tasks asked for, in order
    deferred: list[DeferredCall] = field(default_factory=list)


ServiceHandler = Callable[..., Any]


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Spiff's script environment, evaluated by :class:`Evaluator` instead of ``eval``/``exec``."""

    def __init__(self, evaluator: Evaluator, services: Mapping[str, ServiceHandler]) -> None:
        super().__init__({})
        self.evaluator = evaluator
        self.services = services
        self.step: StepContext | None = None

    def evaluate(self, expression, context, external_context=None):
        names = {**external_context, **context} if external_context else context
        return self.evaluator.evaluate(expression, names)

    def execute(self, script, context, external_context=None):
        self.evaluator.execute(script, context)
        return True

    def call_service(self, context, operation_name=None, operation_params=None, **kwargs):
        handler = self.services.get(operation_name)
        if handler is None:
            raise ExpressionError(f"no service handler named {operation_name!r} is registered")
        params = {name: p["value"] for name, p in (operation_params or {}).items()}
        result = handler(self.step, context, **params)
        return json.dumps(result, default=str)


class ScriptEngine(PythonScriptEngine):
    """The per-workflow script engine: restricted evaluation, the clock, the time zone.

    SpiffWorkflow does not persist the script engine, so the runtime sets a fresh one after every
    load (they are cheap: the evaluator and services are shared).
    """

    def __init__(
        self,
        evaluator: Evaluator,
        clock: Clock,
        tz: tzinfo,
        services: Mapping[str, ServiceHandler] | None = None,
        connectors: Collection[str] = (),
    ) -> None:
        super().__init__(environment=RestrictedEnvironment(evaluator, services or {}))
        self.clock = clock
        self.tz = tz
        #: the operator names whose calls wait for a worker instead of running in the step
        self.connectors = connectors

    def defer(self, call: DeferredCall) -> None:
        step = self.environment.step
        if step is None:  # pragma: no cover - a wiring mistake
            raise RuntimeError("a connector call needs the runtime's step context")
        step.deferred.append(call)

    def validate(self, expression):
        self.environment.evaluator.check_expression(expression)

    def call_service(self, task, **kwargs):
        # SpiffWorkflow's own version refers to an undefined name when the service raises.
        try:
            return self.environment.call_service(task.data, **kwargs)
        except ExpressionError:
            raise
        except Exception as exc:
            name = kwargs.get("operation_name")
            raise WorkflowTaskException(
                f"service {name!r} failed: {type(exc).__name__}: {exc}", task=task, exception=exc
            ) from exc

    def timer_value(self, my_task, expression: str) -> Any:
        """Evaluate a timer's text: an ISO literal as written, anything else as an expression."""
        if is_iso_literal(expression):
            return expression.strip()
        return self.evaluate(my_task, expression)


def _engine(my_task) -> ScriptEngine:
    engine = my_task.workflow.script_engine
    if not isinstance(engine, ScriptEngine):  # pragma: no cover - a wiring mistake
        raise RuntimeError("workflow is running without the hotline script engine")
    return engine


class ClockedTimer:
    """Mixin: a one-off timer whose "now" comes from the injected clock."""

    def has_fired(self, my_task):
        engine = _engine(my_task)
        now = engine.clock.now()
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            value = engine.timer_value(my_task, self.expression)
            event_value = resolve_due(value, now, engine.tz).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if datetime.fromisoformat(event_value) <= now:
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockedDurationTimer(ClockedTimer, DurationTimerEventDefinition):
    pass


class ClockedDateTimer(ClockedTimer, TimeDateEventDefinition):
    pass


class ClockedCycleTimer(CycleTimerEventDefinition):
    """An ISO 8601 repeating timer (``R3/PT1H``) driven by the injected clock."""

    def cycle_complete(self, my_task):
        engine = _engine(my_task)
        now = engine.clock.now()
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            text = str(engine.timer_value(my_task, self.expression))
            event_value = parse_cycle(text, now)
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event <= now:
                next_event = next_event + timedelta(seconds=event_value["duration"])
                event_value["next"] = next_event.isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


def parse_cycle(text: str, now: datetime) -> dict[str, Any]:
    """``R[n]/[start/]duration`` as Spiff's cycle state: cycles left, next due, period."""
    parts = text.strip().upper().split("/")
    if len(parts) not in (2, 3) or not parts[0].startswith("R"):
        raise ExpressionError(f"{text!r} is not an ISO 8601 repeating interval such as 'R3/PT1H'")
    try:
        cycles = int(parts[0][1:]) if parts[0][1:] else -1
    except ValueError:
        raise ExpressionError(f"{text!r}: repetition count must be a number") from None
    if len(parts) == 3:
        start = as_utc(datetime.fromisoformat(parts[1]))
        period = parse_duration(parts[2], start)
    else:
        period = parse_duration(parts[1], now)
        start = now + period
    if period <= timedelta(0):
        raise ExpressionError(f"{text!r}: the period must be positive")
    return {"cycles": cycles, "next": start.isoformat(), "duration": period.total_seconds()}


class _ClockedTimerParsing:
    """Parser mixin: build our clocked timer definitions instead of Spiff's."""

    def parse_timer_event(self, event):
        description = self.get_event_description(event)
        name = self.node.get("name", self.node.get("id"))
        for tag, cls in (
            ("timeDate", ClockedDateTimer),
            ("timeDuration", ClockedDurationTimer),
            ("timeCycle", ClockedCycleTimer),
        ):
            node = first(self.xpath(f".//bpmn:{tag}"))
            if node is not None:
                if not (node.text or "").strip():
                    raise ValidationException(
                        f"timer {tag} is empty", node=self.node, file_name=self.filename
                    )
                return cls(name, node.text.strip(), description=description)
        raise ValidationException(
            "timer has no timeDate, timeDuration or timeCycle",
            node=self.node,
            file_name=self.filename,
        )


class _StartEventParser(_ClockedTimerParsing, SpiffStartEventParser):
    pass


class _BoundaryEventParser(_ClockedTimerParsing, SpiffBoundaryEventParser):
    pass


class _IntermediateCatchEventParser(_ClockedTimerParsing, SpiffIntermediateCatchEventParser):
    pass


class WaitingServiceTask(ServiceTask):
    """A service task whose operator is a connector waits (STARTED) instead of calling it.

    SpiffWorkflow's service task calls the operator inside ``run`` and completes at once: the
    call would happen in the step's transaction, inside a person's request. Here, when the
    operator names a connector, the parameters are evaluated now (on the data as it is when
    the task starts), the call is handed to the step (:meth:`ScriptEngine.defer`) and ``_run``
    returns None, which leaves the task STARTED: SpiffWorkflow's own "still running" state,
    which ``do_engine_steps`` passes over. The worker that carries the call out completes the
    task with its result (``Runtime.complete_service``). Other operators run as before.
    """

    def _execute(self, task):
        engine = _engine(task)
        if self.operation_name not in engine.connectors:
            return super()._execute(task)
        params = {name: p["value"] for name, p in self.evaluate_params(task).items()}
        engine.defer(
            DeferredCall(
                task_id=str(task.id),
                element_id=getattr(self, "bpmn_id", None) or self.name,
                connector=self.operation_name,
                params=params,
                result_variable=self.result_variable,
            )
        )
        return None


class BpmnParser(SpiffBpmnParser):
    """SpiffBpmnParser with clock-driven timers and service tasks that can wait."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, WaitingServiceTask),
        full_tag("startEvent"): (_StartEventParser, StartEvent),
        full_tag("boundaryEvent"): (_BoundaryEventParser, BoundaryEvent),
        full_tag("intermediateCatchEvent"): (_IntermediateCatchEventParser, IntermediateCatchEvent),
    }


TIMER_CLASSES = (ClockedDurationTimer, ClockedDateTimer, ClockedCycleTimer)
