"""Live workflows of recently stepped instances, so a step can skip deserialization."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow


class WorkflowCache:
    """Workflows keyed by instance id and the version their row was saved at.

    An entry is taken out while a step uses it and put back only after that step commits, so a
    step that fails or loses a race never leaves a mutated workflow behind; a version mismatch
    (another process stepped the instance) is a miss. The entry also keeps the projection the
    rows hold, sparing two reads. Size 0 turns the cache off: every step then restores the
    workflow from its row, as after a restart.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[int, tuple[int, BpmnWorkflow, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: int, version: int) -> tuple[BpmnWorkflow, Any] | None:
        if not self.maxsize:
            return None
        with self._lock:
            item = self._items.pop(instance_id, None)
        if item is None or item[0] != version:
            return None
        return item[1], item[2]

    def put(self, instance_id: int, version: int, workflow: BpmnWorkflow, projection: Any) -> None:
        workflow.script_engine.environment.step = None  # drop the session reference
        with self._lock:
            self._items[instance_id] = (version, workflow, projection)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def read(self, instance_id: int, version: int, reader: Callable[[BpmnWorkflow], Any]) -> Any:
        """``reader(workflow)`` on the cached workflow of that version, without taking it out,
        or None on a miss. It runs under the lock: a step mutates a workflow only after taking
        it out, so what the reader sees is the state saved at ``version``. The reader must copy
        what it returns (the workflow lives on)."""
        if not self.maxsize:
            return None
        with self._lock:
            item = self._items.get(instance_id)
            if item is None or item[0] != version:
                return None
            return reader(item[1])

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
