"""Text no database can hold, and JSON no parser should walk, are refused at the door.

- The NUL character (U+0000): PostgreSQL's text cannot contain it; a search or a row holding
  one failed inside the driver, which the app could only answer with a 500.
- A lone surrogate (U+D800..U+DFFF on its own, which JSON's ``"\\ud800"`` escape or the bytes
  ``ED A0 80`` decode to): it is no character at all, and no UTF-8 encoder (the drivers', the
  template's, the log's) can write it: a 500 wherever it went.
- JSON nested deeper than :data:`MAX_DEPTH`: Python's parser recurses, and 100,000 ``[``
  raised RecursionError (a 500) on any URL, before authentication.

Every entry point of the web app (pages, the API, Open311) takes its text from the query string,
a form or a JSON body, so one ``before_request`` hook, the first, looks at all three and
answers 400 naming the fields (in the area's error format: webapp/errors.py), before anything
is read, authenticated or written. It does the same on SQLite, so that both databases answer
alike. The walk over a JSON body is iterative: a body cannot exhaust the stack of the check
meant to protect it. And the app's JSON parser (``app.json``, which ``request.get_json`` uses)
refuses depth itself, so no JSON the app reads, whatever the route, goes past it.

Query strings and forms cannot carry a surrogate: werkzeug decodes them as UTF-8, replacing
what is not (``%ED%A0%80`` arrives as U+FFFD). Uploaded files are not text fields: a BPMN
file is checked by its own validation.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

NUL = "\x00"
MESSAGE = "contains the character U+0000 (NUL), which no text may hold"
SURROGATE_MESSAGE = "contains a lone surrogate (U+D800 to U+DFFF), which is not a character"
#: JSON nested deeper than this is refused (our deepest documents nest 5 levels)
MAX_DEPTH = 64
DEPTH_MESSAGE = f"is nested deeper than {MAX_DEPTH} levels"
SURROGATE = re.compile("[\ud800-\udfff]")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class TooDeep(ValueError):
    """JSON nested deeper than :data:`MAX_DEPTH` (a ValueError: Flask answers 400)."""

    def __init__(self) -> None:
        super().__init__(f"the JSON body {DEPTH_MESSAGE}")


def problem(text: str | None) -> str | None:
    """What makes ``text`` unfit for storage, or None (a multipart part may have no name)."""
    if not text:
        return None
    if NUL in text:
        return MESSAGE
    if SURROGATE.search(text):
        return SURROGATE_MESSAGE
    return None


def _walk(value: Any) -> tuple[dict[str, str], bool]:
    """({field: problem}, too deep) for a parsed JSON value, without recursion: a list's
    items are named by the list, a nested object's keys by ``outer.inner``."""
    found: dict[str, str] = {}
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, name, depth = stack.pop()
        if isinstance(item, str):
            wrong = problem(item)
            if wrong:
                found.setdefault(name or "body", wrong)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_DEPTH:
            return found, True
        if isinstance(item, list):
            stack.extend((sub, name, depth + 1) for sub in item)
            continue
        for key, sub in item.items():
            field = f"{name}.{key}" if name else str(key)
            wrong = problem(str(key))
            if wrong:
                found.setdefault(field, wrong)
            stack.append((sub, field, depth + 1))
    return found, False


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing depth beyond :data:`MAX_DEPTH` (``TooDeep``, a 400) instead of
    recursing until a RecursionError."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise TooDeep() from None
        if _walk(value)[1]:
            raise TooDeep()
        return value


def _json_body() -> tuple[Any, bool]:
    """(the parsed body or None, whether it is too deep): a body that is no JSON at all is
    the view's to refuse, in its own words."""
    try:
        return json.loads(request.get_data(cache=True)), False
    except RecursionError:
        return None, True
    except ValueError:
        return None, False


def bad_fields() -> dict[str, str]:
    """The request's fields (query, form, JSON body) that no database can hold, and why; the
    body is named ``body`` when it nests too deep."""
    found: dict[str, str] = {}
    sources = [request.args] + ([request.form] if request.mimetype in _FORMS else [])
    for source in sources:
        for name, value in source.items(multi=True):
            wrong = problem(name) or problem(value)
            if wrong:
                found.setdefault(name, wrong)
    if request.is_json:
        body, too_deep = _json_body()
        fields, deeper = _walk(body)
        if too_deep or deeper:
            return {"body": DEPTH_MESSAGE}
        for name, wrong in fields.items():
            found.setdefault(name, wrong)
    return found


def nul_fields() -> list[str]:
    """The names of the request's fields that hold a NUL (or another unstorable text)."""
    return list(bad_fields())


def shown(name: str) -> str:
    """A field's name as an error message can carry it (escaped, never the raw character)."""
    return name.replace(NUL, "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


def _in_reader_language(message: str) -> str:
    """A page speaks its reader's language; the API and Open311 answer in English (their
    clients are programs, and their documentation quotes these words)."""
    from .errors import area_renderer, wants_json

    if area_renderer() is not None or wants_json():
        return message
    if message == DEPTH_MESSAGE:
        return _("is nested deeper than %(depth)s levels", depth=MAX_DEPTH)
    return _(message)


def refuse_nul() -> None:
    """``before_request``: 400 naming every field that holds a NUL or a lone surrogate, or a
    JSON body nested too deep."""
    fields = {shown(name): _in_reader_language(wrong) for name, wrong in bad_fields().items()}
    if fields:
        error = BadRequest(
            description="; ".join(f"{name}: {wrong}." for name, wrong in fields.items())
        )
        error.data = {  # type: ignore[attr-defined]
            "message": error.description,
            "errors": {name: [wrong] for name, wrong in fields.items()},
        }
        raise error


def init_input_guard(app: Flask) -> None:
    """The guarded JSON parser for ``request.get_json``; the check first among the hooks."""
    app.json = GuardedJSONProvider(app)
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul)
