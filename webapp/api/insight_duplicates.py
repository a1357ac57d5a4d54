"""``/api/v1/cases/{number}/duplicates`` and ``/api/v1/duplicates``: the open cases of the
last days that may be the same matter as a case, or as a call being recorded (phone systems),
each with its reasons (workflows/insight/duplicates.py). Only cases the caller may see."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, g
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields

from engine.errors import NotFound
from workflows.cases.service import get_case
from workflows.insight import duplicates as service
from workflows.users.models import CASE_ROLES, Role

from ..extensions import db
from ..hotline import get_hotline
from .auth import roles
from .blueprint import ApiBlueprint
from .present import json_response
from .requests import json_object

blp = ApiBlueprint(
    "api-duplicates",
    __name__,
    url_prefix="/api/v1",
    description="Duplicate suggestions: open cases of the last days like a case or a draft.",
)
#: the draft's fields and their longest lengths
FIELDS = {"description": 4000, "address": 300, "caller_phone": 32}
DRAFT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **{k: {"type": "string", "maxLength": n} for k, n in FIELDS.items()},
        "confidential": {"type": "boolean"},
    },
}


class SuggestionSchema(ma.Schema):
    number = fields.String(required=True)
    status = fields.String(required=True)
    created_at = fields.String(required=True, metadata={"description": "ISO 8601, UTC"})
    reasons = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "description (similar text), address, caller"},
    )
    score = fields.Float(required=True, metadata={"description": "the text's similarity, 0-1"})


class SuggestionsSchema(ma.Schema):
    items = fields.List(fields.Nested(SuggestionSchema), required=True)


class CaseSuggestionsSchema(SuggestionsSchema):
    number = fields.String(required=True)


def _data(found: list[service.Suggestion]) -> dict[str, Any]:
    return {
        "items": [
            {
                "number": s.case.number,
                "status": s.case.status,
                "created_at": s.case.created_at.isoformat(),
                "reasons": s.reasons,
                "score": s.score,
            }
            for s in found
        ]
    }


def _suggest(draft: service.Draft) -> list[service.Suggestion]:
    days = int(current_app.config.get("DUPLICATE_DAYS") or service.DEFAULT_DAYS)
    return service.suggest(
        db.session, draft=draft, user=g.user, now=get_hotline().clock.now(), days=days
    )


@blp.route("/cases/<number>/duplicates")
class CaseDuplicates(MethodView):
    @roles(*CASE_ROLES)
    @blp.response(200, CaseSuggestionsSchema)
    def get(self, number: str):
        """The open cases that may be the same matter as this one, most likely first."""
        try:
            case = get_case(db.session, number=number, user=g.user)
        except NotFound:
            abort(404, message=f"case {number} does not exist")
        return json_response({"number": number, **_data(_suggest(service.Draft.of(case)))})


@blp.route("/duplicates")
class DraftDuplicates(MethodView):
    @roles(Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR)
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": DRAFT}}})
    @blp.response(200, SuggestionsSchema)
    def post(self):
        """The open cases like a call being recorded: JSON with ``description``, ``address``,
        ``caller_phone`` (strings, one at least) and ``confidential`` (boolean)."""
        data = json_object()
        errors: dict[str, list[str]] = {}
        for key in data:
            if key not in (*FIELDS, "confidential"):
                errors[key] = ["unknown field"]
        for key, longest in FIELDS.items():
            value = data.get(key, "")
            if not isinstance(value, str):
                errors[key] = ["a string"]
            elif len(value) > longest:
                errors[key] = [f"at most {longest} characters"]
        if not isinstance(data.get("confidential", False), bool):
            errors["confidential"] = ["true or false"]
        if not errors and not any((data.get(k) or "").strip() for k in FIELDS):
            errors["description"] = ["give a description, an address or a caller_phone"]
        if errors:
            abort(422, errors=errors)
        draft = service.Draft(
            description=data.get("description", ""),
            address=data.get("address", ""),
            phone=data.get("caller_phone", ""),
            confidential=data.get("confidential", False),
        )
        return json_response(_data(_suggest(draft)))
