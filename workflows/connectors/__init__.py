"""The connectors BPMN service tasks may name, and what the modeler lists of them.

``http_request``, ``notify``, ``set_case_field`` and ``compute_deadline`` run as outbox jobs
after the step that reaches their service task (``engine/connectors.py``); ``build`` makes
them with what each needs, ``catalogue`` describes them for the modeler's properties panel.
See docs/connectors.md.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import httpx

from engine.clock import Clock
from engine.connectors import Connector

from ..calendar.service import CalendarProvider
from ..notifications.pipeline import Notifier
from .case_fields import CASE_FIELDS, SetCaseField
from .deadlines import ComputeDeadline
from .http import AllowedHosts, HostError, HttpRequest
from .notify import Notify

__all__ = ["AllowedHosts", "CASE_FIELDS", "HostError", "build", "catalogue"]


def build(
    *,
    hosts: AllowedHosts | None = None,
    clock: Clock | None = None,
    tz: ZoneInfo | None = None,
    calendar: CalendarProvider | None = None,
    notifier: Notifier | None = None,
    transport: httpx.BaseTransport | None = None,
) -> dict[str, Connector]:
    """The hotline's connectors by name. Validation needs none of the arguments but
    ``hosts``; running them needs all (``transport``: tests answer HTTP calls in-process)."""
    connectors: list[Connector] = [
        HttpRequest(hosts or AllowedHosts(), transport=transport),
        Notify(notifier, clock=clock),
        SetCaseField(clock=clock, tz=tz),
        ComputeDeadline(calendar=calendar, clock=clock, tz=tz),
    ]
    return {c.name: c for c in connectors}


def catalogue(connectors: dict[str, Connector]) -> list[dict[str, Any]]:
    """``[{name, label_zh, label_en, params: [{name, label_zh, label_en, required, kind}]}]``
    for the modeler, in a stable order."""
    return [connectors[name].describe() for name in sorted(connectors)]
