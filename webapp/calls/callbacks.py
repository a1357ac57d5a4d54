"""Thin views of the missed-call callback tasks (未接来电回拨, ``/calls/callbacks``): the list by
wait, a task's page with its missed calls and attempts, and working it (claim, release, an
attempt, closing as reached with no case; a case is recorded at ``/intake?callback=ID``)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from engine.db import end_read, unit_of_work
from engine.errors import NotFound
from workflows.calls import callbacks as service
from workflows.calls.models import CallCallback
from workflows.cases.confidentiality import LIST_FULL_ROLES, mask_phone
from workflows.cases.models import Case
from workflows.users.models import Role, User

from .. import identity
from ..audit.log import record
from ..extensions import db
from ..hotline import get_hotline
from ..pagination import paginate
from ..security import roles_required

bp = Blueprint("call_callbacks", __name__)

#: who works the missed callers back: the operators, and those who run the floor
WORKERS = (Role.OPERATOR, Role.SUPERVISOR, Role.LEAD, Role.ADMIN)
#: who may free a task another person holds (one left claimed by an operator gone home)
RELEASERS = frozenset({Role.SUPERVISOR, Role.LEAD, Role.ADMIN})
SHOWS = ("open", "closed")

RESULT_LABELS = {"reached": _l("Reached"), "not_reached": _l("Not reached")}
REASON_LABELS = {
    "no_answer": _l("No answer"),
    "busy": _l("Busy"),
    "wrong_number": _l("Wrong number"),
}
STATE_LABELS = {
    "open": _l("Waiting for a call back"),
    "done": _l("Done"),
    "unreachable": _l("Unreachable"),
    "cancelled": _l("Cancelled"),
}
OUTCOME_LABELS = {
    "reached": _l("Caller reached"),
    "not_reached": _l("Caller not reached"),
    "got_through": _l("The caller got through by calling again"),
    "cancelled": _l("Its calls turned out answered"),
}
CALL_OUTCOME_LABELS = {"missed": _l("Missed"), "abandoned": _l("Abandoned")}


def _full(task: CallCallback | None = None) -> bool:
    """Operators see callers' numbers in full (they call them), as on the case lists; the
    others masked, unless they hold the task they are looking at."""
    if g.user.role in {str(r) for r in LIST_FULL_ROLES}:
        return True
    return task is not None and task.claimed_by == g.user.username


def _names(usernames: set[str]) -> dict[str, str]:
    usernames = {u for u in usernames if u}
    if not usernames:
        return {}
    rows = db.session.execute(
        select(User.username, User.display_name).where(User.username.in_(usernames))
    )
    return dict(rows.all())


# -- the list ------------------------------------------------------------------------------


@bp.get("/calls/callbacks")
@roles_required(*WORKERS)
def index():
    session = db.session
    show = request.args.get("show", "open")
    if show not in SHOWS:
        show = "open"
    hotline = get_hotline()
    now = hotline.clock.now()
    page = paginate(session, service.tasks(state=show))
    settings = service.call_settings(session)
    calendar = hotline.calendar.get()
    full = _full()
    if full and page.items:
        identity.audit_shown("list", in_full=len(page.items), rows=len(page.items), case=None)
    return render_template(
        "calls/callbacks.html",
        page=page,
        show=show,
        now=now,
        open_count=service.open_count(session),
        phone={t.id: t.caller if full else mask_phone(t.caller) for t in page.items},
        due={
            t.id: service.due_state(t, settings=settings, calendar=calendar, now=now)
            for t in page.items
        },
        names=_names({t.claimed_by for t in page.items} | {t.closed_by for t in page.items}),
        labels=_labels(),
    )


def _labels() -> dict[str, Any]:
    return {
        "result": RESULT_LABELS,
        "reason": REASON_LABELS,
        "state": STATE_LABELS,
        "outcome": OUTCOME_LABELS,
        "call_outcome": CALL_OUTCOME_LABELS,
    }


# -- one task ------------------------------------------------------------------------------


def _task_or_404(callback_id: int) -> CallCallback:
    return db.session.get(CallCallback, callback_id) or abort(404)


def _render_task(
    callback_id: int,
    *,
    status: int = 200,
    errors: dict[str, list[str]] | None = None,
    values: dict[str, str] | None = None,
    problem: str = "",
):
    session = db.session
    task = _task_or_404(callback_id)
    hotline = get_hotline()
    now = hotline.clock.now()
    full = _full(task)
    if full:
        identity.audit_shown("page", in_full=1, rows=1, case=None, callback=task.id)
    attempts = service.attempts_of(session, callback_id=task.id)
    case_number = (
        session.scalar(select(Case.number).where(Case.id == task.case_id)) if task.case_id else None
    )
    return (
        render_template(
            "calls/callbacks_task.html",
            task=task,
            phone=task.caller if full else mask_phone(task.caller),
            calls=service.calls_of(session, callback_id=task.id),
            attempts=attempts,
            reached=any(a.result == "reached" for a in attempts),
            due=service.due_state(
                task,
                settings=service.call_settings(session),
                calendar=hotline.calendar.get(),
                now=now,
            ),
            case_number=case_number,
            names=_names({task.claimed_by, task.closed_by} | {a.user for a in attempts}),
            mine=task.claimed_by == g.user.username,
            may_free=g.user.role in {str(r) for r in RELEASERS},
            labels=_labels(),
            errors=errors or {},
            values=values or {},
            problem=problem,
            note_max=service.NOTE_MAX,
        ),
        status,
    )


@bp.get("/calls/callbacks/<int:callback_id>")
@roles_required(*WORKERS)
def show(callback_id: int):
    return _render_task(callback_id)


def _change(callback_id: int, action: str, work, **detail: Any):
    """Run ``work(session)`` on the task in one unit of work with its audit row. None when
    done; a conflict (another holds it, it is closed) is the page saying why, answered 409."""
    session = db.session
    end_read(session)
    try:
        with unit_of_work(session):
            work(session)
            record(action, target_type="call_callback", target_id=callback_id, **detail)
    except NotFound:
        abort(404)
    except service.CallbackConflict as exc:
        return _render_task(callback_id, status=409, problem=_conflict(exc.task))
    return None


def _conflict(task: CallCallback) -> str:
    if task.state != "open":
        return _("This callback task is already closed (%(state)s).", state=_state(task.state))
    if task.claimed_by and task.claimed_by != g.user.username:
        name = _names({task.claimed_by}).get(task.claimed_by, task.claimed_by)
        return _(
            "%(name)s is working on this callback task; wait until they release it.", name=name
        )
    return _("Record a call back that reached the caller first.")


def _state(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def _back(callback_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("call_callbacks.show", callback_id=callback_id), 303)


@bp.post("/calls/callbacks/<int:callback_id>/claim")
@roles_required(*WORKERS)
def claim(callback_id: int):
    user = g.user.username
    refused = _change(
        callback_id,
        "call_callback.claim",
        lambda s: service.claim(s, callback_id=callback_id, user=user),
    )
    if refused is not None:
        return refused
    return _back(callback_id, _("You are working on this callback task now."))


@bp.post("/calls/callbacks/<int:callback_id>/release")
@roles_required(*WORKERS)
def release(callback_id: int):
    user, anyone = g.user.username, g.user.role in {str(r) for r in RELEASERS}
    held = _task_or_404(callback_id).claimed_by
    refused = _change(
        callback_id,
        "call_callback.release",
        lambda s: service.release(s, callback_id=callback_id, user=user, anyone=anyone),
        held_by=held,
    )
    if refused is not None:
        return refused
    flash(_("The callback task is back on the list."), "success")
    return redirect(url_for("call_callbacks.index"), 303)


def attempt_form_errors(form) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The attempt form's values and its errors, each naming its field."""
    values = {
        "result": (form.get("result") or "").strip(),
        "reason": (form.get("reason") or "").strip(),
        "note": (form.get("note") or "").strip(),
    }
    errors: dict[str, list[str]] = {}
    if values["result"] not in service.RESULTS:
        errors["result"] = [_("Result: choose reached or not reached.")]
    elif values["result"] == "not_reached" and values["reason"] not in service.REASONS:
        choices = "、".join(str(REASON_LABELS[r]) for r in service.REASONS)
        errors["reason"] = [_("Why not reached: choose one of %(choices)s.", choices=choices)]
    if len(values["note"]) > service.NOTE_MAX:
        errors["note"] = [
            _(
                "Note: at most %(max)s characters; this has %(n)s.",
                max=service.NOTE_MAX,
                n=len(values["note"]),
            )
        ]
    return values, errors


@bp.post("/calls/callbacks/<int:callback_id>/attempts")
@roles_required(*WORKERS)
def attempt(callback_id: int):
    _task_or_404(callback_id)
    values, errors = attempt_form_errors(request.form)
    if errors:
        return _render_task(callback_id, status=400, errors=errors, values=values)
    user, now = g.user.username, get_hotline().clock.now()
    reason = values["reason"] if values["result"] == "not_reached" else None
    refused = _change(
        callback_id,
        "call_callback.attempt",
        lambda s: service.record_attempt(
            s,
            callback_id=callback_id,
            user=user,
            result=values["result"],
            reason=reason,
            note=values["note"],
            now=now,
        ),
        result=values["result"],
        reason=reason or "",
        note=values["note"],
    )
    if refused is not None:
        return refused
    task = db.session.get(CallCallback, callback_id)
    if values["result"] == "reached":
        message = _(
            "Caller reached: record a case from the call, or close the task if none is needed."
        )
    elif task is not None and task.state == "unreachable":
        message = _("Not reached: the task is closed as unreachable.")
    else:
        message = _("Not reached: the task is back on the list for another try.")
    return _back(callback_id, message)


@bp.post("/calls/callbacks/<int:callback_id>/close")
@roles_required(*WORKERS)
def close(callback_id: int):
    _task_or_404(callback_id)
    note = (request.form.get("note") or "").strip()
    problem = None
    if not note:
        problem = _("Note: say what the call was about and why no case is needed.")
    elif len(note) > service.NOTE_MAX:
        problem = _(
            "Note: at most %(max)s characters; this has %(n)s.", max=service.NOTE_MAX, n=len(note)
        )
    if problem:
        return _render_task(
            callback_id, status=400, errors={"close_note": [problem]}, values={"close_note": note}
        )
    user, now = g.user.username, get_hotline().clock.now()
    refused = _change(
        callback_id,
        "call_callback.close",
        lambda s: service.close_reached(s, callback_id=callback_id, user=user, note=note, now=now),
        outcome="reached",
        note=note,
    )
    if refused is not None:
        return refused
    flash(_("Callback task closed: caller reached, no case needed."), "success")
    return redirect(url_for("call_callbacks.index"), 303)


# -- elsewhere: the operators' start page, the live list -----------------------------------


def open_count_line() -> int | None:
    """The open tasks' count for the line on the operators' start page (None for others, or
    when the database fails: the page it is on must not break)."""
    user = g.get("user")
    if user is None or user.role not in {str(r) for r in WORKERS}:
        return None
    try:
        return service.open_count(db.session)
    except SQLAlchemyError as exc:
        current_app.logger.warning("the callback count was left out of the page: %s", exc)
        return None


@bp.app_context_processor
def callback_helpers() -> dict[str, object]:
    return {"call_callbacks_open": open_count_line}
