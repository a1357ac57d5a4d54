"""Task forms: the list, each form's versions, one version, and form-js's editor, which
saves a new version with a comment (checked by the server's form parser and the domain's
fields first; an unchanged form is not saved again). Definitions pin the versions their
tasks use when deployed (workflows/forms/store.py), so a save never changes a running case.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from engine.db import unit_of_work
from workflows.forms import FormError, is_form_key
from workflows.forms import store as form_store
from workflows.forms.components import DISPLAY_TYPES, INPUT_TYPES

from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from . import bp
from .common import admin_only, audit

#: what the editor's palette offers: the types the server's parser accepts
EDITOR_TYPES = sorted(INPUT_TYPES | (DISPLAY_TYPES - {"button", "iframe", "documentPreview"}))
_MAX_BYTES = 1_000_000


def _key_arg() -> str:
    key = request.args.get("key", "")
    if not is_form_key(key):
        abort(404)
    return key


def _version_arg() -> int | None:
    raw = request.args.get("version")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        abort(404)


def _schema_text(key: str, version: int | None) -> tuple[str, int | None]:
    """(the JSON text, its stored version or None for a file only) of ``key``."""
    if version is None:
        row = form_store.latest(db.session, key)
    else:
        row = form_store.version_row(db.session, key=key, version=version)
    if row is not None:
        return row.schema, row.version
    if version is not None:
        abort(404)
    try:
        return get_hotline().forms.file_text(key).decode("utf-8"), None
    except (FormError, UnicodeDecodeError):
        abort(404)


@bp.get("/forms")
@admin_only
def forms():
    hotline = get_hotline()
    stored = form_store.latest_versions(db.session)
    rows = [(key, stored.get(key)) for key in sorted(set(hotline.forms.file_keys()) | set(stored))]
    return render_template("admin/forms.html", rows=rows)


@bp.get("/forms/history")
@admin_only
def form_history():
    key = _key_arg()
    versions = list(db.session.scalars(form_store.versions_of(key)))
    if not versions and not get_hotline().forms.file_exists(key):
        abort(404)
    return render_template("admin/form_history.html", key=key, versions=versions)


@bp.get("/forms/version")
@admin_only
def form_version():
    key = _key_arg()
    version = _version_arg()
    text, stored = _schema_text(key, version)
    row = form_store.version_row(db.session, key=key, version=stored) if stored else None
    return render_template("admin/form_version.html", key=key, row=row, text=text)


@bp.get("/forms/schema")
@admin_only
def form_schema():
    key = _key_arg()
    text, _stored = _schema_text(key, _version_arg())
    headers = {"Cache-Control": "no-store"}
    if request.args.get("download"):
        name = key.replace("/", "-")
        headers["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return Response(text, mimetype="application/json", headers=headers)


@bp.get("/forms/edit")
@admin_only
def form_edit():
    key = _key_arg()
    version = _version_arg()
    _text, stored = _schema_text(key, version)
    newest = form_store.latest(db.session, key)
    return render_template(
        "admin/form_editor.html",
        key=key,
        version=stored,
        latest=newest.version if newest else 0,
        types=EDITOR_TYPES,
    )


@bp.post("/forms/save")
@admin_only
def form_save():
    if request.content_length is not None and request.content_length > 2 * _MAX_BYTES:
        return _refused(_("The form is larger than 1 MB."), 413)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("schema"), dict):
        return _refused(_('Send a JSON object with the form as "schema".'), 400)
    key = body.get("key")
    if not isinstance(key, str) or not is_form_key(key):
        return _refused(_("A form key is letters, digits, _ and -, in parts joined by /."), 400)
    comment = body.get("comment")
    comment = comment.strip()[:2000] if isinstance(comment, str) else ""
    seen = body.get("latest")
    hotline = get_hotline()
    text = json.dumps(body["schema"], ensure_ascii=False)
    try:
        with unit_of_work(db.session):
            newest = form_store.latest(db.session, key)
            if isinstance(seen, int) and newest is not None and newest.version > seen:
                message = _(
                    "%(key)s version %(version)s was saved by %(author)s after you opened the "
                    "editor: nothing was saved. Open the newest version and make your change "
                    "again.",
                    key=key,
                    version=newest.version,
                    author=newest.author,
                )
                return _refused(message, 409)
            outcome = form_store.save(
                db.session,
                key=key,
                text=text,
                author=g.user.username,
                comment=comment,
                clock=hotline.clock,
                registry=hotline.forms,
            )
            if outcome.created:
                audit("form.save", target_type="form", target_id=key, version=outcome.version)
    except form_store.FormRefused as exc:
        return jsonify(ok=False, errors=[_error_json(e) for e in exc.errors]), 400
    except IntegrityError:  # the same version saved at the same time by someone else
        return _refused(_("Someone saved this form at the same moment: try again."), 409)
    if outcome.created:
        message = _("Saved %(key)s version %(version)s.", key=key, version=outcome.version)
    else:
        message = _(
            "%(key)s is unchanged (identical to version %(version)s): nothing was saved.",
            key=key,
            version=outcome.version,
        )
    return jsonify(
        ok=True,
        created=outcome.created,
        version=outcome.version,
        message=message,
        history=url_for("admin.form_history", key=key),
    )


@bp.route("/forms/new", methods=["GET", "POST"])
@admin_only
def form_new():
    hotline = get_hotline()
    keys = hotline.forms.keys()
    values = {"key": "", "copy_of": keys[0] if keys else "", "comment": ""}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {name: request.form.get(name, "").strip() for name in values}
        key, source = values["key"], values["copy_of"]
        if not is_form_key(key):
            errors["key"] = [_("A form key is letters, digits, _ and -, in parts joined by /.")]
        elif hotline.forms.exists(key):
            errors["key"] = [_("A form with this key exists already.")]
        if source not in keys:
            errors["copy_of"] = [_("Choose a form to copy.")]
        if not errors:
            created = _copy(key, source, values["comment"])
            if isinstance(created, str):
                errors["key"] = [created]
            else:
                flash(_("Created %(key)s version 1.", key=key))
                return redirect(url_for("admin.form_edit", key=key))
    choices = [(key, _title(key)) for key in keys]
    return render_template(
        "admin/form_new.html", choices=choices, values=values, errors=errors
    ), 400 if errors else 200


def _title(key: str) -> str:
    try:
        return get_hotline().forms.get(key).title(lang())
    except FormError:
        return key


def _copy(key: str, source: str, comment: str) -> bool | str:
    """Store a copy of ``source`` (its newest version) as version 1 of ``key``; a problem as
    text (the copy still has to pass the checks)."""
    hotline = get_hotline()
    text, version = _schema_text(source, None)
    document = json.loads(text)
    if isinstance(document, dict):
        document["id"] = key.replace("/", "_")
    note = comment or _("copy of %(key)s", key=source) + (f" v{version}" if version else "")
    try:
        with unit_of_work(db.session):
            form_store.save(
                db.session,
                key=key,
                text=json.dumps(document, ensure_ascii=False),
                author=g.user.username,
                comment=note,
                clock=hotline.clock,
            )
            audit("form.create", target_type="form", target_id=key, copy_of=source)
    except form_store.FormRefused as exc:
        return "; ".join(_error_text(e) for e in exc.errors)
    except IntegrityError:
        return _("A form with this key exists already.")
    return True


def _refused(message: str, status: int):
    return jsonify(ok=False, errors=[{"component": None, "message": message, "text": message}]), (
        status
    )


def _error_text(error: FormError) -> str:
    message = error.message
    if message == form_store.KEEP_FIELD:
        message = _("the hotline reads this field: keep it in the form")
    if error.component:
        return _("Field %(name)s: %(message)s", name=error.component, message=message)
    return message


def _error_json(error: FormError) -> dict[str, Any]:
    return {"component": error.component, "message": error.message, "text": _error_text(error)}
