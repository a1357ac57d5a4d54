"""Case types on the pages: every type of the installation (bundled, declared in the
deployment's file, added here), and adding one without a file or a restart
(``workflows/cases/type_store.py``; docs/case-types.md)."""

from __future__ import annotations

import re

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.db import unit_of_work
from engine.definitions import latest_versions
from workflows.calendar.service import UNITS
from workflows.cases import flows
from workflows.cases.models import CaseTypeRecord
from workflows.cases.type_store import add_case_type, declaration_of
from workflows.errors import DomainError, FormInvalid

from ..cases.labels import bilingual
from ..error_messages import translated
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from . import bp
from .common import admin_only, audit
from .forms import Form
from .policies import _limit_labels, _unit_labels

_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
#: the limits the page asks for (the others take the usual defaults, editable afterwards on
#: the deadline policy page)
LIMITS = ("sign", "reply", "return", "extension_max", "callback")
DEFAULTS = {
    "sign_value": 1,
    "sign_unit": "workdays",
    "reply_value": 10,
    "reply_unit": "workdays",
    "return_value": 2,
    "return_unit": "workdays",
    "extension_max_value": 10,
    "extension_max_unit": "workdays",
    "callback_value": 3,
    "callback_unit": "workdays",
    "callback_required": True,
    "review_required": True,
    "open311_group_zh": "工单类型",
    "open311_group_en": "Case type",
}


@bp.get("/case-types")
@admin_only
def case_types():
    hotline = get_hotline()
    hotline.stored_types and hotline.stored_types.refresh(force=True)
    added = {
        r.code: r for r in db.session.scalars(select(CaseTypeRecord).order_by(CaseTypeRecord.id))
    }
    deployed = {row.key for row in db.session.execute(latest_versions())}
    return render_template(
        "admin/case_types.html",
        types=list(hotline.case_types),
        added=added,
        deployed=deployed,
    )


def _processes() -> list[tuple[str, str]]:
    language = lang()
    return [
        (row.key, bilingual(row.name, language) or row.name or row.key)
        for row in db.session.execute(latest_versions())
    ]


def _forms() -> list[tuple[str, str]]:
    available = get_hotline().forms.keys()  # every form key, sorted
    return [(key, key) for key in available if not key.startswith("common/")]


def _render(form: Form, status: int = 200):
    return (
        render_template(
            "admin/case_type_form.html",
            form=form,
            processes=_processes(),
            forms=_forms(),
            LIMITS=LIMITS,
            limits=_limit_labels(),
            units=_unit_labels(),
        ),
        status,
    )


def _read(form: Form) -> dict:
    values: dict = {}
    code = form.text("code", required=True, max_length=32)
    if code and not _CODE.fullmatch(code):
        form.error(
            "code",
            _("A code: a lower-case letter, then up to 31 lower-case letters, digits or _."),
        )
    values["code"] = code
    values["label_zh"] = form.text("label_zh", required=True, max_length=40)
    values["label_en"] = form.text("label_en", required=True, max_length=60)
    values["open311_group_zh"] = form.text("open311_group_zh", max_length=40)
    values["open311_group_en"] = form.text("open311_group_en", max_length=60)
    values["confidential"] = form.flag("confidential")
    processes = [key for key, _label in _processes()]
    values["copy_from"] = form.choice("copy_from", processes, required=False)
    values["process"] = form.choice("process", processes, required=False)
    if not values["copy_from"] and not values["process"]:
        form.error(
            "copy_from",
            _("Copy a diagram for the new type, or choose the deployed process it runs."),
        )
    if values["copy_from"] and values["process"]:
        form.error("process", _("Either copy a diagram or choose a process, not both."))
    values["details_form"] = form.choice("details_form", [k for k, _l in _forms()], required=False)
    for limit in LIMITS:
        values[f"{limit}_value"] = form.integer(f"{limit}_value", minimum=1, maximum=100_000)
        values[f"{limit}_unit"] = form.choice(f"{limit}_unit", UNITS)
    values["callback_required"] = form.flag("callback_required")
    values["review_required"] = form.flag("review_required")
    return values


@bp.route("/case-types/new", methods=["GET", "POST"])
@admin_only
def case_type_new():
    if request.method == "GET":
        return _render(Form.of(DEFAULTS))
    form = Form(request.form)
    values = _read(form)
    if not form.ok:
        return _render(form, 400)
    hotline = get_hotline()
    intake_keys = [f["key"] for f in hotline.forms.get(flows.INTAKE_FORM).fields]
    try:
        with unit_of_work(db.session):
            spec, outcomes = add_case_type(
                db.session,
                hotline,
                declaration=declaration_of(values),
                copy_from=values["copy_from"],
                by=g.user.username,
                intake_keys=intake_keys,
            )
            audit(
                "case_type.create",
                target_type="case_type",
                target_id=spec.code,
                process=spec.process,
                copied_from=values["copy_from"] or "",
                details_form=spec.details_form or "",
            )
    except FormInvalid as exc:
        for name, messages in exc.errors.items():
            for message in messages:
                form.error(name if name != "_schema" else "code", translated(message))
        return _render(form, 422)
    except DomainError as exc:
        form.error("copy_from", translated(str(exc)))
        return _render(form, 422)
    hotline.stored_types and hotline.stored_types.refresh(force=True)
    flash(_("Case type %(label)s added.", label=spec.label_zh))
    if outcomes:
        flash(
            _(
                "Its diagram %(key)s version %(version)s is a copy: edit it in the modeler "
                "and deploy it.",
                key=outcomes[0].key,
                version=outcomes[0].version,
            )
        )
        return redirect(
            url_for("admin.edit", key=outcomes[0].key, version=outcomes[0].version), 303
        )
    return redirect(url_for("admin.case_types"), 303)
