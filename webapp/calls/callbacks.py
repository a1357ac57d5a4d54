"""Thin views of the missed-call callback tasks (未接来电回拨, ``/calls/callbacks``): the list
by wait, one task with its missed calls and attempts, claiming, releasing and recording an
attempt (``workflows/calls/callbacks.py`` holds the rules)."""

from __future__ import annotations

import functools

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from engine.db import unit_of_work
from engine.errors import ConflictError
from workflows.calls import callbacks as service
from workflows.calls.enums import CallbackState
from workflows.calls.models import CallCallback
from workflows.cases.confidentiality import mask_phone
from workflows.cases.models import Case
from workflows.errors import FormInvalid
from workflows.users.models import Role

from .. import identity
from ..audit.log import record
from ..extensions import db
from ..hotline import get_hotline
from ..pagination import paginate
from ..security import roles_required
from ..sorting import DESC, Sortable, apply_sort

bp = Blueprint("call_callbacks", __name__)

#: who sees the tasks: the operators who call back, the on-duty lead, supervisors, admins
READERS = (Role.OPERATOR, Role.LEAD, Role.SUPERVISOR, Role.ADMIN)
#: who works on them (claims, calls, records attempts)
WORKERS = (Role.OPERATOR, Role.LEAD)
#: who may give back a task someone else claimed (one left claimed at the end of a shift)
FREERS = frozenset({Role.LEAD})
#: the tasks' sortable columns (the open ones are a few dozen; the closed ones through their
#: state index); without ``sort``, the longest wait first (closed: the newest first)
CALLBACK_SORTS = {
    "number": Sortable((CallCallback.caller,)),
    "missed": Sortable((CallCallback.missed_count,), first=DESC),
    "first_missed": Sortable((CallCallback.first_missed_at,)),
    "last_missed": Sortable((CallCallback.last_missed_at,), first=DESC),
    "queue": Sortable((CallCallback.queue,)),
    "due": Sortable((CallCallback.due_at,)),
    "claimed_by": Sortable((CallCallback.claimed_by,)),
    "attempts": Sortable((CallCallback.attempts,), first=DESC),
    "outcome": Sortable((CallCallback.state, CallCallback.outcome)),
    "closed": Sortable((CallCallback.closed_at,), first=DESC, nullable=True),
}
#: the open tasks have no outcome yet
OPEN_CALLBACK_SORTS = {k: v for k, v in CALLBACK_SORTS.items() if k not in ("outcome", "closed")}


def _works() -> bool:
    return g.user.role in {str(r) for r in WORKERS}


def phone_of(number: str) -> str:
    """Those who call back see the number; the others (who only watch) see it masked."""
    return number if _works() else mask_phone(number)


def labels() -> dict[str, str]:
    return {
        CallbackState.OPEN: _("Open"),
        CallbackState.DONE: _("Done"),
        CallbackState.UNREACHABLE: _("Unreachable"),
        CallbackState.CANCELLED: _("Cancelled"),
        "reached": _("Reached"),
        "not_reached": _("Not reached"),
        "got_through": _("Called again and got through"),
        "cancelled": _("Cancelled"),
        "no_answer": _("No answer"),
        "busy": _("Busy"),
        "wrong_number": _("Wrong number"),
    }


def _due_mark():
    """``due_mark`` for the templates: on the working calendar, in the settings' unit."""
    calendar = get_hotline().calendar.get()
    unit = service.call_settings(db.session).callback_unit
    return functools.partial(service.due_mark, calendar=calendar, unit=unit)


@bp.get("/calls/callbacks")
@roles_required(*READERS)
def index():
    show = request.args.get("show") or "open"
    if show not in ("open", "closed"):
        show = "open"
    stmt = service.tasks_stmt(closed=show == "closed")
    sorts = CALLBACK_SORTS if show == "closed" else OPEN_CALLBACK_SORTS
    stmt, sorting = apply_sort(stmt, sorts, (CallCallback.id,))
    page = paginate(db.session, stmt)
    page.sorting = sorting
    if _works() and page.items:  # callers' numbers shown in full: personal data seen
        identity.audit_shown("list", in_full=len(page.items), rows=len(page.items), case=None)
    return render_template(
        "calls/callbacks.html",
        page=page,
        show=show,
        now=get_hotline().clock.now(),
        due_mark=_due_mark(),
        phone_of=phone_of,
        labels=labels(),
        open_count=service.open_count(db.session),
    )


@bp.get("/calls/callbacks/<int:callback_id>")
@roles_required(*READERS)
def show(callback_id: int):
    return _page(callback_id)


def _page(callback_id: int, *, errors=None, values=None, status: int = 200):
    task = service.get_task(db.session, callback_id=callback_id)  # NotFound: 404
    case = db.session.get(Case, task.case_id) if task.case_id else None
    if _works():
        identity.audit_shown("page", in_full=1, rows=1, case=None, callback=task.id)
    return render_template(
        "calls/callback.html",
        task=task,
        case=case,
        calls=service.calls_of(db.session, callback_id=task.id),
        attempts=service.attempts_of(db.session, callback_id=task.id),
        settings=service.call_settings(db.session),
        now=get_hotline().clock.now(),
        due_mark=_due_mark(),
        phone_of=phone_of,
        labels=labels(),
        works=_works(),
        frees=g.user.role in {str(r) for r in FREERS},
        errors=errors or {},
        values=values or {},
        note_max=service.NOTE_MAX,
    ), status


@bp.post("/calls/callbacks/<int:callback_id>/claim")
@roles_required(*WORKERS)
def claim(callback_id: int):
    return _act(callback_id, service.claim, "call_callback.claim", _("You are calling them back."))


@bp.post("/calls/callbacks/<int:callback_id>/release")
@roles_required(*WORKERS)
def release(callback_id: int):
    held_by = service.get_task(db.session, callback_id=callback_id).claimed_by  # NotFound: 404
    frees = g.user.role in {str(r) for r in FREERS}
    return _act(
        callback_id,
        functools.partial(service.release, anyone=frees),
        "call_callback.release",
        _("Given back to the group."),
        held_by=held_by,
    )


def _act(callback_id: int, action, audit_action: str, done: str, **detail):
    try:
        with unit_of_work(db.session):
            action(db.session, callback_id=callback_id, user=g.user, now=get_hotline().clock.now())
            record(audit_action, target_type="call_callback", target_id=callback_id, **detail)
    except ConflictError:
        return _refused(callback_id)
    flash(done, "success")
    return redirect(url_for("call_callbacks.show", callback_id=callback_id), 303)


def _refused(callback_id: int):
    """Someone else holds the task, or it closed meanwhile: the page again, saying which."""
    db.session.rollback()
    task = service.get_task(db.session, callback_id=callback_id)
    if task.state != CallbackState.OPEN:
        message = _("This task is closed already (%(state)s).", state=labels()[task.state])
    else:
        message = _("%(name)s is calling this caller back: only one operator at a time.",
                    name=task.claimed_by)  # fmt: skip
    flash(message, "error")
    return _page(callback_id, status=409)


@bp.post("/calls/callbacks/<int:callback_id>/attempt")
@roles_required(*WORKERS)
def attempt(callback_id: int):
    form = request.form
    values = {k: (form.get(k) or "").strip() for k in ("result", "reason", "note", "then")}
    recording_case = values["result"] == "reached" and values["then"] == "case"
    if recording_case and g.user.role != Role.OPERATOR:
        return _page(callback_id, errors={"then": [_("Only operators record cases.")]},
                     values=values, status=422)  # fmt: skip
    try:
        with unit_of_work(db.session):
            row = service.record_attempt(
                db.session,
                callback_id=callback_id,
                user=g.user,
                result=values["result"],
                reason=values["reason"],
                note=values["note"],
                now=get_hotline().clock.now(),
                recording_case=recording_case,
            )
            record(
                "call_callback.attempt",
                target_type="call_callback",
                target_id=callback_id,
                result=row.result,
                reason=row.reason or "",
            )
    except FormInvalid as exc:
        db.session.rollback()
        service.get_task(db.session, callback_id=callback_id)  # an unknown task: 404
        return _page(callback_id, errors=_messages(exc.errors), values=values, status=422)
    except ConflictError:
        return _refused(callback_id)
    if recording_case:
        return redirect(url_for("intake.new", callback=callback_id), 303)
    flash(_("Attempt recorded."), "success")
    return redirect(url_for("call_callbacks.show", callback_id=callback_id), 303)


def _messages(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The service's field errors in the page's language."""
    text = {
        "result": _("Result: choose reached or not reached."),
        "reason": _(
            "Reason: choose no answer, busy or wrong number when the caller was not reached "
            "(none when reached)."
        ),
        "note": _(
            "Note: say why no case was needed when the caller was reached (at most "
            "%(n)s characters).",
            n=service.NOTE_MAX,
        ),
    }
    return {field: [text.get(field, " ".join(messages))] for field, messages in errors.items()}


# -- the live list, the operator's landing page --------------------------------------------


def live_version() -> str:
    return service.version(db.session)


def open_callbacks() -> int | None:
    """How many tasks are open, for an operator's landing page (None: not shown)."""
    if g.get("user") is None or g.user.role != Role.OPERATOR:
        return None
    try:
        return service.open_count(db.session)
    except SQLAlchemyError:
        return None


@bp.app_context_processor
def callback_helpers() -> dict[str, object]:
    return {"open_callbacks": open_callbacks}
