"""The API's one error format, for every status: ``{"code", "status", "message", "errors"}``.

``errors`` (only for 400 and 422) maps each field to its messages: body fields by name
(``caller_phone``), query parameters by name, headers by name (``Idempotency-Key``).
Nothing else ever answers under ``/api/v1``: no HTML page, no traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import Response
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from workflows.errors import FormInvalid

MESSAGES = {
    400: "The request is malformed.",
    401: "Send a valid API token: Authorization: Bearer <token>.",
    403: "Your role or department does not allow this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    409: "Conflict.",
    412: "The resource changed since you read it (If-Match does not match its ETag).",
    413: "The request body is too large.",
    415: "Send the body as application/json.",
    422: "The request failed validation: see errors.",
    428: "Precondition required.",
    429: "Too many requests: wait and try again.",
    500: "Something went wrong on our side; nothing was changed.",
}
#: webargs' locations, as a client names them
LOCATIONS = {"json": "body", "query": "query", "headers": "headers", "view_args": "path"}


class ErrorSchema(ma.Schema):
    """Every error answer of the API (documentation only: see :func:`error_payload`)."""

    code = ma.fields.Integer(required=True, metadata={"description": "the HTTP status"})
    status = ma.fields.String(required=True, metadata={"description": "the status's name"})
    message = ma.fields.String(required=True, metadata={"description": "what went wrong"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "messages per field (400, 422)"},
    )


def error_payload(
    status: int, message: str | None = None, errors: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "code": status,
        "status": HTTP_STATUS_CODES.get(status, "Error"),
        "message": message or MESSAGES.get(status, HTTP_STATUS_CODES.get(status, "Error")),
    }
    if errors:
        payload["errors"] = {str(k): [str(m) for m in v] for k, v in errors.items()}
    return payload


def error_response(
    status: int,
    message: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    response = Response(
        json.dumps(error_payload(status, message, errors), ensure_ascii=False),
        status=status,
        mimetype="application/json",
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="hotline"')
    return response


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested marshmallow/webargs messages as ``{"field.sub": [...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if isinstance(key, int):  # an item of a list names the list
                name = prefix or "_schema"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(messages, list | tuple):
        for item in messages:
            if isinstance(item, Mapping | list | tuple):
                for k, v in flatten(item, prefix).items():
                    out.setdefault(k, []).extend(v)
            else:
                out.setdefault(prefix or "_schema", []).append(str(item))
    else:
        out.setdefault(prefix or "_schema", []).append(str(messages))
    return out


def webargs_errors(messages: Mapping[str, Any]) -> dict[str, list[str]]:
    """webargs' ``{"json": {...}, "query": {...}}`` as one map of field -> messages; a
    problem with a whole location (``_schema``) is named by the location."""
    out: dict[str, list[str]] = {}
    for location, problems in messages.items():
        for key, values in flatten(problems).items():
            name = LOCATIONS.get(location, location) if key == "_schema" else key
            out.setdefault(name, []).extend(values)
    return out


def render(status: int, message: str | None, exc: BaseException | None) -> Response:
    """The JSON answer for an error raised anywhere under /api/v1 (see webapp.errors): the
    domain's refusals included (``FormInvalid`` 422 with its fields, ``Forbidden`` 403, other
    ``DomainError`` and ``ConflictError`` 409 with their message), so views let them pass."""
    errors = None
    headers: dict[str, str] = {}
    if isinstance(exc, HTTPException):
        data = getattr(exc, "data", None) or {}
        default = exc.description == type(exc).description  # werkzeug's generic words
        message = data.get("message") or (
            MESSAGES.get(status) if default or status == 500 else exc.description
        )
        if "errors" in data:
            errors = data["errors"]
        elif "messages" in data:
            errors = webargs_errors(data["messages"])
            message = data.get("message") or MESSAGES[422 if status == 422 else 400]
        headers.update(data.get("headers") or {})
        headers.update({k: v for k, v in exc.get_headers() if k.lower() not in ("content-type",)})
    elif isinstance(exc, FormInvalid):
        message, errors = None, exc.errors  # the fields say what is wrong
    elif status == 500:
        message = None  # never the exception's text (webapp.errors logs it)
    return error_response(status, message, errors, headers)
