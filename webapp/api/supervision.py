"""``/api/v1/cases/{number}/supervision`` and ``/api/v1/supervision``: chase notices and
supervision orders on one case or many (supervisors, administrators).

The checks are the pages' own (``workflows.supervision.flows``): a bad action or note is 422
naming the field; one case that cannot take supervision is 404 (not found or not yours) or
409 (closed, not dispatched yet, a workflow version without orders); many cases answer 200
with each case's result, the refused ones named by number with a reason code."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields, validate

from engine.errors import NotFound
from workflows.supervision import flows as supervision
from workflows.users.models import Role

from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from . import schemas as s
from .auth import roles
from .blueprint import ApiBlueprint
from .idempotency import atomic
from .present import json_response

blp = ApiBlueprint(
    "api-supervision",
    __name__,
    url_prefix="/api/v1",
    description="Supervision: chase notices and supervision orders, one case or many.",
)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
ACTIONS = [a.value for a in supervision.Action]
REASONS = [r.value for r in supervision.Refusal]


class SupervisionArgs(s.InputSchema):
    action = fields.String(
        required=True,
        validate=validate.OneOf(ACTIONS),
        metadata={
            "description": "chase_notice: a notice on the timeline and to the department; "
            "supervision_order: the department gets a task to answer in writing by a deadline"
        },
    )
    note = fields.String(
        required=True, validate=validate.Length(1, supervision.MAX_NOTE), metadata={
            "description": "the supervisor's instructions"
        }
    )  # fmt: skip


class BulkSupervisionArgs(SupervisionArgs):
    numbers = fields.List(
        fields.String(validate=validate.Length(1, 20)),
        required=True,
        validate=validate.Length(1, supervision.MAX_CASES),
        metadata={"description": "the case numbers, each done whole or reported"},
    )


class OutcomeSchema(ma.Schema):
    number = fields.String(required=True)
    done = fields.Boolean(required=True)
    reason = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(REASONS),
        metadata={"description": "why a case was not done: " + ", ".join(REASONS)},
    )  # fmt: skip
    message = fields.String(required=True)


class SupervisionResultSchema(ma.Schema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    done = fields.Integer(required=True, metadata={"description": "how many cases were done"})
    results = fields.List(fields.Nested(OutcomeSchema), required=True)


def _result(action: str, outcomes: list[supervision.Outcome]) -> dict[str, Any]:
    return SupervisionResultSchema().dump(
        {
            "action": action,
            "done": sum(o.done for o in outcomes),
            "results": [
                {
                    "number": o.number,
                    "done": o.done,
                    "reason": str(o.reason) if o.reason else None,
                    "message": o.message,
                }
                for o in outcomes
            ],
        }
    )


@blp.route("/cases/<number>/supervision")
class CaseSupervision(MethodView):
    @roles(*SUPERVISORS)
    @blp.arguments(SupervisionArgs)
    @blp.arguments(s.IdempotencyHeaders, location="headers")
    @blp.response(201, SupervisionResultSchema)
    @atomic()
    def post(self, args: dict[str, Any], _headers, number: str):
        """Chase the case or send it a supervision order, whether it is late or not (any open,
        dispatched case). 404 for a case you may not see; 409 (with the reason) for one that
        cannot take it; nothing is changed then."""
        try:
            outcome = supervision.supervise_case(
                db.session, get_hotline(), number=number, user=g.user, lang=lang(), **args
            )
        except NotFound:
            abort(404, message=f"case {number} does not exist")
        except supervision.SupervisionRefused as exc:
            abort(409, message=str(exc), errors={"reason": [str(exc.reason)]})
        return json_response(_result(args["action"], [outcome]), 201)


@blp.route("/supervision")
class BulkSupervision(MethodView):
    @roles(*SUPERVISORS)
    @blp.arguments(BulkSupervisionArgs)
    @blp.arguments(s.IdempotencyHeaders, location="headers")
    @blp.response(200, SupervisionResultSchema)
    @atomic()
    def post(self, args: dict[str, Any], _headers):
        """Chase or order many cases at once (from the overdue and escalated lists): each
        case is done whole or named in ``results`` with its ``reason`` (not_found, closed,
        not_dispatched, not_supported, changed: the case failed meanwhile and was undone
        alone, a savepoint per case)."""
        outcomes = supervision.supervise_cases(
            db.session, get_hotline(), user=g.user, lang=lang(), **args
        )
        return json_response(_result(args["action"], outcomes))
