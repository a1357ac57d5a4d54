"""The API on the app: flask-smorest with our error format, bearer tokens, no CSRF (no
cookies are accepted), and an OpenAPI 3 document at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_smorest import Api

from workflows.cases.flows import INTAKE_FORM

from ..extensions import csrf
from . import (
    appeals,
    attachments,
    calls,
    cases,
    definitions,
    dispatch_model,
    evaluation,
    insight_duplicates,
    insight_topics,
    kpis,
    reference,
    sms,
    supervision,
    tasks,
)
from .auth import authenticate
from .errors import ErrorSchema, render

BLUEPRINTS = (
    cases.blp,
    tasks.blp,
    definitions.blp,
    kpis.blp,
    reference.blp,
    supervision.blp,
    calls.blp,
    appeals.blp,
    evaluation.blp,
    insight_duplicates.blp,
    insight_topics.blp,
    dispatch_model.blp,
    attachments.blp,
)
#: webhooks: under /api/v1, with their own authentication instead of an API token
WEBHOOKS = (sms.blp,)
#: pages under /api that people open in a browser (HTML errors, session sign-in)
PAGE_PREFIXES = ("/api/tokens", "/api/docs")

for _blueprint in BLUEPRINTS:  # once, at import: blueprints are shared by every app made
    _blueprint.before_request(authenticate)


class HotlineApi(Api):
    """flask-smorest's Api, with our error format documented and no app-wide error handler
    of its own (``webapp.errors`` answers, and asks :func:`render` for API paths)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        pass


def init_api(app: Flask) -> HotlineApi:
    app.config.update(
        API_TITLE="Hotline API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "The closed-loop case engine of a citizen service hotline. Authenticate "
                    "with a personal API token (Authorization: Bearer hl_...), made on "
                    "/api/tokens or with `hotline token create USER`. Every error answers "
                    "{code, status, message, errors}. POSTs honour Idempotency-Key; cases "
                    "and tasks carry an ETag that If-Match checks (412 when stale)."
                )
            },
            "security": [{"bearerAuth": []}],
            "servers": [{"url": "/"}],
        },
    )
    api = HotlineApi(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme(
        sms.SECURITY,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "the SMS gateway's secret (HOTLINE_SMS_INBOUND_SECRET)",
        },
    )
    # in the app's context: the document lists this app's case types (schemas.OneCaseType)
    with app.app_context():
        api.spec.components.schema("Intake", component=intake_schema(app))
        for blueprint in BLUEPRINTS + WEBHOOKS:
            csrf.exempt(blueprint)
            api.register_blueprint(blueprint)
    app.extensions.setdefault("error_renderers", []).append(("/api/", render_api_error))
    app.extensions["hotline_api"] = api
    return api


def render_api_error(status: int, message: str | None, exc: BaseException | None):
    if request.path.startswith(PAGE_PREFIXES):
        from ..errors import TITLES

        title = _(TITLES.get(status, "Error"))
        return render_template("error.html", status=status, title=title, message=message), status
    return render(status, message, exc)


def intake_schema(app: Flask) -> dict[str, Any]:
    """The intake body's JSON Schema, from the intake form itself (one source of truth) and
    the app's case types; options that come from the database (categories, areas) are listed
    by the form at validation time, so they are plain strings here."""
    hotline = app.extensions["hotline"]
    form = hotline.forms.get(INTAKE_FORM).describe(
        "en", context={"case_types": hotline.case_types.options("en")}
    )
    properties: dict[str, Any] = {}
    required = []
    for field in form["fields"]:
        kind = field["type"]
        schema: dict[str, Any] = {"description": field["label"]}
        if kind in ("select", "radio"):
            schema["type"] = "string"
            if field.get("options"):
                schema["enum"] = [str(o["value"]) for o in field["options"]]
        elif kind in ("checklist", "taglist"):
            schema.update(type="array", items={"type": "string"})
        elif kind == "checkbox":
            schema["type"] = "boolean"
        elif kind == "number":
            schema["type"] = "number"
            for rule, name in (("min", "minimum"), ("max", "maximum")):
                if rule in field:
                    schema[name] = field[rule]
        else:
            schema["type"] = "string"
            for rule in ("minLength", "maxLength"):
                if rule in field:
                    schema[rule] = field[rule]
        if "default" in field:
            schema["default"] = field["default"]
        if field.get("hide"):
            schema["description"] += f" (hidden when {field['hide'].lstrip('=')})"
        elif field.get("required") and "default" not in field:
            required.append(field["key"])
        properties[field["key"]] = schema
    properties["details"] = {
        "type": "object",
        "additionalProperties": True,
        "description": "the case type's own fields, for a type with a form of its own (a "
        "consumer complaint's merchant, product, amount, purchase date: Administration > "
        "Case types); errors name the field",
    }
    properties["call_id"] = {
        "type": "string",
        "maxLength": 64,
        "description": "the phone system's id of the call this case is recorded from (it rang "
        "or was answered at you): the call is linked to the case (docs/calls.md)",
    }
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        "description": "the intake form's fields (GET /api/v1/tasks/{id} shows task forms)",
    }
