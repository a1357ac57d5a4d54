"""Try a draft diagram before it is deployed: validate it, run synthetic cases of it in a
throwaway database, and report where they end and where they get stuck."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import ManualClock
from engine.db import unit_of_work
from engine.errors import DefinitionInvalid, Issue
from engine.expressions import DEFAULT_BUDGET, Budget
from engine.runtime import Runtime
from engine.xmlsafe import UnsafeXml

from ..cases.types import BUILTIN, CaseTypes
from ..connectors import AllowedHosts
from ..departments.models import Department
from ..hotline import install
from ..users.models import User
from .driver import Driver, Limits
from .graph import Diagram, Person, read_diagram, tasks_nobody_may_do
from .report import Finding, TryReport
from .sandbox import sandbox

#: the most synthetic cases one try may run
MAX_CASES = 100
DEFAULT_CASES = 20


class TryRefused(ValueError):
    """The request cannot be tried (``field`` names what is wrong)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def try_draft(
    source: Session,
    data: bytes,
    file_name: str,
    *,
    forms_dir: Path,
    now: datetime,
    tz: ZoneInfo,
    cases: int = DEFAULT_CASES,
    seed: int = 1,
    case_types: CaseTypes = BUILTIN,
    limits: Limits | None = None,
    budget: Budget = DEFAULT_BUDGET,
    connector_hosts: AllowedHosts | None = None,
) -> TryReport:
    """Run ``cases`` synthetic cases of the draft in ``data``; ``source`` (the real
    database) is only read, for its reference data. Raises DefinitionInvalid with the
    validator's issues for a draft that would not deploy, TryRefused for bad arguments."""
    if not 1 <= cases <= MAX_CASES:
        raise TryRefused("cases", f"cases must be between 1 and {MAX_CASES}, not {cases}")
    limits = limits or Limits()
    with sandbox(source) as engine:

        def session_factory() -> Session:
            return Session(engine)

        clock = ManualClock(now)
        runtime = Runtime(clock=clock, tz=tz, expression_budget=budget)
        diagram = read_diagram_or_issues(data, file_name)
        process = _process(diagram.processes, case_types)
        case_type, types = _case_type(process, case_types) if process else ("", case_types)
        hotline = install(
            runtime,
            clock=clock,
            tz=tz,
            forms_dir=forms_dir,
            session_factory=session_factory,
            case_types=types,
            # connectors run as the worker would run them; an HTTP call is answered by a
            # stand-in (200, an empty JSON object), never sent anywhere
            connector_hosts=connector_hosts,
            connector_transport=httpx.MockTransport(lambda request: httpx.Response(200, json={})),
        )
        checked = runtime.validate(data, file_name, form_exists=hotline.forms.exists)
        if not checked.ok:
            raise DefinitionInvalid(checked.issues)
        if not process:
            raise DefinitionInvalid(
                [Issue(file_name, None, None, "the diagram has no executable process to try")]
            )
        report = TryReport(process=process, case_type=case_type, cases=cases, seed=seed)
        report.names = {e.id: e.name for e in diagram.elements.values()}
        session = session_factory()
        with unit_of_work(session):
            runtime.deploy(
                session, data, file_name, deployed_by="try-run", form_exists=hotline.forms.exists
            )
        people = _people(session)
        session.close()
        for element in diagram.unreachable:
            report.findings.append(Finding(element, "unreachable"))
        for nobody in tasks_nobody_may_do(diagram, people):
            report.findings.append(
                Finding(nobody.element, "nobody", nobody.reason, 0, nobody.value)
            )
        driver = Driver(hotline, session_factory, case_type=case_type, report=report, limits=limits)
        driver.run()
        driver.settle()
        static = {f.element for f in report.findings if f.kind in ("unreachable", "nobody")}
        report.findings = _merge(report.findings)
        report.not_reached = [
            e.id
            for e in diagram.elements.values()
            if e.id not in driver.reached and e.id not in static and e.kind != "subProcess"
        ]
    return report


def _merge(findings: list[Finding]) -> list[Finding]:
    """One finding per element and kind: a task nobody may do that the run also met keeps
    the static reason and counts the cases."""
    out: dict[tuple[str, str], Finding] = {}
    for f in findings:
        key = (f.element, f.kind)
        if key in out:
            kept = out[key]
            kept.cases += f.cases
            kept.detail = kept.detail or f.detail
            kept.value = kept.value or f.value
        else:
            out[key] = f
    return list(out.values())


def read_diagram_or_issues(data: bytes, file_name: str) -> Diagram:
    """The draft's graph; a file that is not even XML answers the validator's issues."""
    try:
        return read_diagram(data)
    except UnsafeXml:
        return Diagram({}, [], [])  # the validation below says what is wrong


def _process(processes: list[str], case_types: CaseTypes) -> str:
    """The draft's process to try: the one a case type runs, else the first ("" if none)."""
    runs = {t.process for t in case_types}
    for pid in processes:
        if pid in runs:
            return pid
    return processes[0] if processes else ""


def _case_type(process: str, case_types: CaseTypes) -> tuple[str, CaseTypes]:
    """The case type whose cases run ``process``; a new process runs as the first type's
    cases (its deadline policy and intake), in the throwaway database only."""
    for t in case_types:
        if t.process == process:
            return t.code, case_types
    first = next(iter(case_types))
    changed = [dataclasses.replace(t, process=process) if t is first else t for t in case_types]
    return first.code, CaseTypes(changed)


def _people(session: Session) -> list[Person]:
    codes = dict(session.execute(select(Department.id, Department.code)).all())
    users = session.scalars(select(User).where(User.active.is_(True)))
    return [Person(str(u.role), codes.get(u.department_id)) for u in users]
