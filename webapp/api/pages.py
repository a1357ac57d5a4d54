"""Pages under /api for people: their API tokens (create, revoke), and the API's docs."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.db import unit_of_work
from engine.errors import NotFound
from workflows.api import tokens
from workflows.api.models import ApiToken
from workflows.errors import Forbidden, FormInvalid
from workflows.users.models import Role, User
from workflows.users.service import by_username

from ..audit.log import record
from ..extensions import db
from ..hotline import get_hotline
from ..pagination import paginate
from ..security import login_required
from ..sorting import DESC, Sortable, apply_sort
from . import bp

METHODS = ("get", "post", "put", "patch", "delete")


#: the tokens list's sortable columns (a person's few, an administrator's few dozen); without
#: ``sort``, the newest first
TOKEN_SORTS = {
    "name": Sortable((ApiToken.name,)),
    "user": Sortable((User.username,)),
    "created": Sortable((ApiToken.created_at,), first=DESC),
    "last_used": Sortable((ApiToken.last_used_at,), first=DESC, nullable=True),
    "state": Sortable((ApiToken.revoked_at,), nullable=True),
}


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def token_list():
    """Your tokens (administrators: everyone's, and they may make one for anyone)."""
    created, errors, status = None, {}, 200
    values = {"name": "", "username": ""}
    if request.method == "POST":
        values = {
            "name": (request.form.get("name") or "").strip(),
            "username": (request.form.get("username") or "").strip(),
        }
        owner = g.user
        if values["username"] and values["username"] != g.user.username:
            if g.user.role != Role.ADMIN:
                abort(403)
            owner = by_username(db.session, values["username"])
            if owner is None:
                errors["username"] = [_("No such user.")]
        if not errors:
            try:
                with unit_of_work(db.session):  # the token and its audit row commit together
                    row, created = tokens.create_token(
                        db.session,
                        user=owner,
                        name=values["name"],
                        clock=get_hotline().clock,
                        created_by=g.user,
                    )
                    record(
                        "api_token.create",
                        target_type="api_token",
                        target_id=row.id,
                        owner=owner.username,
                        name=values["name"],
                    )
            except FormInvalid as exc:
                errors = exc.errors
            except Forbidden:
                abort(403)
            else:
                current_app.logger.info(
                    "api token %s created for %s by %s", row.id, owner.username, g.user.username
                )
        status = 422 if errors else (201 if created else 200)
    stmt = tokens.tokens_of(db.session, viewer=g.user)
    stmt, sorting = apply_sort(stmt, TOKEN_SORTS, (ApiToken.id,))
    page = paginate(db.session, stmt, scalars=False)
    page.sorting = sorting
    return render_template(
        "api/tokens.html",
        page=page,
        created=created,
        errors=errors,
        values=values,
        now=get_hotline().clock.now(),
        is_admin=g.user.role == Role.ADMIN,
    ), status


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def token_revoke(token_id: int):
    try:
        with unit_of_work(db.session):
            tokens.revoke_token(db.session, token_id=token_id, by=g.user, clock=get_hotline().clock)
            record("api_token.revoke", target_type="api_token", target_id=token_id)
    except NotFound:
        abort(404)
    current_app.logger.info("api token %s revoked by %s", token_id, g.user.username)
    flash(_("Token %(id)s revoked: it no longer works.", id=token_id))
    return redirect(url_for("api.token_list"), 303)


@bp.get("/docs")
def docs():
    """Every endpoint from the OpenAPI document, and Swagger UI when its files are there
    (``npm run assets`` copies them; nothing is loaded from another host)."""
    spec = current_app.extensions["hotline_api"].spec.to_dict()
    operations = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                op = item[method]
                operations.append(
                    {
                        "method": method.upper(),
                        "path": path,
                        "summary": op.get("summary", ""),
                        "description": op.get("description", ""),
                        "tag": (op.get("tags") or [""])[0],
                    }
                )
    swagger = Path(current_app.static_folder or "", "vendor", "swagger-ui", "swagger-ui-bundle.js")
    return render_template(
        "api/docs.html",
        info=spec.get("info", {}),
        operations=operations,
        swagger_ui=swagger.exists(),
    )
