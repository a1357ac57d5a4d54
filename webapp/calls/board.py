"""Thin views of the on-duty lead's board (值班长, ``/calls/board``) and of operators setting
their own state (``/calls/state``, the control in the page header); an operator who signs
in is available, one who signs out offline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from engine.db import unit_of_work
from workflows.calls import agents
from workflows.calls import board as floor
from workflows.calls.enums import SELF_SET, AgentStatus
from workflows.calls.models import AgentState
from workflows.cases.confidentiality import mask_phone
from workflows.users.models import Role, User

from .. import signals
from ..errors import render_error
from ..extensions import db
from ..hotline import get_hotline
from ..security import roles_required

bp = Blueprint("call_board", __name__)

#: who watches the floor: the on-duty lead, the supervisors, administrators
BOARD_ROLES = (Role.LEAD, Role.SUPERVISOR, Role.ADMIN)
#: who sets a state of their own (and is listed on the board)
OPERATORS = (Role.OPERATOR,)


def state_label(state: str) -> str:
    return {
        AgentStatus.ON_CALL: _("On a call"),
        AgentStatus.AFTER_CALL_WORK: _("After-call work"),
        AgentStatus.AVAILABLE: _("Available"),
        AgentStatus.AWAY: _("Away"),
        AgentStatus.OFFLINE: _("Offline"),
    }.get(state, state)


def duration(seconds: float | None) -> str:
    """1:05 or 1:02:03; – for none."""
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def ago(seconds: float) -> str:
    """A long wait in words in the viewer's language (3 hours, 2 days): the missed-call
    backlog's oldest task waits hours or days, which a ticking clock shows badly."""
    return format_timedelta(timedelta(seconds=seconds), threshold=1.5)


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


@bp.get("/calls/board")
@roles_required(*BOARD_ROLES)
def show():
    hotline = get_hotline()
    data = floor.board(db.session, now=hotline.clock.now(), tz=hotline.tz)
    names = {o.username: o.display_name for o in data.operators}
    return render_template(
        "calls/board.html",
        b=data,
        names=names,
        mask_phone=mask_phone,
        state_label=state_label,
        duration=duration,
        ago=ago,
        percent=percent,
        states=floor.STATE_ORDER,
    )


@bp.post("/calls/state")
@roles_required(*OPERATORS)
def set_state():
    state = request.form.get("state") or ""
    if state not in {str(s) for s in SELF_SET}:
        choices = ", ".join(state_label(s) for s in SELF_SET)
        message = _("State: choose one of %(choices)s.", choices=choices)
        return render_error(400, message)
    with unit_of_work(db.session):
        agents.set_state(db.session, user=g.user, state=state, now=get_hotline().clock.now())
    return redirect(_back(request.form.get("next")), 303)


def _back(target: str | None) -> str:
    """Back to the page the control was on (a path of ours), else home."""
    parts = urlsplit(target or "")
    if not target or parts.scheme or parts.netloc or not target.startswith("/"):
        return url_for("home.index")
    return target


# -- the header's control ------------------------------------------------------------------


def own_state() -> dict[str, Any] | None:
    """The signed-in operator's state for the header (None for other roles); never breaks the
    page it is on."""
    user = g.get("user")
    if user is None or user.role not in {str(r) for r in OPERATORS}:
        return None
    try:
        row = db.session.get(AgentState, user.id)
    except SQLAlchemyError as exc:
        current_app.logger.warning("the operator's state was left out of the page: %s", exc)
        return None
    state = row.state if row is not None else AgentStatus.OFFLINE
    return {"state": state, "label": state_label(state), "choices": SELF_SET}


def state_version(user: User) -> str:
    """The live token of the header's state (a call event moves it)."""
    row = db.session.get(AgentState, user.id)
    return f"{row.state}.{row.since.isoformat()}" if row is not None else "offline"


def board_version() -> str:
    hotline = get_hotline()
    return floor.version(db.session, now=hotline.clock.now(), tz=hotline.tz)


@bp.app_context_processor
def state_helpers() -> dict[str, object]:
    return {"own_agent_state": own_state, "agent_state_label": state_label}


# -- signing in and out --------------------------------------------------------------------


def _signed_in(sender: Flask, *, user: User, **_: Any) -> None:
    if user.role in {str(r) for r in OPERATORS}:
        with unit_of_work(db.session):
            agents.signed_in(db.session, user=user, now=get_hotline().clock.now())


def _sessions_ended(sender: Flask, *, user_id: int, reason: str, **_: Any) -> None:
    if reason in ("logout", "idle", "expired"):
        user = db.session.get(User, user_id)
        if user is not None and user.role in {str(r) for r in OPERATORS}:
            with unit_of_work(db.session):
                agents.signed_out(db.session, user=user, now=get_hotline().clock.now())


@bp.record_once
def _listen(state) -> None:
    # weak=False: module functions, kept for the app's life anyway
    signals.signed_in.connect(_signed_in, sender=state.app, weak=False)
    signals.sessions_ended.connect(_sessions_ended, sender=state.app, weak=False)
