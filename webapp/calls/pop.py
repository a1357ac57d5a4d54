"""Thin views of the screen pop (docs/calls.md, "Screen pop"): the poll an operator's intake
page makes (``GET /calls/pop?seen=N``, 204 when no call rang or was answered at them since),
and the banner's two ways to record a call that made no new case: no case with a reason
(``POST /calls/pop/no-case``), or the earlier case it was about (``POST /calls/pop/about``).

The intake page (``webapp/intake/views.py``) renders the same banner when it is opened with
``?call=CALL_ID`` or during a call, and links the case it records to the call.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from engine.db import unit_of_work
from workflows.calls import links
from workflows.calls import pop as pops
from workflows.calls.enums import CallState, NoCaseReason
from workflows.calls.models import Call
from workflows.cases import service as cases
from workflows.users.models import Role

from ..extensions import db
from ..hotline import get_hotline
from ..inbox.labels import labels
from ..security import roles_required
from .board import duration

bp = Blueprint("call_pop", __name__)
bp.context_processor(labels)

OPERATORS = (Role.OPERATOR,)


def reason_labels() -> dict[str, str]:
    return {
        NoCaseReason.WRONG_NUMBER: _("Wrong number (dialled by mistake)"),
        NoCaseReason.SILENT: _("Silent call"),
        NoCaseReason.TRANSFERRED: _("Transferred"),
        NoCaseReason.HUNG_UP: _("Caller hung up"),
        NoCaseReason.HARASSMENT: _("Harassment"),
        NoCaseReason.OTHER: _("Other (say why)"),
    }


def call_state_label(state: str) -> str:
    return {
        CallState.RINGING: _("ringing"),
        CallState.ANSWERED: _("talking"),
        CallState.ENDED: _("ended"),
        CallState.MISSED: _("missed"),
        CallState.TRANSFERRED: _("transferred"),
    }.get(state, state)


def outcome_label(call: Call) -> str:
    """A call's outcome as the pop and the case page show it."""
    if not call.outcome:
        return call_state_label(call.state)
    return {
        "answered": _("answered"),
        "abandoned": _("abandoned"),
        "missed": _("missed"),
        "transferred": _("transferred"),
    }.get(call.outcome, call.outcome)


def refusal(exc: links.CallLinkInvalid) -> str:
    """A refusal of ``workflows/calls/links.py`` in the page's language."""
    p = exc.params
    messages = {
        "no_call": lambda: _("There is no call %(call_id)s.", call_id=p.get("call_id")),
        "not_yours": lambda: _(
            "The call %(call_id)s did not ring or was not answered at you.",
            call_id=p.get("call_id"),
        ),
        "unanswered": lambda: _(
            "The call %(call_id)s was not answered: it is a missed call, not yours to record.",
            call_id=p.get("call_id"),
        ),
        "has_case": lambda: _(
            "The call %(call_id)s is already recorded with case %(number)s.",
            call_id=p.get("call_id"),
            number=p.get("number"),
        ),
        "no_case": lambda: _("There is no case %(number)s you may see.", number=p.get("number")),
        "reason": lambda: _("Choose why the call made no case."),
        "note": lambda: _("Say why the call made no case (a note is required for “other”)."),
        "note_long": lambda: _("The note may have at most %(n)s characters.", n=p.get("n")),
        "no_callback": lambda: _(
            "There is no callback task %(callback)s.", callback=p.get("callback")
        ),
        "callback_case": lambda: _(
            "The callback task %(callback)s is already recorded with case %(number)s.",
            callback=p.get("callback"),
            number=p.get("number"),
        ),
    }
    return messages[exc.code]()


def banner_context(call: Call, **extra: Any) -> dict[str, Any]:
    """What ``calls/_pop.html`` and ``calls/_pop_history.html`` show for ``call``."""
    session = db.session
    earlier = pops.earlier_calls(session, call)
    return {
        "pop_call": call,
        "pop_cases": cases.earlier_cases_by_phone(
            session, phone=call.caller, user=g.user, limit=pops.HISTORY
        )
        if call.caller
        else [],
        "pop_calls": earlier,
        "pop_numbers": pops.case_numbers(session, [call, *earlier]),
        "pop_reasons": reason_labels(),
        "pop_errors": {},
        "pop_values": {},
        "call_state_label": call_state_label,
        "outcome_label": outcome_label,
        "duration": duration,
        **extra,
    }


def poll_seconds() -> float:
    return float(current_app.config.get("SCREEN_POP_POLL_SECONDS") or 0)


@bp.get("/calls/pop")
@roles_required(*OPERATORS)
def poll():
    """204 when no call rang or was answered at the operator since ``seen``; else the call
    and the banner's and the history's markup (JSON)."""
    try:
        seen = int(request.args.get("seen", "0"))
    except ValueError:
        return jsonify({"errors": {"seen": [_("A whole number.")]}}), 400
    seq, call = pops.poll(db.session, user=g.user, seen=seen)
    if call is None:
        # a call given up before the page asked: the page moves its counter on (header)
        headers = {"X-Pop-Seq": str(seq)} if seq > seen else {}
        return "", 204, headers
    context = banner_context(call)
    return jsonify(
        {
            "seq": seq,
            "call": {
                "call_id": call.call_id,
                "caller": call.caller,
                "queue": call.queue,
                "state": call.state,
            },
            "banner": render_template("calls/_pop.html", **context),
            "history": render_template("calls/_pop_history.html", **context),
        }
    )


def _answer(call_id: str, *, message: str = "", errors: dict[str, str] | None = None):
    """The banner again (the page's script swaps it in), or for a page without script back
    to the intake page with the message."""
    scripted = request.headers.get("X-Pop") == "1"
    status = 422 if errors else 200
    if scripted:
        call = links.find_call(db.session, call_id)
        extra = {"pop_errors": errors or {}, "pop_values": request.form, "pop_message": message}
        if call is None:
            return render_template("calls/_pop.html", pop_call=None, **extra), status
        return render_template("calls/_pop.html", **banner_context(call, **extra)), status
    for text in (errors or {}).values():
        flash(text, "error")
    if message:
        flash(message)
    target = url_for("intake.new", call=call_id) if errors else url_for("intake.new")
    return redirect(target, 303)


@bp.post("/calls/pop/no-case")
@roles_required(*OPERATORS)
def no_case():
    call_id = request.form.get("call_id", "").strip()
    reason = request.form.get("reason", "")
    try:
        with unit_of_work(db.session):
            call = links.settle_no_case(
                db.session,
                call_id=call_id,
                reason=reason,
                note=request.form.get("note", ""),
                user=g.user,
                now=get_hotline().clock.now(),
            )
    except links.CallLinkInvalid as exc:
        return _answer(call_id, errors={exc.field: refusal(exc)})
    label = reason_labels().get(call.no_case_reason, call.no_case_reason)
    return _answer(
        call_id,
        message=_(
            "Call from %(caller)s recorded: no case (%(reason)s).",
            caller=call.caller or "–",
            reason=label,
        ),
    )


@bp.post("/calls/pop/about")
@roles_required(*OPERATORS)
def about_case():
    call_id = request.form.get("call_id", "").strip()
    try:
        with unit_of_work(db.session):
            call, case = links.link_existing_case(
                db.session,
                call_id=call_id,
                case_number=request.form.get("case", ""),
                user=g.user,
                now=get_hotline().clock.now(),
            )
    except links.CallLinkInvalid as exc:
        return _answer(call_id, errors={exc.field: refusal(exc)})
    return _answer(
        call_id,
        message=_(
            "Call from %(caller)s recorded with case %(number)s.",
            caller=call.caller or "–",
            number=case.number,
        ),
    )
