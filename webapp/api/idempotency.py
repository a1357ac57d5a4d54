"""POSTs run in one transaction, and honour ``Idempotency-Key``.

The view's effect and the key's record commit together: a client that retries a request
whose answer it never saw (a phone system after a time-out) gets the first answer again, with
``Idempotent-Replayed: true``, and nothing happens twice. The same key with a different
request is refused (422). An error answer rolls the whole request back, so nothing is left
half-changed, unless the view says that what happened must stay (``keep_on_error``: a
deadline timer took the task first, and the engine recorded that).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Response, g, request
from flask_smorest import abort
from sqlalchemy.exc import IntegrityError

from engine.db import unit_of_work
from workflows.api import idempotency as records

from ..extensions import db
from ..hotline import get_hotline

HEADER = "Idempotency-Key"


class _RollBack(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def keep_on_error() -> None:
    """Commit this request's writes even though it answers with an error."""
    g.api_keep_on_error = True


def user_scope() -> str:
    return f"user:{g.user.id}"


def atomic(scope: Callable[[], str] = user_scope):
    """Run a POST view in one unit of work, replaying answers per ``Idempotency-Key``."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            key = request.headers.get(HEADER)
            fingerprint = None
            if key is not None:
                key = key.strip()
                if not records.valid_key(key):
                    abort(
                        400,
                        message=f"{HEADER} must be 1 to 255 visible ASCII characters.",
                        errors={HEADER: ["1 to 255 visible ASCII characters"]},
                    )
                fingerprint = records.request_hash(
                    request.method,
                    request.path,
                    request.query_string.decode("latin-1"),
                    request.content_type or "",
                    _body(),
                )
            try:
                return _run(view, args, kwargs, key, fingerprint, scope())
            except IntegrityError:
                if key is None:
                    raise
                # a copy of this request with the same key committed first: answer as it did
                db.session.rollback()
                return _run(view, args, kwargs, key, fingerprint, scope())

        return wrapped

    return decorator


def _body() -> bytes:
    """The request body as sent; a form already parsed (Open311) as its sorted fields."""
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return urlencode(sorted(request.form.items(multi=True))).encode("utf-8")
    return request.get_data(cache=True)


def _run(view, args, kwargs, key: str | None, fingerprint: str | None, scope: str) -> Any:
    session = db.session
    clock = get_hotline().clock
    g.api_keep_on_error = False
    try:
        with unit_of_work(session):
            record = None
            if key is not None and fingerprint is not None:
                try:
                    stored = records.find(
                        session, scope=scope, key=key, fingerprint=fingerprint, clock=clock
                    )
                except records.KeyReused as exc:
                    abort(422, message=str(exc), errors={HEADER: [str(exc)]})
                if stored is not None:
                    return _replay(stored)
                record = records.claim(
                    session,
                    scope=scope,
                    key=key,
                    fingerprint=fingerprint,
                    method=request.method,
                    path=request.path,
                    clock=clock,
                )
            response = view(*args, **kwargs)
            if not isinstance(response, Response):
                raise TypeError("an atomic view must return a Response")
            if response.status_code >= 400 and not g.api_keep_on_error:
                raise _RollBack(response)
            if record is not None:
                records.finish(
                    session,
                    record,
                    records.StoredResponse(
                        response.status_code,
                        response.content_type or "application/json",
                        response.get_data(as_text=True),
                        response.headers.get("ETag"),
                        response.headers.get("Location"),
                    ),
                )
            return response
    except _RollBack as rolled_back:
        return rolled_back.response


def _replay(stored: records.StoredResponse) -> Response:
    response = Response(stored.body, status=stored.status, content_type=stored.content_type)
    if stored.etag:
        response.headers["ETag"] = stored.etag
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers["Idempotent-Replayed"] = "true"
    return response
