"""``/api/v1/sms/inbound``: the SMS gateway's webhook for citizens' replies.

Not an API token's: the gateway sends ``HOTLINE_SMS_INBOUND_SECRET`` as its bearer token
(compared in constant time; failures are throttled per address as token failures are). With
no secret set, the endpoint refuses every request (403), so a deployment without it is closed.
"""

from __future__ import annotations

import hmac
from typing import Any

import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields, validate

from workflows.notifications.inbound import TEXT_MAX, Received, receive_sms

from ..extensions import db
from ..hotline import get_hotline
from .auth import refuse_if_throttled, throttle
from .blueprint import ApiBlueprint
from .errors import ErrorSchema
from .present import json_response
from .schemas import InputSchema, LocalDateTime, ReceivedAt, a_phone_number

blp = ApiBlueprint(
    "api-sms",
    __name__,
    url_prefix="/api/v1/sms",
    description="The SMS gateway's webhook: citizens' replies (survey answers, TD/KT, text).",
)
#: the OpenAPI security scheme of the webhook (not a user's API token)
SECURITY = "smsInboundSecret"


class InboundArgs(InputSchema):
    from_ = fields.String(
        data_key="from",
        required=True,
        validate=a_phone_number,
        metadata={"description": "the citizen's number (stored canonical: 13800138000)"},
    )
    text = fields.String(
        required=True,
        validate=validate.Length(1, TEXT_MAX),
        metadata={"description": "the SMS as the citizen wrote it"},
    )
    received_at = ReceivedAt(
        metadata={"description": "when the gateway received it, ISO 8601 with offset; "
                  "default: now"}
    )  # fmt: skip


class InboundSchema(ma.Schema):
    id = fields.Integer(required=True, metadata={"description": "the SMS's record"})
    kind = fields.String(
        required=True,
        validate=validate.OneOf(["survey", "optout", "optin", "text", "unmatched"]),
        metadata={
            "description": "survey (1/2/3 recorded as the callback), optout (TD), optin (KT), "
            "text (kept for a person), unmatched (no case: for a person)"
        },
    )
    status = fields.String(
        required=True, metadata={"description": "open (waiting for a person) or done"}
    )
    case = fields.String(allow_none=True, metadata={"description": "the case's number"})
    satisfaction = fields.String(allow_none=True)
    reopened = fields.Boolean(required=True)
    result = fields.String(required=True, metadata={"description": "what was done, in words"})
    duplicate = fields.Boolean(
        required=True, metadata={"description": "this SMS was posted before: nothing was done"}
    )
    received_at = LocalDateTime(required=True)


def check_secret() -> None:
    """``before_request``: the gateway's bearer token, or 401/403/429."""
    secret = str(current_app.config.get("SMS_INBOUND_SECRET") or "")
    if not secret:
        abort(
            403,
            message="SMS replies are switched off: HOTLINE_SMS_INBOUND_SECRET is not set.",
        )
    address = request.remote_addr or "-"
    refuse_if_throttled(address)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    given = token.strip().encode("utf-8", "surrogatepass")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given, secret.encode("utf-8")):
        throttle().fail(address, get_hotline().clock.now())
        abort(401, message="Send the SMS gateway's secret: Authorization: Bearer <secret>.")


blp.before_request(check_secret)


def answer(received: Received) -> dict[str, Any]:
    row = received.row
    extra = row.extra or {}
    return InboundSchema().dump(
        {
            "id": row.id,
            "kind": row.kind,
            "status": row.status,
            "case": received.case_number,
            "satisfaction": extra.get("satisfaction"),
            "reopened": bool(extra.get("reopen")),
            "result": row.result,
            "duplicate": received.duplicate,
            "received_at": row.received_at,
        }
    )


@blp.route("/inbound")
class Inbound(MethodView):
    @blp.arguments(InboundArgs)
    @blp.response(200, InboundSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="no or a wrong secret")
    @blp.alt_response(403, schema=ErrorSchema, description="HOTLINE_SMS_INBOUND_SECRET not set")
    @blp.doc(security=[{SECURITY: []}])
    def post(self, args: dict[str, Any]):
        """A citizen's SMS, from the gateway. ``1``/``2``/``3`` (１, "1满意"...) answers the
        survey of the number's case awaiting callback: recorded as its callback (the case
        closes, or reopens when the policy says so for 3). ``TD`` opts the number out of SMS,
        ``KT`` back in. Other text becomes a note on the number's case and an item in the SMS
        replies queue for a person (unmatched numbers too). Posting the same SMS again (same
        from, text and received_at) answers the first one's record (``duplicate``: true)."""
        received = receive_sms(
            db.session,
            get_hotline(),
            phone=args["from_"],
            body=args["text"],
            received_at=args.get("received_at"),
            address=(request.remote_addr or "")[:64],
        )
        return json_response(answer(received))
