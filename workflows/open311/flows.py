"""Submitting a request through Open311: the parameters become an intake, in one step.

The case, its Open311 row (token, media, account) and its coordinates are written in one
transaction with the workflow's start, as at the phone. Errors name the Open311 parameter
(``phone``, ``attribute[urgency]``), not our form's field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from engine.db import unit_of_work

from ..cases import flows
from ..cases.models import Case
from ..errors import FormInvalid
from .models import Channel, Open311Request
from .service import FIXED_FIELDS, Service, new_token

if TYPE_CHECKING:
    from ..hotline import Hotline

#: our intake field -> the Open311 parameter it comes from
PARAMETER_OF = {
    "caller_phone": "phone",
    "address": "address_string",
    "description": "description",
    "caller_name": "first_name",
}
LIMITS = {
    "email": 254,
    "device_id": 120,
    "account_id": 120,
    "address_id": 120,
    "zipcode": 20,
    "media_url": 1000,
    "first_name": 60,
    "last_name": 60,
}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def submit_request(
    session: Session,
    hotline: Hotline,
    *,
    channel: Channel,
    service: Service,
    params: Mapping[str, str],
    attributes: Mapping[str, Any],
    lang: str = "zh",
) -> tuple[Case, Open311Request]:
    """Open a case from an Open311 ``POST requests``; FormInvalid names the bad parameters."""
    errors: dict[str, list[str]] = {}
    text = {name: (params.get(name) or "").strip() for name in (*LIMITS, "address_string")}
    for name, limit in LIMITS.items():
        if len(text[name]) > limit:
            errors[name] = [f"at most {limit} characters"]
    lat, lon = _coordinate(params, "lat", 90, errors), _coordinate(params, "long", 180, errors)
    if (lat is None) != (lon is None) and "lat" not in errors and "long" not in errors:
        errors["lat" if lat is None else "long"] = ["give lat and long together"]
    if lat is None and not text["address_string"] and not text["address_id"] and not errors:
        errors["address_string"] = ["give a location: lat and long, address_string or address_id"]
    if text["email"] and not _EMAIL.fullmatch(text["email"]):
        errors.setdefault("email", []).append("not an email address")
    if text["media_url"] and not text["media_url"].startswith(("http://", "https://")):
        errors.setdefault("media_url", []).append("an http or https URL")
    name = " ".join(p for p in (text["first_name"], text["last_name"]) if p)
    data: dict[str, Any] = {key: value for key, value in attributes.items()}
    data.update(FIXED_FIELDS)
    if service.case_type:
        data["case_type"] = service.case_type
    else:
        data["category"] = service.category
        data.setdefault("case_type", "complaint")
    data.update(
        caller_phone=(params.get("phone") or "").strip(),
        caller_name=name,
        description=params.get("description") or "",
        address=text["address_string"] or _place(lat, lon, text["address_id"]),
    )
    if errors:
        raise FormInvalid(errors)
    # the type's own fields (a consumer complaint's merchant...) are attributes too
    spec = hotline.case_types.get(data.get("case_type"))
    details: dict[str, Any] | None = None
    if spec is not None and spec.details_form:
        keys = {f["key"] for f in hotline.forms.get(spec.details_form).fields}
        details = {key: data.pop(key) for key in list(data) if key in keys}
    with unit_of_work(session):
        try:
            case = flows.open_case(
                session,
                hotline,
                data=data,
                details=details,
                actor=f"open311:{channel.name}"[:64],
                lang=lang,
            )
        except FormInvalid as exc:
            raise FormInvalid(
                {_parameter(key, attributes): messages for key, messages in exc.errors.items()}
            ) from None
        case.lat, case.lon = lat, lon
        row = Open311Request(
            case_id=case.id,
            channel_id=channel.id,
            token=new_token(),
            service_code=service.code,
            address_id=text["address_id"],
            zipcode=text["zipcode"],
            email=text["email"],
            device_id=text["device_id"],
            account_id=text["account_id"],
            media_url=text["media_url"],
            created_at=hotline.clock.now(),
        )
        session.add(row)
        session.flush()
    return case, row


def _coordinate(
    params: Mapping[str, str], name: str, bound: float, errors: dict[str, list[str]]
) -> float | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        errors[name] = ["not a number"]
        return None
    if not math.isfinite(value) or abs(value) > bound:
        errors[name] = [f"between -{bound} and {bound}"]
        return None
    return value


def _place(lat: float | None, lon: float | None, address_id: str) -> str:
    if lat is not None and lon is not None:
        return f"{lat:.6f},{lon:.6f}"
    return address_id


def _parameter(key: str, attributes: Mapping[str, Any]) -> str:
    if key in PARAMETER_OF:
        return PARAMETER_OF[key]
    if key in FIXED_FIELDS or key == "_schema":
        return key
    return f"attribute[{key}]"
