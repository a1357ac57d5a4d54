"""The caller's identity as the signed-in user may see it, for every page, export and answer.

One place for what ``workflows/cases/confidentiality.py`` decides. A view names its surface
once, with ``record(cases, channel)`` (or ``surface(channel)``) before rendering; then
``shown(case)`` (the pages' ``caller(case)``) is the name, phone and address to print, masked
or in full for this user on this surface, and ``record`` has written what the user is shown in
full: one audit row per request (``personal.view``, ``personal.export``, ``personal.reveal``,
with the count and the filter for a list) and, for confidential callers, the view log.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, g, request

from engine.db import end_read, in_unit_of_work, unit_of_work
from workflows.cases.confidentiality import (
    Identity,
    caller_identity,
    full_views,
    is_centre,
    record_views,
    shown_in_full,
)
from workflows.cases.models import Case

from .audit.log import record as audit
from .extensions import db
from .hotline import get_hotline

#: the audit action of a surface that shows callers in full
_ACTIONS = {
    "csv": "personal.export",
    "print": "personal.export",
    "export": "personal.export",
    "reveal": "personal.reveal",
}
#: query arguments that are no filter
_NOT_FILTER = frozenset({"page", "per_page", "format", "csrf_token"})


def centre() -> bool:
    """Whether the signed-in user sees confidential callers in full."""
    user = getattr(g, "user", None)
    return user is not None and is_centre(user, getattr(g, "department", None))


def _role() -> str:
    user = getattr(g, "user", None)
    return str(user.role) if user is not None else ""


def surface(channel: str) -> None:
    """Name the surface this request shows callers on (list, csv, page, task, api...)."""
    g.identity_surface = channel


def shown(case: Case) -> Identity:
    """The case's caller as the signed-in user may see it on this request's surface."""
    return caller_identity(
        case, centre=centre(), role=_role(), surface=g.get("identity_surface", "page")
    )


def record(cases: Iterable[Case], channel: str, **detail: Any) -> None:
    """Name the surface and record what the user is shown in full there: one audit row for
    the request, and the view log of confidential callers."""
    surface(channel)
    cases = list(cases)
    full = shown_in_full(cases, centre=centre(), role=_role(), surface=channel)
    if full or channel in _ACTIONS:
        one = full[0] if len(full) == 1 and len(cases) == 1 else None
        audit_shown(channel, in_full=len(full), rows=len(cases), case=one, **detail)
    record_ids(full_views(full, centre=centre()), channel)


class Export:
    """What a streamed export showed, counted as it streams and recorded once it is built."""

    def __init__(self) -> None:
        self.rows = 0
        self.in_full = 0
        self.confidential: list[int] = []

    def counted(self, cases: Iterable[Case]) -> Iterator[Case]:
        for case in cases:
            self.rows += 1
            if not shown(case).masked:
                self.in_full += 1
                if case.confidential:
                    self.confidential.append(case.id)
            yield case

    def record(self, channel: str) -> None:
        audit_shown(channel, in_full=self.in_full, rows=self.rows, case=None)
        record_ids(self.confidential, channel)


def audit_shown(channel: str, *, in_full: int, rows: int, case: Case | None, **detail: Any) -> None:
    """One audit row for a request that showed (or exported) callers' personal data: the
    case, or for a list the count and the filter."""
    one = case
    audit(
        _ACTIONS.get(channel, "personal.view"),
        target_type="case" if one else "cases",
        target_id=one.id if one else "",
        case_number=one.number if one else "",
        channel=channel,
        path=request.path,
        in_full=in_full,
        rows=rows,
        filter={k: v for k, v in request.args.items() if k not in _NOT_FILTER and v},
        **detail,
    )


def record_ids(case_ids: list[int], channel: str) -> None:
    """Record full views of these confidential cases by the signed-in user, in the request's
    unit of work if one is open, else in one of its own."""
    if not case_ids or not centre():
        return
    session = db.session
    values = {
        "case_ids": case_ids,
        "user": g.user,
        "channel": channel,
        "path": request.path,
        "now": get_hotline().clock.now(),
    }
    if in_unit_of_work(session):
        record_views(session, **values)
        return
    end_read(session)
    with unit_of_work(session):
        record_views(session, **values)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["caller"] = shown
