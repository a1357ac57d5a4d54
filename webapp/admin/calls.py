"""The call settings (``/admin/calls``): the missed-call callback deadline, the repeat window
that makes one task of a caller's repeat calls, the attempts before a task closes as
unreachable, when a ringing call counts as stale, and the answer rate target. One row (id 1),
made on the first save; until then the defaults apply (``workflows/calls/callbacks.py``)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.db import unit_of_work
from workflows.calendar.service import UNITS
from workflows.calls import callbacks

from ..extensions import db
from ..hotline import get_hotline
from . import bp
from .common import admin_only, audit
from .forms import Form

#: whole-number settings: name -> (least, most)
COUNTS = {
    "callback_value": (1, 1000),
    "repeat_window_minutes": (0, 7 * 24 * 60),
    "callback_attempts": (1, 20),
    "stale_minutes": (1, 24 * 60),
}


def _read(form: Form) -> dict:
    values: dict = {
        name: form.integer(name, minimum=lo, maximum=hi) for name, (lo, hi) in COUNTS.items()
    }
    values["callback_unit"] = form.choice("callback_unit", UNITS)
    target = form.number("answer_rate_target")
    if target is not None and not 0 <= target <= 1:
        form.error("answer_rate_target", _("Answer rate target: a share from 0 to 1, e.g. 0.95."))
    values["answer_rate_target"] = target
    return values


@bp.route("/calls", methods=["GET", "POST"])
@admin_only
def call_settings():
    row = callbacks.call_settings(db.session)
    if request.method == "GET":
        form = Form.of({name: getattr(row, name) for name in callbacks.DEFAULTS})
        status = 200
    else:
        form = Form(request.form)
        values = _read(form)
        if form.ok:
            with unit_of_work(db.session):
                callbacks.save_settings(
                    db.session, values=values, by=g.user.username, now=get_hotline().clock.now()
                )
                audit("call_settings.update", target_type="call_settings", target_id=1, **values)
            flash(_("Call settings saved; new missed calls get the new deadline."))
            return redirect(url_for("admin.call_settings"))
        status = 400
    return render_template(
        "admin/calls.html", form=form, row=row, units=_unit_labels(), labels=_labels()
    ), status


def _labels() -> dict[str, tuple[str, str]]:
    """Each field's label and hint."""
    return {
        "callback": (
            _("Call a missed caller back within"),
            _("Counted from their first missed call; working hours and days follow the calendar."),
        ),
        "repeat_window_minutes": (
            _("Repeat window (minutes)"),
            _("Missed calls from one number within this many minutes of the last are one task."),
        ),
        "callback_attempts": (
            _("Failed attempts before a task closes as unreachable"),
            _("From 1 to 20; a wrong number closes it at once."),
        ),
        "stale_minutes": (
            _("A ringing call is stale after (minutes)"),
            _("A call ringing this long with no further event is no longer shown as waiting."),
        ),
        "answer_rate_target": (
            _("Answer rate target"),
            _(
                "A share from 0 to 1: 0.95 is the national standard (answer at least 95 of 100 calls)."
            ),
        ),
    }


def _unit_labels() -> dict[str, str]:
    return {
        "workhours": _("working hours"),
        "workdays": _("working days"),
        "hours": _("hours"),
        "days": _("calendar days"),
    }
