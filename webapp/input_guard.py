"""Text no database can hold is refused at the door, with the field's name.

PostgreSQL's text cannot contain the NUL character (U+0000): a search or a row holding one
fails inside the driver, which the app could only answer with a 500. Every entry point of the
web app (pages, the API, Open311) takes its text from the query string, a form or a JSON body,
so one ``before_request`` hook looks at all three and answers 400 naming the fields, before
anything is read or written. It does the same on SQLite, so that both databases answer alike.
Uploaded files are not text fields: a BPMN file is checked by its own validation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest

NUL = "\x00"
MESSAGE = "contains the character U+0000 (NUL), which no text may hold"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _json_fields(value: Any, name: str) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield name or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            field = f"{name}.{key}" if name else str(key)
            if NUL in str(key):
                yield field
            yield from _json_fields(item, field)
    elif isinstance(value, list):
        for item in value:
            yield from _json_fields(item, name)


def nul_fields() -> list[str]:
    """The names of the request's fields (query, form, JSON body) that hold a NUL."""
    found: list[str] = []
    sources = [request.args] + ([request.form] if request.mimetype in _FORMS else [])
    for source in sources:
        for name, value in source.items(multi=True):
            if NUL in name or NUL in value:
                found.append(name)
    if request.is_json and request.content_length:
        found.extend(_json_fields(request.get_json(silent=True), ""))
    return list(dict.fromkeys(found))


def refuse_nul() -> None:
    """``before_request``: 400 naming every field with a NUL character."""
    fields = nul_fields()
    if fields:
        shown = [name.replace(NUL, "\\u0000") for name in fields]
        error = BadRequest(description=f"{', '.join(shown)}: {MESSAGE}.")
        error.data = {  # type: ignore[attr-defined]
            "message": error.description,
            "errors": {name: [MESSAGE] for name in shown},
        }
        raise error
