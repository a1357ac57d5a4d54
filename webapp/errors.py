"""Error pages: every error answers with a page (or JSON for the API), never a traceback.

The domain's refusals are mapped here once, for every area: ``FormInvalid`` is 422,
``Forbidden`` 403, any other ``DomainError`` and the engine's ``ConflictError`` 409, each in
the area's own format (the area's renderer: the API's JSON, Open311's error list; a page
otherwise). Views raise them and do not catch them, except where a page shows the form again
with what was typed (intake, the task page, notes, merging, tokens): no handler can rebuild
that page.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import ConflictError, NotFound, WorkflowRunError
from workflows.errors import DomainError, Forbidden, FormInvalid

from .error_messages import translated

TITLES = {
    400: "Bad request",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "The form has errors",
    429: "Too many requests",
    500: "Something went wrong",
}


def wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or request.path.startswith("/open311/")
        or (request.accept_mimetypes.best == "application/json")
    )


def area_renderer():
    """The error renderer of the area the request is in (the API, Open311), if it has one:
    areas register ``(path prefix, render(status, message, exc))`` at start."""
    for prefix, render in current_app.extensions.get("error_renderers", ()):
        if request.path.startswith(prefix):
            return render
    return None


def render_error(status: int, message: str | None = None, exc: BaseException | None = None):
    render = area_renderer()
    if render is not None:
        return render(status, message, exc)
    if wants_json():
        return jsonify({"code": status, "message": message or TITLES.get(status, "Error")}), status
    return render_template(
        "error.html",
        status=status,
        title=_(TITLES.get(status, "Error")),
        message=translated(message) if exc is not None else message,
    ), status


def init_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(
            400,
            _("The form expired or was not sent from this site: reload the page and try again."),
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return render_error(
            exc.code or 500, exc.description if exc.code not in (404, 403) else None, exc
        )

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound):
        return render_error(404, str(exc), exc)

    @app.errorhandler(Forbidden)
    def forbidden(exc: Forbidden):
        return render_error(403, str(exc), exc)

    @app.errorhandler(ConflictError)
    def conflict(exc: ConflictError):
        return render_error(409, str(exc), exc)

    @app.errorhandler(FormInvalid)
    def form_invalid(exc: FormInvalid):
        return render_error(422, str(exc), exc)

    @app.errorhandler(DomainError)
    def refused(exc: DomainError):
        return render_error(409, str(exc), exc)

    @app.errorhandler(WorkflowRunError)
    def workflow_failed(exc: WorkflowRunError):
        # an expression refused the case's data (over its budget, a missing name): the step
        # was rolled back; say where, as a refusal, not as our failure
        app.logger.warning("workflow refused on %s %s: %s", request.method, request.path, exc)
        return render_error(409, str(exc), exc)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500, None, exc)
