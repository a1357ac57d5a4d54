"""``/api/v1/dispatch-model``: the active dispatch model (its date and holdout figures), and
its top three units for a description, category and area (for phone systems and tests)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields, validate

from workflows.insight import dispatch_model
from workflows.insight.dispatch_learned import learned
from workflows.users.models import Role

from ..extensions import db
from ..hotline import get_hotline
from .auth import roles
from .blueprint import ApiBlueprint
from .present import json_response
from .schemas import InputSchema

#: who may ask: those who take or route cases, and the centre's supervisors and administrators
#: (the figures count every unit's cases: not for the departments' handlers)
ASKERS = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.LEAD, Role.ADMIN)

blp = ApiBlueprint(
    "api-dispatch-model",
    __name__,
    url_prefix="/api/v1",
    description="Dispatch learned from history: the active model and its suggestions.",
)


class ModelSchema(ma.Schema):
    id = fields.Integer(required=True)
    trained_at = fields.DateTime(required=True)
    trained_by = fields.String(required=True)
    cases = fields.Integer(required=True, metadata={"description": "closed cases learned from"})
    metrics = fields.Dict(
        required=True,
        metadata={"description": "holdout top1/top3, the catalogue's baseline_top1, per_unit"},
    )


class PredictArgs(InputSchema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    category = fields.String(load_default="", validate=validate.Length(max=64))
    area = fields.String(load_default="", validate=validate.Length(max=32))


class UnitSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_en = fields.String(required=True)
    confidence = fields.Float(required=True, metadata={"description": "0..1"})


class PredictionSchema(ma.Schema):
    model_id = fields.Integer(allow_none=True)
    units = fields.List(fields.Nested(UnitSchema), required=True)
    reason = fields.String(
        required=True,
        metadata={"description": "why no units: no_model, stale, no_units, empty; '' if any"},
    )


def _model_data(row) -> dict[str, Any]:
    return {
        "id": row.id,
        "trained_at": row.trained_at.isoformat(),
        "trained_by": row.trained_by,
        "cases": row.cases,
        "metrics": row.metrics or {},
    }


@blp.route("/dispatch-model")
class ActiveModel(MethodView):
    @roles(*ASKERS)
    @blp.response(200, ModelSchema)
    def get(self):
        """The active model: when and by whom it was trained, on how many cases, its figures
        on the newest 20% of them (404 when no model was trained)."""
        row = dispatch_model.active(db.session)
        if row is None:
            abort(
                404, message="no dispatch model has been trained yet (hotline dispatch-model train)"
            )
        return json_response(_model_data(row))


@blp.route("/dispatch-model/predict")
class Predict(MethodView):
    @roles(*ASKERS)
    @blp.arguments(PredictArgs)
    @blp.response(200, PredictionSchema)
    def post(self, args: dict[str, Any]):
        """The active model's three likeliest units for a case, best first, with their
        confidence; none, and the reason, when there is no usable model."""
        found = learned(
            db.session,
            description=args["description"],
            category=args["category"],
            area=args["area"],
            now=get_hotline().clock.now(),
            max_age_days=float(current_app.config.get("DISPATCH_MODEL_MAX_AGE_DAYS") or 0),
        )
        units = [
            {
                "code": s.department.code,
                "name": s.department.name,
                "name_en": s.department.name_en,
                "confidence": round(s.confidence, 4),
            }
            for s in found.suggestions
        ]
        return json_response(
            {
                "model_id": found.model.id if found.model is not None else None,
                "units": units,
                "reason": found.reason,
            }
        )
