"""Thin views of GeoReport v2: discovery, services, requests (POST and GET), tokens, and the
servicerequestupdates extension. ``.json`` answers JSON, anything else XML."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g, request, url_for
from sqlalchemy import select

from engine.events import EventKind
from workflows.cases.confidentiality import mask_text
from workflows.cases.models import Case
from workflows.departments.models import Department
from workflows.errors import FormInvalid
from workflows.open311 import service as o311
from workflows.open311.flows import submit_request
from workflows.open311.models import Open311Request

from .. import attachments
from ..api.auth import throttle
from ..api.idempotency import atomic
from ..extensions import csrf, db
from ..hotline import get_hotline
from ..i18n import lang
from . import bp
from .render import Open311Error, error_response, render, respond, split_format

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000
MAX_IDS = 200
UNIT_WORDS = {
    "workdays": ("个工作日", "working days"),
    "workhours": ("个工作小时", "working hours"),
    "hours": ("小时", "hours"),
    "days": ("天", "days"),
}
_ATTRIBUTE = re.compile(r"attribute\[([A-Za-z_][A-Za-z0-9_]*)\](\[\])?")

csrf.exempt(bp)


@bp.record_once
def _register_errors(state) -> None:
    state.app.extensions.setdefault("error_renderers", []).append(("/open311/", render))


@bp.errorhandler(Open311Error)
def _open311_error(exc: Open311Error):
    return error_response(exc.status, exc.messages, exc.headers)


@bp.errorhandler(FormInvalid)
def _invalid(exc: FormInvalid):
    """GeoReport answers bad parameters with 400, one error per parameter (the flows name
    Open311's parameters, not our form's fields); other refusals are webapp.errors' (409)."""
    return error_response(
        400, [f"{key}: {m}" for key, messages in exc.errors.items() for m in messages]
    )


def formats(rule: str, endpoint: str, view, methods=("GET",)) -> None:
    """``rule``, ``rule.json`` and ``rule.xml``."""
    bp.add_url_rule(rule, endpoint, view, methods=list(methods), defaults={"fmt": "xml"})
    bp.add_url_rule(rule + ".<any(json, xml):fmt>", endpoint + "_fmt", view, methods=list(methods))


def when(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(get_hotline().tz).isoformat(timespec="seconds")


def channel_from_key():
    """The channel whose api_key came with the request (403 otherwise, 429 when an address
    keeps trying bad keys)."""
    clock = get_hotline().clock
    address = request.remote_addr or "-"
    wait = throttle().wait(address, clock.now())
    if wait is not None:
        seconds = max(1, int(wait.total_seconds() + 0.999))
        raise Open311Error(
            429,
            f"too many bad api_keys: try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
    key = (request.values.get("api_key") or "").strip()
    if not key:
        raise Open311Error(403, "api_key: required")
    channel = o311.channel_for_key(db.session, key)
    if channel is None:
        throttle().fail(address, clock.now())
        raise Open311Error(403, "api_key: unknown or revoked")
    g.channel = channel
    return channel


# -- discovery and services -----------------------------------------------------------------


def discovery(fmt: str):
    base = request.host_url.rstrip("/") + url_for("open311.discovery").rsplit("/", 1)[0]
    return respond(
        "discovery",
        {
            "changeset": "2026-01-01T00:00:00+08:00",
            "contact": current_app.config.get("OPEN311_CONTACT", "12345 hotline"),
            "key_service": "Ask the hotline's administrator for a channel api_key.",
            "endpoints": [
                {
                    "specification": SPEC,
                    "url": base,
                    "changeset": "2026-01-01T00:00:00+08:00",
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
        fmt,
    )


formats("/discovery", "discovery", discovery)


def services(fmt: str):
    items = [
        {
            "service_code": s.code,
            "service_name": s.name,
            "description": s.description,
            "metadata": True,
            "type": "realtime",
            "keywords": s.keywords,
            "group": s.group,
        }
        for s in o311.services(db.session, get_hotline().case_types, lang=lang())
    ]
    return respond("services", items, fmt)


formats("/services", "services", services)


@bp.get("/services/<name>")
def service_definition(name: str):
    code, fmt = split_format(name)
    service = o311.service_by_code(db.session, get_hotline().case_types, code, lang=lang())
    if service is None:
        raise Open311Error(404, f"service_code {code!r} does not exist")
    hotline = get_hotline()
    from workflows.cases import flows

    form = hotline.forms.get(flows.INTAKE_FORM).describe(
        lang(),
        context=flows.form_context(db.session, hotline, form_key=flows.INTAKE_FORM, lang=lang()),
    )
    spec = hotline.case_types.get(service.case_type)
    if spec is not None and spec.details_form:  # the type's own fields, after the intake's
        own = hotline.forms.get(spec.details_form).describe(
            lang(),
            context=flows.form_context(
                db.session, hotline, form_key=spec.details_form, lang=lang()
            ),
        )
        form = {**form, "fields": [*form["fields"], *own["fields"]]}
    return respond(
        "service_definition",
        {"service_code": service.code, "attributes": o311.attributes(form, service)},
        fmt,
    )


# -- requests -------------------------------------------------------------------------------


def _channel_scope() -> str:
    return f"channel:{g.channel.id}"


@atomic(_channel_scope)
def _post_request(fmt: str):
    channel = g.channel
    code = (request.form.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code: required")
    service = o311.service_by_code(db.session, get_hotline().case_types, code, lang=lang())
    if service is None:
        raise Open311Error(400, f"service_code: {code!r} is not a service (GET services)")
    attributes: dict[str, Any] = {}
    for key in request.form:
        match = _ATTRIBUTE.fullmatch(key)
        if match:
            values = request.form.getlist(key)
            attributes[match.group(1)] = values if match.group(2) else values[-1]
        elif key.startswith("attribute"):
            raise Open311Error(400, f"{key}: write attributes as attribute[code]=value")
    # photos sent with the request (multipart, field "media"): checked before the case is
    # recorded, kept with it in the same transaction (media_url stays a link, never fetched)
    media = attachments.uploads("media")
    if media:
        try:
            attachments.service.check(media, limits=attachments.limits(), field_name="media")
        except FormInvalid as exc:
            raise Open311Error(400, "media: " + "; ".join(exc.errors["media"])) from None
    case, row = submit_request(
        db.session,
        get_hotline(),
        channel=channel,
        service=service,
        params=request.form,
        attributes=attributes,
        lang=lang(),
    )
    if media:
        attachments.attach(
            case, media, source="open311", field="media", by=f"open311:{channel.name}"[:64]
        )
    notice = _notice(case)
    response = respond(
        "service_requests",
        [
            {
                "service_request_id": case.number,
                "token": row.token,
                "service_notice": notice,
                "account_id": row.account_id or None,
            }
        ],
        fmt,
        201,
    )
    response.headers["Location"] = url_for(
        "open311.request_one", name=f"{case.number}.{fmt}", _external=False
    )
    return response


def requests_view(fmt: str):
    channel = channel_from_key()
    if request.method == "POST":
        return _post_request(fmt)
    return respond("service_requests", _find(channel), fmt)


formats("/requests", "requests", requests_view, methods=("GET", "POST"))


@bp.get("/requests/<name>")
def request_one(name: str):
    number, fmt = split_format(name)
    channel = channel_from_key()
    row = db.session.execute(o311.requests_query(channel).where(Case.number == number)).first()
    if row is None:
        raise Open311Error(404, f"service_request_id {number!r} does not exist")
    return respond("service_requests", _requests([row]), fmt)


@bp.get("/tokens/<name>")
def token(name: str):
    value, fmt = split_format(name)
    number = db.session.scalar(
        select(Case.number)
        .join(Open311Request, Open311Request.case_id == Case.id)
        .where(Open311Request.token == value)
    )
    if number is None:
        raise Open311Error(404, f"token {value!r} does not exist")
    return respond("service_requests", [{"service_request_id": number, "token": value}], fmt)


def _dates() -> tuple[datetime, datetime]:
    """start_date and end_date (at most 90 days apart; default the last 90 days)."""
    now = get_hotline().clock.now()
    start, end = _date_arg("start_date"), _date_arg("end_date")
    if start is None and end is None:
        end = now
    if start is None:
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Open311Error(400, "end_date: before start_date")
    if end - start > MAX_SPAN:
        raise Open311Error(400, "end_date: at most 90 days after start_date")
    return start, end


def _date_arg(name: str) -> datetime | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise Open311Error(400, f"{name}: not an ISO 8601 date-time ({raw!r})") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=get_hotline().tz)
    if not 2000 <= value.year <= 2100:
        raise Open311Error(400, f"{name}: between the years 2000 and 2100")
    return value


def _find(channel) -> list[dict[str, Any]]:
    stmt = o311.requests_query(channel)
    ids = [i.strip() for i in (request.args.get("service_request_id") or "").split(",")]
    ids = [i for i in ids if i]
    if ids:
        if len(ids) > MAX_IDS:
            raise Open311Error(400, f"service_request_id: at most {MAX_IDS} ids")
        stmt = stmt.where(Case.number.in_(ids))  # the spec: other filters are ignored then
    else:
        start, end = _dates()
        stmt = stmt.where(Case.created_at >= start, Case.created_at <= end)
        codes = [c.strip() for c in (request.args.get("service_code") or "").split(",")]
        codes = [c for c in codes if c]
        if codes:
            stmt = o311.filter_by_service(db.session, get_hotline().case_types, stmt, codes)
        statuses = {s.strip() for s in (request.args.get("status") or "").split(",") if s.strip()}
        unknown = statuses - {"open", "closed"}
        if unknown:
            raise Open311Error(400, f"status: open or closed, not {', '.join(sorted(unknown))}")
        if statuses == {"open"}:
            stmt = stmt.where(Case.status.not_in(("closed", "merged")))
        elif statuses == {"closed"}:
            stmt = stmt.where(Case.status.in_(("closed", "merged")))
    rows = db.session.execute(
        stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(MAX_RESULTS)
    ).all()
    return _requests(rows)


def _requests(rows) -> list[dict[str, Any]]:
    language = lang()
    names = {
        s.code: s.name for s in o311.services(db.session, get_hotline().case_types, lang=language)
    }
    departments = {
        d.id: (d.name_en if language == "en" and d.name_en else d.name)
        for d in db.session.scalars(select(Department))
    }
    masters = {c.merged_into_id for c, _ in rows if c.merged_into_id}
    numbers = (
        dict(db.session.execute(select(Case.id, Case.number).where(Case.id.in_(masters))).all())
        if masters
        else {}
    )
    out = []
    for case, extra in rows:
        code = o311.service_code_of(case, extra.service_code if extra else None)
        out.append(
            {
                "service_request_id": case.number,
                "status": "closed" if o311.is_closed(case) else "open",
                "status_notes": o311.status_notes(
                    case, lang=language, master=numbers.get(case.merged_into_id or -1)
                ),
                "service_name": names.get(code, case.category or case.case_type),
                "service_code": code,
                # public: the caller's name and phone (and any phone number) never leave
                "description": mask_text(
                    case.description, name=case.caller_name, phone=case.caller_phone
                ),
                "agency_responsible": departments.get(case.lead_department_id or -1, ""),
                "service_notice": _notice(case),
                "requested_datetime": when(case.created_at),
                "updated_datetime": when(case.updated_at),
                "expected_datetime": when(case.reply_due),
                "address": case.address,
                "address_id": extra.address_id if extra else "",
                "zipcode": extra.zipcode if extra else "",
                "lat": case.lat,
                "long": case.lon,
                "media_url": extra.media_url if extra else "",
            }
        )
    return out


def _notice(case: Case) -> str:
    reply = (case.policy or {}).get("reply") or {}
    unit = UNIT_WORDS.get(reply.get("unit"))
    if not unit or reply.get("value") is None:
        return ""
    value = reply["value"]
    if lang() == "en":
        return f"The hotline replies within {value} {unit[1]}; case number {case.number}."
    return f"工单号 {case.number}，将在 {value} {unit[0]}内答复。"


# -- the servicerequestupdates extension ------------------------------------------------------


def updates(fmt: str):
    channel = channel_from_key()
    start, end = _dates()
    rows = db.session.execute(o311.updates_query(channel, start=start, end=end).limit(MAX_RESULTS))
    language = lang()
    items = []
    for event, case, _extra in rows:
        payload = event.payload or {}
        if event.kind == EventKind.INSTANCE_STARTED:
            status, ours = "OPEN", "awaiting_dispatch"
        else:
            ours = payload.get("to") or case.status
            status = o311.update_status(payload.get("from"), ours, case.outcome)
        note = o311.words(o311.STATUS_NOTES[o311.CaseStatus(ours)], language)
        if payload.get("master"):
            note = f"{note} ({payload['master']})"
        if ours == "closed":
            note = o311.status_notes(case, lang=language)
        items.append(
            {
                "update_id": str(event.id),
                "service_request_id": case.number,
                "status": status,
                "updated_datetime": when(event.at),
                "description": note,
                "media_url": "",
                "external_status_code": ours,
            }
        )
    return respond("service_request_updates", items, fmt)


formats("/servicerequestupdates", "updates", updates)
