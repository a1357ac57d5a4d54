"""Thin views: the intake form and the three panels beside it (htmx fragments)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from engine.db import unit_of_work
from workflows.calls import callbacks as call_callbacks
from workflows.calls import links as call_links
from workflows.calls import pop as call_pops
from workflows.cases import flows
from workflows.cases import service as cases
from workflows.cases.enums import IntakeOutcome
from workflows.dispatch.service import suggest_department
from workflows.errors import DomainError, FormInvalid
from workflows.knowledge.service import search
from workflows.users.models import Role

from .. import attachments, i18n
from ..calls import pop as screen_pop
from ..error_messages import translated
from ..extensions import db
from ..hotline import get_hotline
from ..security import roles_required
from . import bp

#: the operator starts with who is calling (the phone number brings up earlier cases), and
#: whether they ask for their identity to be kept from the departments
FIRST_FIELDS = ("caller_phone", "caller_name", "confidential")
MULTI_TYPES = ("taglist", "checklist")
#: errors shown as their message alone: the form's own, and the call's or callback task's link
MESSAGE_ONLY = frozenset({"_schema", "call_id", "callback"})


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
        f"{k}: {m}" if k not in MESSAGE_ONLY else m
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


def details_form(case_type: str | None, lang: str) -> dict[str, Any] | None:
    """The described form of the case type's own intake fields (its ``details_form``), or
    None for a type without one (or no type chosen yet)."""
    hotline = get_hotline()
    spec = hotline.case_types.get(case_type)
    if spec is None or not spec.details_form:
        return None
    return hotline.forms.get(spec.details_form).describe(
        lang,
        context=flows.form_context(db.session, hotline, form_key=spec.details_form, lang=lang),
    )


def intake_values(form: Mapping[str, Any], formdata: MultiDict, lang: str):
    """What was sent for the intake form and for the chosen type's own fields (one dict: the
    keys differ), and the type's described form (None without one)."""
    values = submitted_values(form, formdata)
    details = details_form(values.get("case_type"), lang)
    if details is not None:
        values.update(submitted_values(details, formdata))
    return values, details


def with_details(form: Mapping[str, Any], details: Mapping[str, Any] | None) -> dict[str, Any]:
    """The intake form and the type's own fields as one form (for the errors' places)."""
    if details is None:
        return dict(form)
    return {**form, "fields": [*form["fields"], *details["fields"]]}


@bp.get("/intake/details")
@roles_required(Role.OPERATOR)
def details():
    """The chosen case type's own fields (swapped in when the operator picks the type)."""
    return render_template(
        "intake/_details.html",
        details=details_form(request.args.get("case_type"), i18n.lang()),
        values={},
        errors={},
    )


@bp.route("/intake", methods=["GET", "POST"])
@roles_required(Role.OPERATOR)
def new():
    lang = i18n.lang()
    form = _intake_form(lang)
    details = None
    values: dict[str, Any] | None = None
    errors: dict[str, list[str]] = {}
    status = 200
    # the call the case is recorded from (the screen pop), or the missed-call callback task
    # the operator is calling back (docs/calls.md, "Screen pop")
    link = {
        "call_id": (request.values.get("call_id") or request.args.get("call") or "").strip(),
        "callback": (request.values.get("callback") or "").strip(),
    }
    if request.method == "POST":
        values, details = intake_values(form, request.form, lang)
        try:
            case = _record(values, link, lang=lang)
        except call_links.CallLinkInvalid as exc:
            # nothing was recorded; sent again, the case is recorded without that link
            errors, status = {exc.field: [screen_pop.refusal(exc)]}, 422
            link[exc.field] = ""
        except FormInvalid as exc:
            errors, status = exc.errors, 422
        except DomainError as exc:
            errors, status = {"_schema": [translated(str(exc))]}, 422
        else:
            if case.intake_outcome == IntakeOutcome.ANSWERED:
                flash(_("Case %(number)s recorded and closed on the spot.", number=case.number))
            elif case.intake_outcome == IntakeOutcome.NOT_ACCEPTED:
                flash(_("Case %(number)s recorded and closed: not accepted.", number=case.number))
            else:
                flash(_("Case %(number)s recorded and sent to dispatch.", number=case.number))
            return redirect(url_for("intake.new"), 303)
    popped = _popped(link)
    if values is None and popped["prefill"]:
        values = {"caller_phone": popped["prefill"]}
    if details is None and request.method == "GET":
        chosen = next((f.get("default") for f in form["fields"] if f["key"] == "case_type"), None)
        details = details_form(chosen, lang)
    return render_template(
        "intake/new.html",
        form=form,
        values=values,
        errors=errors,
        general_errors=general_errors(with_details(form, details), errors),
        details=details,
        earlier=_earlier(values.get("caller_phone", "") if values else ""),
        suggested=_suggested(values or {}),
        link=link,
        **popped["context"],
    ), status


def _record(values: dict[str, Any], link: dict[str, str], *, lang: str, files: bool = True):
    """The case, and in the same transaction its call's and callback task's links and (with
    ``files``) the files sent with the form."""
    hotline = get_hotline()
    session = db.session
    with unit_of_work(session):
        now = hotline.clock.now()
        if link["call_id"]:
            call_links.check_call(session, call_id=link["call_id"], user=g.user)
        if link["callback"]:
            call_links.check_callback(session, callback_id=link["callback"])
        uploads = attachments.uploads() if files else []
        if uploads:  # checked before the case is recorded: a refused file records nothing
            attachments.service.check(uploads, limits=attachments.limits())
        keys = {f["key"] for f in hotline.forms.get(flows.INTAKE_FORM).fields}
        case = flows.open_case(
            session,
            hotline,
            data={k: v for k, v in values.items() if k in keys},
            details={k: v for k, v in values.items() if k not in keys} or None,
            actor=g.user.username,
            lang=lang,
        )
        if uploads:
            attachments.attach(case, uploads, source="intake")
        if link["call_id"]:
            call_links.link_case(session, call_id=link["call_id"], case=case, user=g.user, now=now)
        if link["callback"]:
            call_callbacks.case_recorded(
                session,
                callback_id=int(link["callback"]),
                case_id=case.id,
                by=g.user.username,
                now=now,
            )
    return case


def _popped(link: dict[str, str]) -> dict[str, Any]:
    """The screen pop's part of the page: the call it was opened for (``?call=``) or that
    rings or is talked on now, prefilled; the callback task's number (``?callback=``); and
    where the page's poll starts."""
    session = db.session
    context: dict[str, Any] = {
        "pop_seq": call_pops.seq_of(session, g.user),
        "pop_interval": current_app.config.get("SCREEN_POP_POLL_SECONDS") or 0,
        "pop_call": None,
        "pop_errors": {},
        "pop_values": {},
        "pop_message": "",
    }
    prefill = ""
    call = None
    if link["call_id"]:
        try:
            call = call_links.check_call(session, call_id=link["call_id"], user=g.user)
        except call_links.CallLinkInvalid as exc:
            if request.method == "GET":
                context["pop_errors"] = {exc.field: screen_pop.refusal(exc)}
            link["call_id"] = ""
    elif request.method == "GET" and not link["callback"]:
        live = call_pops.live_pop(session, user=g.user)
        call = live.call if live is not None else None
        if call is not None:
            link["call_id"] = call.call_id
    if call is not None:
        context.update(screen_pop.banner_context(call))
        prefill = call.caller
    if link["callback"] and request.method == "GET":
        try:
            task = call_links.check_callback(session, callback_id=link["callback"])
        except call_links.CallLinkInvalid as exc:
            context["pop_errors"] = {exc.field: screen_pop.refusal(exc)}
            link["callback"] = ""
        else:
            prefill = prefill or task.caller
    context["pop_prefilled"] = prefill
    return {"context": context, "prefill": prefill}


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
