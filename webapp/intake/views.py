"""Thin views: the intake form and the three panels beside it (htmx fragments)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from workflows.cases import flows
from workflows.cases import service as cases
from workflows.cases.enums import IntakeOutcome
from workflows.dispatch.service import suggest_department
from workflows.errors import DomainError, FormInvalid
from workflows.knowledge.service import search
from workflows.users.models import Role

from .. import i18n
from ..extensions import db
from ..hotline import get_hotline
from ..security import roles_required
from . import bp

#: the operator starts with who is calling (the phone number brings up earlier cases), and
#: whether they ask for their identity to be kept from the departments
FIRST_FIELDS = ("caller_phone", "caller_name", "confidential")
MULTI_TYPES = ("taglist", "checklist")


def submitted_values(form: Mapping[str, Any], formdata: MultiDict) -> dict[str, Any]:
    """What the user sent for the fields of a described form, typed as the form expects:
    lists for multi-selects, the last value of a checkbox (after its hidden "false"), and
    nothing for fields not sent (so that their defaults apply). Other keys (the CSRF token,
    the expected version) are left out: the form would refuse them as unknown."""
    data: dict[str, Any] = {}
    for field in form["fields"]:
        key, kind = field["key"], field["type"]
        if kind in MULTI_TYPES:
            data[key] = [v for v in formdata.getlist(key) if v != ""]
        elif key in formdata:
            data[key] = formdata.getlist(key)[-1] if kind == "checkbox" else formdata.get(key)
    return data


def general_errors(form: Mapping[str, Any], errors: Mapping[str, list[str]]) -> list[str]:
    """Errors that belong to no field of the form (shown above it)."""
    keys = {f["key"] for f in form["fields"]}
    return [
        f"{k}: {m}" if k != "_schema" else m
        for k, messages in errors.items()
        if k not in keys
        for m in messages
    ]


def _intake_form(lang: str) -> dict[str, Any]:
    hotline = get_hotline()
    described = hotline.forms.get(flows.INTAKE_FORM).describe(
        lang, context=flows.form_context(db.session, hotline, form_key=flows.INTAKE_FORM, lang=lang)
    )
    first = [f for key in FIRST_FIELDS for f in described["fields"] if f["key"] == key]
    rest = [f for f in described["fields"] if f["key"] not in FIRST_FIELDS]
    return {**described, "fields": first + rest}


@bp.route("/intake", methods=["GET", "POST"])
@roles_required(Role.OPERATOR)
def new():
    lang = i18n.lang()
    form = _intake_form(lang)
    values: dict[str, Any] | None = None
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = submitted_values(form, request.form)
        try:
            case = flows.open_case(
                db.session, get_hotline(), data=values, actor=g.user.username, lang=lang
            )
        except FormInvalid as exc:
            errors, status = exc.errors, 422
        except DomainError as exc:
            errors, status = {"_schema": [str(exc)]}, 422
        else:
            if case.intake_outcome == IntakeOutcome.ANSWERED:
                flash(_("Case %(number)s recorded and closed on the spot.", number=case.number))
            elif case.intake_outcome == IntakeOutcome.NOT_ACCEPTED:
                flash(_("Case %(number)s recorded and closed: not accepted.", number=case.number))
            else:
                flash(_("Case %(number)s recorded and sent to dispatch.", number=case.number))
            return redirect(url_for("intake.new"), 303)
    return render_template(
        "intake/new.html",
        form=form,
        values=values,
        errors=errors,
        general_errors=general_errors(form, errors),
        earlier=_earlier(values.get("caller_phone", "") if values else ""),
        suggested=_suggested(values or {}),
    ), status


def _earlier(phone: str) -> list:
    phone = (phone or "").strip()
    if not phone:
        return []
    return cases.earlier_cases_by_phone(db.session, phone=phone, user=g.user)


def _suggested(values: Mapping[str, Any]):
    category = (values.get("category") or "").strip()
    if not category:
        return None
    return suggest_department(db.session, category=category, area=values.get("area") or "")


@bp.get("/intake/caller")
@roles_required(Role.OPERATOR)
def caller():
    phone = request.args.get("caller_phone", "")
    return render_template("intake/_caller.html", earlier=_earlier(phone), phone=phone.strip())


@bp.get("/intake/knowledge")
@roles_required(Role.OPERATOR)
def knowledge():
    query = request.args.get("q", "").strip()
    articles = search(db.session, query=query) if query else []
    return render_template("intake/_knowledge.html", articles=articles, query=query)


@bp.get("/intake/suggest")
@roles_required(Role.OPERATOR)
def suggest():
    return render_template(
        "intake/_suggest.html",
        suggested=_suggested(request.args),
        category=request.args.get("category", "").strip(),
    )
