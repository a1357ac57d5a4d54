"""Reading what API clients send: a JSON object body, and the language of messages."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import abort


def json_object() -> dict[str, Any]:
    """The body as a JSON object (400 when it is not JSON, or not an object)."""
    if not request.is_json:
        abort(
            415,
            message="Send the body as application/json.",
        )
    body = request.get_json(silent=True)
    if body is None:
        abort(400, message="The body is not valid JSON.", errors={"body": ["not valid JSON"]})
    if not isinstance(body, dict):
        abort(400, message="Send a JSON object.", errors={"body": ["not a JSON object"]})
    return body
