"""ETags of cases and tasks, and ``If-Match``: a write based on a stale read answers 412."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import request
from flask_smorest import abort


def etag_of(representation: Any) -> str:
    """A strong ETag: a hash of the resource's JSON representation."""
    text = json.dumps(representation, sort_keys=True, ensure_ascii=False, default=str)
    return '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + '"'


def _tags(header: str) -> list[str]:
    tags = []
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        if part:
            tags.append(part)
    return tags


def check_if_match(current: str | Callable[[], str], what: str) -> None:
    """412 when the request's ``If-Match`` names neither ``*`` nor the current ETag
    (``current`` may be a function: the ETag is then computed only when it is asked for)."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    if callable(current):
        current = current()
    tags = _tags(header)
    if "*" in tags or current in tags:
        return
    abort(
        412,
        message=f"{what} changed since you read it: GET it again (its ETag is now {current}).",
        headers={"ETag": current},
    )
