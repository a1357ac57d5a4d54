"""The engine's kinds of event-log entries (``instance_events.kind``), one enum.

The stored strings are the enum's values and never change: pages and existing rows read them.
The domain names its own kinds in ``workflows/events.py``.
"""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    INSTANCE_STARTED = "instance.started"
    INSTANCE_COMPLETED = "instance.completed"
    INSTANCE_CANCELLED = "instance.cancelled"
    INSTANCE_MIGRATED = "instance.migrated"
    TASK_COMPLETED = "task.completed"
    #: input for a task a timer took away first; the input is kept in the payload
    TASK_REJECTED = "task.rejected"
    TIMER_FIRED = "timer.fired"
    #: a signal delivered to one instance from outside (``Runtime.signal``)
    SIGNAL_RECEIVED = "signal.received"
    TIMER_INCIDENT = "timer.incident"
    #: a service task handed its call to a connector (an outbox job) and waits for it
    CONNECTOR_QUEUED = "connector.queued"
    #: the connector's job finished and completed the waiting service task
    CONNECTOR_DONE = "connector.done"
    #: an attempt failed; it is retried with backoff
    CONNECTOR_FAILED = "connector.failed"
    #: the last attempt failed: the task keeps waiting until an administrator retries it
    CONNECTOR_INCIDENT = "connector.incident"
