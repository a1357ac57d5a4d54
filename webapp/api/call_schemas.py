"""The calls API's schemas: the phone system's event as it is checked, and a call as the API
shows it (``present.present_call`` fills these)."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from workflows.calls.enums import CallState, EventName, NoCaseReason, Outcome

from ..calls.records import CALL_SORTS
from ..hotline import get_hotline
from ..sorting import DIRECTIONS
from .schemas import LocalDateTime, Nullable, PageArgs, PageSchema, ReceivedAt, a_phone_number

#: how far ahead of the hotline's clock an event's time may be (the two clocks drift)
FUTURE_SLACK = timedelta(minutes=5)
#: what phone systems send for a withheld number
WITHHELD = ("", "anonymous")
IVR_MAX = 200
IVR_STEP_MAX = 40
IVR_STEPS_MAX = 20
IVR_JOIN = " > "


def _plain_id(value: str) -> None:
    if not 1 <= len(value) <= 64:
        raise ma.ValidationError("1 to 64 characters")
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in value):
        raise ma.ValidationError("no spaces or control characters")
    if "/" in value:  # the call's address is /api/v1/calls/{call_id}
        raise ma.ValidationError("no slash")


_URL = validate.URL(schemes={"http", "https"}, require_tld=False, error="an http(s) URL")


def _http_url(value: str) -> None:
    if value:
        _URL(value)


class EventAt(ReceivedAt):
    """ISO 8601 with offset, and not more than ``FUTURE_SLACK`` ahead of the hotline."""

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        result = super()._deserialize(value, attr, data, **kwargs)
        now = get_hotline().clock.now()
        if result > now + FUTURE_SLACK:
            minutes = int(FUTURE_SLACK.total_seconds() // 60)
            raise ma.ValidationError(
                f"more than {minutes} minutes after the hotline's time ({now.isoformat()})"
            )
        return result


class Caller(fields.String):
    """A phone number in any written form; empty or ``anonymous``: withheld ("")."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if text.lower() in WITHHELD:
            return ""
        a_phone_number(text)
        return text


class IvrPath(fields.Field):
    """The caller's way through the IVR: a string, or a list of steps joined with " > "."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if isinstance(value, str):
            text = value.strip()
        elif isinstance(value, list):
            if len(value) > IVR_STEPS_MAX:
                raise ma.ValidationError(f"at most {IVR_STEPS_MAX} steps")
            if not all(isinstance(v, str) and len(v) <= IVR_STEP_MAX for v in value):
                raise ma.ValidationError(f"each step a string of at most {IVR_STEP_MAX} characters")
            text = IVR_JOIN.join(v.strip() for v in value if v.strip())
        else:
            raise ma.ValidationError("a string or a list of strings")
        if len(text) > IVR_MAX:
            raise ma.ValidationError(f"at most {IVR_MAX} characters")
        return text


def _optional(field: type[fields.Field], **kwargs: Any) -> fields.Field:
    # null is taken as absent: phone systems send every field, null when they have no value
    return field(load_default="", allow_none=True, **kwargs)


class CallEventArgs(ma.Schema):
    """``POST /api/v1/calls/events``; unknown fields are refused (422 naming them)."""

    class Meta:
        unknown = ma.RAISE

    call_id = fields.String(
        required=True,
        validate=_plain_id,
        metadata={"description": "the phone system's id of the call (1-64, no spaces, no slash)"},
    )
    event = fields.String(required=True, validate=validate.OneOf([str(e) for e in EventName]))
    at = EventAt(
        required=True,
        metadata={
            "description": "when it happened, ISO 8601 with offset; at most 5 minutes ahead "
            "of the hotline's clock"
        },
    )
    caller = _optional(
        Caller,
        metadata={"description": "the caller's number (any form); empty or anonymous: withheld"},
    )
    queue = _optional(fields.String, validate=validate.Length(max=32))
    agent = _optional(
        fields.String,
        validate=validate.Length(max=64),
        metadata={"description": "the operator's user name (required for answered)"},
    )
    recording_url = _optional(
        fields.String,
        validate=[validate.Length(max=500), _http_url],
        metadata={"description": "where the recording is (http or https)"},
    )
    ivr_path = _optional(
        IvrPath,
        metadata={
            "description": f"a string (at most {IVR_MAX}) or a list of steps (joined with "
            f"'{IVR_JOIN}')",
            "oneOf": [
                {"type": "string", "maxLength": IVR_MAX},
                {
                    "type": "array",
                    "maxItems": IVR_STEPS_MAX,
                    "items": {"type": "string", "maxLength": IVR_STEP_MAX},
                },
            ],
        },
    )

    @ma.post_load
    def _absent_as_empty(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {k: "" if v is None else v for k, v in data.items()}

    @ma.validates_schema
    def _answered_by_someone(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("event") == EventName.ANSWERED and not (data.get("agent") or "").strip():
            raise ma.ValidationError("who answered (a user name)", "agent")


class CallArgs(PageArgs):
    since = LocalDateTime(metadata={"description": "arrived at or after"})
    until = LocalDateTime(metadata={"description": "arrived before"})
    queue = fields.String(validate=validate.Length(max=32))
    agent = fields.String(validate=validate.Length(max=64))
    caller = fields.String(
        validate=validate.Length(max=64), metadata={"description": "a number, in any form"}
    )
    outcome = fields.String(
        validate=validate.OneOf([str(o) for o in Outcome] + ["live"]),
        metadata={"description": "answered, abandoned, missed, transferred; live: none yet"},
    )
    state = fields.String(validate=validate.OneOf([str(s) for s in CallState]))
    case = fields.String(
        validate=validate.Length(max=20), metadata={"description": "the linked case's number"}
    )
    sort = fields.String(
        validate=validate.OneOf(list(CALL_SORTS)),
        metadata={"description": "the column to sort by (docs/lists.md); newest first without it"},
    )
    dir = fields.String(
        validate=validate.OneOf(list(DIRECTIONS)),
        metadata={"description": "with sort: asc or desc (each column has its own default)"},
    )


class CallSchema(ma.Schema):
    call_id = fields.String(required=True)
    caller = fields.String(required=True, metadata={"description": "canonical; empty: withheld"})
    queue = fields.String(required=True)
    agent = fields.String(
        required=True, metadata={"description": "who answered it (else who it last rang at)"}
    )
    state = fields.String(required=True, validate=validate.OneOf([str(s) for s in CallState]))
    outcome = fields.String(
        required=True,
        metadata={"description": "answered, abandoned, missed, transferred; empty while live"},
    )
    arrived_at = LocalDateTime(required=True)
    ringing_at = Nullable(LocalDateTime, required=True)
    answered_at = Nullable(LocalDateTime, required=True)
    ended_at = Nullable(LocalDateTime, required=True)
    missed_at = Nullable(LocalDateTime, required=True)
    transferred_at = Nullable(LocalDateTime, required=True)
    wait_seconds = Nullable(fields.Float, required=True)
    talk_seconds = Nullable(fields.Float, required=True)
    wrap_seconds = Nullable(fields.Float, required=True)
    recording_url = fields.String(required=True)
    ivr_path = fields.String(required=True)
    case = Nullable(fields.String, required=True, metadata={"description": "the case's number"})
    no_case_reason = fields.String(
        required=True,
        metadata={"description": "why it made no case: " + ", ".join(NoCaseReason)},
    )
    no_case_note = fields.String(required=True)
    callback_id = Nullable(
        fields.Integer,
        required=True,
        metadata={"description": "the missed-call callback task it is part of"},
    )
    updated_at = LocalDateTime(required=True)


class CallPostedSchema(CallSchema):
    duplicate = fields.Boolean(
        required=True,
        metadata={"description": "this (call_id, event) was stored before: nothing changed"},
    )


class TimelineEventSchema(ma.Schema):
    event = fields.String(required=True)
    at = LocalDateTime(required=True, metadata={"description": "by the phone system's clock"})
    received_at = LocalDateTime(required=True)
    agent = fields.String(required=True)
    payload = fields.Dict(
        required=True,
        metadata={"description": "the fields as received: caller, queue, recording_url, ivr_path"},
    )


class CallDetailSchema(CallSchema):
    timeline = fields.List(
        fields.Nested(TimelineEventSchema),
        required=True,
        metadata={"description": "the stored events, in time order"},
    )


class CallPageSchema(PageSchema):
    items = fields.List(fields.Nested(CallSchema), required=True)
