"""Workflow (de)serialization with the spec stored by reference, and the task-depth fix.

By default SpiffWorkflow embeds the whole parsed spec in every serialized instance (about half of
a mid-case row) and rebuilds it on every load. Our converter writes ``spec_ref`` instead; the
spec comes back from the per-version cache, so rows are smaller and loads faster.

The text carries the engine's own format version and SpiffWorkflow's; an older text is
upgraded when it is loaded (:mod:`engine.stored_format`).

It also lifts SpiffWorkflow's task-iterator depth limit (1000): with it, a case that loops about
250 times silently reports itself complete. See :func:`lift_depth_limit`.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import date, datetime, time, timedelta
from types import ModuleType
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_SERIALIZER_VERSION
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState

from .errors import StoredFormatError
from .stored_format import ENGINE_FORMAT, FORMAT_KEY, upgrade

#: SpiffWorkflow's own format of the dict (its migrations upgrade older ones): "1.5" in 3.2.
#: Taken from the library, so that what a text says it is follows the library that wrote it.
SERIALIZER_VERSION = SPIFF_SERIALIZER_VERSION
_VERSION_KEY = BpmnWorkflowSerializer.VERSION_KEY
#: Large enough for any real case; the tree is walked iteratively, so depth costs no stack.
TASK_DEPTH_LIMIT = sys.maxsize


def lift_depth_limit() -> None:
    """Raise the default ``max_depth`` of SpiffWorkflow's task iterators.

    ``TaskIterator`` stops descending at depth 1000 by default, and ``do_engine_steps``,
    ``get_tasks``, ``is_completed`` and the join and gateway specs all construct it with that
    default. Each pass through a loop adds three or four levels, so after about 250 loops the
    ready tasks are never reached and the workflow reports itself complete. The specs construct
    the iterator directly, so the default itself must change; we check the signature first so a
    SpiffWorkflow upgrade that moves the argument fails loudly instead of silently.
    """
    for cls in (TaskIterator, BpmnTaskIterator):
        init = cls.__init__
        names = init.__code__.co_varnames[: init.__code__.co_argcount]
        defaults = list(init.__defaults__ or ())
        first_default = len(names) - len(defaults)
        index = names.index("max_depth") - first_default
        if defaults[index] not in (1000, TASK_DEPTH_LIMIT):
            raise RuntimeError(f"unexpected {cls.__name__} max_depth default {defaults[index]}")
        defaults[index] = TASK_DEPTH_LIMIT
        init.__defaults__ = tuple(defaults)


lift_depth_limit()


class SpecRefWorkflowConverter(BpmnWorkflowConverter):
    """Writes ``spec_ref`` in place of the spec; restores with the spec passed in."""

    def to_dict(self, workflow):
        # WorkflowConverter.to_dict, with the task mapping built by the task converter directly
        # (the registry's generic dispatch costs more than converting a cached task). The
        # format version comes first, where a LIKE on the column finds it.
        registry = self.registry
        return {
            FORMAT_KEY: ENGINE_FORMAT,
            "data": registry.convert(registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "tasks": {_sid(task): task_to_dict(registry, task) for task in workflow.tasks.values()},
            "root": _sid(workflow.task_tree),
            "spec_ref": workflow.spec.name,
            "subprocesses": self.mapping_to_dict(workflow.subprocesses),
            "bpmn_events": registry.convert(workflow.bpmn_events),
        }

    def from_dict(self, dct, specs=None):
        if specs is None:
            raise ValueError("a spec-by-reference workflow needs its specs to be restored")
        spec, subprocess_specs = specs
        dct.pop("spec_ref", None)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _sid(task) -> str:
    """A task's id as text, computed once per task object."""
    sid = task.__dict__.get("_hotline_sid")
    if sid is None:
        sid = task.__dict__["_hotline_sid"] = str(task.id)
    return sid


def _uuid(value: str) -> UUID:
    return UUID(value)


_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED


class FastTaskConverter(TaskConverter):
    """SpiffWorkflow's task converter with :func:`task_to_dict` doing the work."""

    def to_dict(self, task):
        return task_to_dict(self.registry, task)


def task_to_dict(registry, task) -> dict[str, Any]:
    """What SpiffWorkflow's ``TaskConverter.to_dict`` returns, made cheap enough for every step.

    Serializing the task tree is most of the cost of saving an instance, and most of the tree
    is history that no longer changes: a completed or cancelled task keeps its data, internal
    data and children. Their dicts are kept on the task and reused while the task's state,
    state-change time and children are unchanged, so a live workflow from the cache serializes
    only what moved. ``tests/engine/test_serializer.py`` checks the output against
    SpiffWorkflow's own converter after every step of the test diagrams.
    """
    finished = task._state & _FINISHED
    if finished:
        signature = (task._state, task.last_state_change, tuple(task._children), task.triggered)
        cached = task.__dict__.get("_hotline_dict")
        if cached is not None and cached[0] == signature:
            return cached[1]
    parent_id = task._parent
    tasks = task.workflow.tasks
    if parent_id is None:
        data, delta = task.data, {}
    else:
        pdata, tdata = tasks[parent_id].data, task.data
        data = {}
        delta = {
            "updates": {k: v for k, v in tdata.items() if k not in pdata or pdata[k] != v},
            "deletions": [k for k in pdata if k not in tdata],
        }
    dct = {
        "id": _sid(task),
        "parent": _sid(tasks[parent_id]) if parent_id is not None else None,
        "children": [_sid(tasks[child]) for child in task._children],
        "last_state_change": task.last_state_change,
        "state": task._state,
        "task_spec": task.task_spec.name,
        "triggered": task.triggered,
        "internal_data": registry.convert(task.internal_data),
        "data": data,
        "delta": delta,
        "typename": "Task",
    }
    if finished:
        task.__dict__["_hotline_dict"] = (signature, dct)
    return dct


def spiff_config() -> dict:
    """SpiffWorkflow's converter config, knowing our timer definitions (used to embed specs)."""
    from SpiffWorkflow.bpmn.serializer.default.event_definition import (
        TimerConditionalEventDefinitionConverter,
    )
    from SpiffWorkflow.spiff.specs.defaults import ServiceTask

    from .spiff import TIMER_CLASSES, WaitingServiceTask

    config = dict(SPIFF_CONFIG)
    for cls in TIMER_CLASSES:
        config[cls] = TimerConditionalEventDefinitionConverter
    config[WaitingServiceTask] = config[ServiceTask]
    return config


def _make_serializer() -> BpmnWorkflowSerializer:
    config = spiff_config()
    config[BpmnWorkflow] = SpecRefWorkflowConverter
    config[Task] = FastTaskConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # Dates in task data survive a round trip (Spiff's default registry covers datetime,
    # timedelta and UUID already; add date and time).
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]), "date"
    )
    registry.register(
        time, lambda v: {"value": v.isoformat()}, lambda d: time.fromisoformat(d["value"]), "time"
    )
    return BpmnWorkflowSerializer(registry, version=SERIALIZER_VERSION)


_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class WorkflowSerializer:
    """JSON in and out, spec by reference. One instance may be shared between threads.

    The dict conversion is SpiffWorkflow's (in its "encoder mode", where values it has no
    converter for are left to the JSON encoder); the encoding is orjson, about fifteen times
    faster than the standard library here. Values orjson cannot write go through the same
    registry as SpiffWorkflow's own encoder.
    """

    def __init__(self) -> None:
        self._serializer = _make_serializer()
        self._registry = self._serializer.registry
        self._lock = threading.Lock()

    def _default(self, obj: Any) -> Any:
        typename = self._registry.typenames.get(type(obj))
        if typename is not None:
            return self._registry.convert_to_dict[typename](obj)
        if callable(obj) or isinstance(obj, ModuleType):
            return None
        if isinstance(obj, set | frozenset | tuple):
            return list(obj)
        raise TypeError(f"{type(obj).__name__} cannot be stored in task data")

    def dumps(self, workflow: BpmnWorkflow) -> str:
        # The registry's encoder mode is a flag on a shared object: hold it while converting.
        with self._lock:
            self._registry._encoder_mode = True
            try:
                dct = self._serializer.to_dict(workflow)
            finally:
                self._registry._encoder_mode = False
        dct[_VERSION_KEY] = SERIALIZER_VERSION
        return orjson.dumps(dct, default=self._default, option=_ORJSON_OPTIONS).decode()

    def loads(self, text: str, spec, subprocess_specs) -> BpmnWorkflow:
        """The workflow of a stored text, upgraded first if it is of an older format.

        Raises :class:`~engine.errors.StoredFormatError` for a text this engine cannot read.
        """
        dct = orjson.loads(text)
        stored_format = dct.pop(FORMAT_KEY, 1)
        if stored_format != ENGINE_FORMAT or dct.get(_VERSION_KEY) != SERIALIZER_VERSION:
            upgrade(
                dct,
                stored_format,
                spiff_current=SERIALIZER_VERSION,
                spiff_migrate=lambda d: self._spiff_migrate(d, spec, subprocess_specs),
            )
        dct.pop(_VERSION_KEY, None)
        return self._serializer.from_dict(dct, specs=(spec, subprocess_specs))

    def _spiff_migrate(self, dct: dict[str, Any], spec, subprocess_specs) -> None:
        """Run SpiffWorkflow's own migration of an older ``serializer_version`` on ``dct``.

        Its migrations read and rewrite the embedded spec (``dct['spec']``, the sub-process
        specs in ``dct['subprocess_specs']``), so the dict is first made whole as SpiffWorkflow
        itself stores it, then stored by reference again. The spec the migration rewrote is
        dropped: the workflow is restored on the one parsed from the definition by the running
        SpiffWorkflow, already in its current form.
        """
        version = dct.get(_VERSION_KEY)
        if version not in MIGRATIONS:
            raise StoredFormatError(
                f"its SpiffWorkflow serializer version is {version!r}, which this SpiffWorkflow "
                f"(format {SERIALIZER_VERSION}) cannot migrate"
            )
        with self._lock:  # the registry is shared; converting must not run in encoder mode
            registry = self._registry
            dct["spec"] = registry.convert(spec)
            dct["subprocess_specs"] = {
                name: registry.convert(sub) for name, sub in subprocess_specs.items()
            }
        try:
            self._serializer.migrate(dct)  # SpiffWorkflow's own: MIGRATIONS[version](dct)
        except Exception as exc:
            raise StoredFormatError(
                f"SpiffWorkflow's migration from serializer version {version} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)

    def to_json_value(self, data: dict[str, Any]) -> Any:
        """Task data as plain JSON values (dates as ISO strings), for the event log."""
        return json.loads(json.dumps(data, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return str(value)
