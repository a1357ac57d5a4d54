"""The centre's call settings (``/admin/calls``): the missed-call callback deadline, the
repeat window, the callback attempts, when a ringing call is stale, the answer rate target."""

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


def unit_labels() -> dict[str, str]:
    return {
        "workhours": _("working hours"),
        "workdays": _("working days"),
        "hours": _("hours"),
        "days": _("days"),
    }


def _read(form: Form) -> dict:
    values = {
        "callback_value": form.integer("callback_value", minimum=1, maximum=1000),
        "callback_unit": form.choice("callback_unit", UNITS),
        "repeat_window_minutes": form.integer("repeat_window_minutes", minimum=1, maximum=43200),
        "callback_attempts": form.integer("callback_attempts", minimum=1, maximum=20),
        "stale_minutes": form.integer("stale_minutes", minimum=1, maximum=1440),
    }
    target = form.number("answer_rate_target")
    if target is not None and not 0 <= target <= 1:
        form.error("answer_rate_target", _("Between 0 and 1, such as 0.95."))
    values["answer_rate_target"] = target
    return values


def _render(form: Form, status: int = 200):
    row = callbacks.call_settings(db.session)
    return render_template(
        "admin/calls.html",
        form=form,
        row=row,
        units=[(u, unit_labels()[u]) for u in UNITS],
    ), status


@bp.route("/calls", methods=["GET", "POST"])
@admin_only
def call_settings():
    if request.method == "GET":
        row = callbacks.call_settings(db.session)
        return _render(Form.of({key: getattr(row, key) for key in callbacks.DEFAULTS}))
    form = Form(request.form)
    values = _read(form)
    if not form.ok:
        return _render(form, 400)
    with unit_of_work(db.session):
        callbacks.save_settings(
            db.session, values=values, by=g.user.username, now=get_hotline().clock.now()
        )
        audit("call_settings.update", target_type="call_settings", target_id=1, **values)
    flash(_("Call settings saved."), "success")
    return redirect(url_for("admin.call_settings"), 303)
