"""Open311 answers in XML (the default) or JSON (``.json``), errors included.

XML lists name their items as the GeoReport v2 examples do (``service_requests/request``,
``services/service``, ``attributes/attribute``, ``values/value``, ``errors/error``...).
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from flask import Response, request
from werkzeug.exceptions import HTTPException

ITEMS = {
    "service_requests": "request",
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "service_request_updates": "request_update",
    "endpoints": "endpoint",
    "formats": "format",
}
DEFAULT_MESSAGES = {
    400: "bad request",
    401: "api_key required",
    403: "invalid api_key",
    404: "not found",
    405: "method not allowed",
    413: "request too large",
    429: "too many requests",
    500: "server error; nothing was changed",
}


class Open311Error(Exception):
    """An error answer: ``messages`` become the list of {code, description}."""

    def __init__(self, status: int, *messages: str, headers: dict[str, str] | None = None):
        self.status = status
        self.messages = list(messages) or [DEFAULT_MESSAGES.get(status, "error")]
        self.headers = headers or {}
        super().__init__("; ".join(self.messages))


def split_format(name: str) -> tuple[str, str]:
    """``"123.json"`` -> ``("123", "json")``; no suffix means XML."""
    for fmt in ("json", "xml"):
        if name.endswith("." + fmt):
            return name[: -len(fmt) - 1], fmt
    return name, "xml"


def request_format() -> str:
    return split_format(request.path)[1]


def _element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            element.append(_element(key, item))
    elif isinstance(value, list):
        child = ITEMS.get(tag, "item")
        for item in value:
            element.append(_element(child, item))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


def respond(root: str, data: Any, fmt: str, status: int = 200) -> Response:
    """``data`` under ``root`` in XML, or as it is in JSON."""
    if fmt == "json":
        return Response(
            json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json"
        )
    body = ET.tostring(_element(root, data), encoding="unicode")
    return Response(
        '<?xml version="1.0" encoding="utf-8"?>\n' + body,
        status=status,
        mimetype="text/xml",
    )


def error_response(status: int, messages: list[str], headers: dict[str, str] | None = None):
    errors = [{"code": status, "description": m} for m in messages]
    response = respond("errors", errors, request_format(), status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def render(status: int, message: str | None, exc: BaseException | None) -> Response:
    """Any error under /open311 (see webapp.errors), in GeoReport's error list."""
    headers: dict[str, str] = {}
    if isinstance(exc, HTTPException):
        data = getattr(exc, "data", None) or {}
        message = data.get("message") or DEFAULT_MESSAGES.get(status)
        headers.update(data.get("headers") or {})
        headers.update({k: v for k, v in exc.get_headers() if k.lower() != "content-type"})
    if status == 500 or not message:
        message = DEFAULT_MESSAGES.get(status, "error")
    return error_response(status, [message], headers)
