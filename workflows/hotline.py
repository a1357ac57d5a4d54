"""Wiring the hotline domain onto an engine runtime: functions, listener, forms, calendar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.connectors import Connector
from engine.runtime import Runtime
from engine.validation import PropertyCheck

from .calendar.service import CalendarProvider, calendar_functions, load_calendar
from .cases.listener import CaseMirror
from .cases.steps import STEP_PROPERTY, check_step, is_deadline, step_of
from .cases.types import BUILTIN, CaseTypes
from .connectors import AllowedHosts
from .connectors import build as build_connectors
from .events import EventBus
from .forms import FormRegistry
from .forms import store as form_store
from .notifications.pipeline import Notifier
from .notifications.settings import NotifySettings
from .subscribers import register


@dataclass
class Hotline:
    """Everything a domain service needs besides the session."""

    runtime: Runtime
    clock: Clock
    tz: ZoneInfo
    forms: FormRegistry
    calendar: CalendarProvider
    #: the installation's case types: the built-in ones and any a deployment declares
    case_types: CaseTypes = BUILTIN
    #: the domain events' subscribers (``workflows/subscribers.py`` registers them)
    events: EventBus = field(default_factory=EventBus)
    #: what notifications need: the channels' senders, the centre's name, the SMS rules
    notify: NotifySettings = field(default_factory=NotifySettings)
    #: what BPMN service tasks may call (``workflows/connectors``), by name
    connectors: dict[str, Connector] = field(default_factory=dict)
    #: keeps ``case_types`` up to date with the types added on the pages
    #: (``cases.type_store.StoredTypes``; None: only the declared types)
    stored_types: Any = None


def install(
    runtime: Runtime,
    *,
    clock: Clock,
    tz: ZoneInfo,
    forms_dir: Path,
    session_factory: Callable[[], Session],
    calendar_ttl: float = 60,
    case_types: CaseTypes = BUILTIN,
    notify: NotifySettings | None = None,
    connector_hosts: AllowedHosts | None = None,
    connector_transport: httpx.BaseTransport | None = None,
) -> Hotline:
    """Give ``runtime`` the hotline's calendar functions, case mirror, event subscribers,
    outbox handlers, task steps, property checks and connectors; return the Hotline.
    ``connector_hosts``: where ``http_request`` may call (none when not given)."""

    def load():
        session = session_factory()
        try:
            return load_calendar(session, tz=tz)
        finally:
            session.close()

    provider = CalendarProvider(load, clock=clock, ttl=calendar_ttl)
    runtime.add_functions(calendar_functions(provider, clock))
    events = EventBus()
    notify = notify or NotifySettings()
    register(
        events,
        runtime,
        clock=clock,
        tz=tz,
        session_factory=session_factory,
        notify=notify,
        case_types=case_types,
    )
    runtime.add_listener(CaseMirror(runtime, clock, events))
    runtime.set_task_kind(step_of)
    runtime.set_deadline_timers(is_deadline)
    runtime.add_property_checks(property_checks())
    forms = FormRegistry(forms_dir, session_factory=session_factory)

    def form_versions(session: Session, keys: list[str]) -> dict[str, int]:
        return form_store.pin(session, forms, keys, clock=clock)

    runtime.set_form_versions(form_versions)
    connectors = build_connectors(
        hosts=connector_hosts,
        clock=clock,
        tz=tz,
        calendar=provider,
        notifier=Notifier(runtime.outbox),
        transport=connector_transport,
    )
    runtime.add_connectors(connectors.values(), session_factory=session_factory)
    return Hotline(
        runtime,
        clock,
        tz,
        forms,
        provider,
        case_types,
        events,
        notify,
        connectors,
    )


def expression_functions(clock: Clock) -> dict[str, Callable[..., Any]]:
    """The functions diagrams may call, for validating diagrams without a database."""
    from engine.spiff import time_functions

    def no_calendar():
        raise RuntimeError("validation only: the calendar is not loaded")

    return {
        **time_functions(clock),
        **calendar_functions(CalendarProvider(no_calendar, clock=clock), clock),
    }


def property_checks() -> dict[str, PropertyCheck]:
    """The diagram properties whose values the hotline checks before a deployment (and
    ``hotline validate``, which runs without a database)."""
    return {STEP_PROPERTY: check_step}
