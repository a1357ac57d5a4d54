"""Attachments on the pages: upload on a case (and at intake), download, thumbnails
(docs/attachments.md). Whoever may see the case sees its files; a file is served as a download
(``Content-Disposition: attachment``) unless it is an image whose type was verified from its
bytes, always with ``nosniff``."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from engine.db import unit_of_work
from workflows.attachments import service
from workflows.attachments.files import FileStore, thumbnail_type
from workflows.attachments.models import Attachment
from workflows.cases.service import get_case
from workflows.errors import FormInvalid
from workflows.users.models import CASE_ROLES

from ..extensions import db
from ..hotline import get_hotline
from ..security import roles_required

bp = Blueprint("attachments", __name__)
#: the form field of the files (pages, the API's multipart)
FIELD = "attachments"


def store() -> FileStore:
    return FileStore(current_app.config["FILES_DIR"])


def limits() -> service.Limits:
    return service.Limits(max_bytes=int(float(current_app.config["FILES_MAX_MB"]) * 1024 * 1024))


def uploads(field: str = FIELD) -> list[service.Upload]:
    """The files of a multipart request's ``field`` (an empty file input sends nothing)."""
    found = []
    for item in request.files.getlist(field):
        data = item.read()
        if not item.filename and not data:
            continue
        found.append(service.Upload(item.filename or "", data))
    return found


def attach(
    case, files: list[service.Upload], *, source: str, field: str = FIELD, by: str = ""
) -> list:
    """``files`` added to ``case`` in the current transaction (FormInvalid naming ``field``);
    by the signed-in user unless ``by`` names who sent them."""
    return service.add(
        db.session,
        store(),
        case=case,
        uploads=files,
        source=source,
        by=by or g.user.username,
        now=get_hotline().clock.now(),
        limits=limits(),
        field_name=field,
    )


@bp.app_template_global("attachments_of")
def attachments_of(case_id: int) -> list[Attachment]:
    return service.of_case(db.session, case_id)


@bp.app_template_global("media_url_of")
def media_url_of(case_id: int) -> str:
    """The photo link an Open311 client sent with the request (shown as a link; the server
    never fetches it), or ""."""
    from sqlalchemy import select

    from workflows.open311.models import Open311Request

    url = db.session.scalar(
        select(Open311Request.media_url).where(Open311Request.case_id == case_id)
    )
    return url if url and url.startswith(("http://", "https://")) else ""


@bp.app_template_global("attachment_sources")
def attachment_sources() -> dict[str, str]:
    """Where a file was attached, in words."""
    return {
        "intake": _("at intake"),
        "note": _("on the case page"),
        "task": _("with a task"),
        "appeal": _("with an appeal"),
        "open311": _("by the citizen (Open311)"),
        "api": _("through the API"),
    }


@bp.app_template_filter("file_size")
def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@bp.post("/cases/<number>/attachments")
@roles_required(*CASE_ROLES)
def upload(number: str):
    case = get_case(db.session, number=number, user=g.user)
    files = uploads()
    back = url_for("cases.show", number=case.number) + "#attachments"
    if not files:
        flash(_("Choose a file to attach."), "error")
        return redirect(back, 303)
    try:
        with unit_of_work(db.session):
            added = attach(case, files, source="note")
    except FormInvalid as exc:
        for message in exc.errors.get(FIELD, []):
            flash(_("Not attached: %(why)s", why=message), "error")
        return redirect(back, 303)
    flash(_("%(n)s file(s) attached.", n=len(added)), "success")
    return redirect(back, 303)


def _served(case_number: str, attachment_id: int) -> Attachment:
    case = get_case(db.session, number=case_number, user=g.user)  # 404 for who may not see it
    row = service.one(db.session, case.id, attachment_id)
    if row is None:
        abort(404)
    return row


def file_response(row: Attachment, data: bytes, *, thumb: bool = False) -> Response:
    """A stored file as the response: images (verified) inline, anything else a download."""
    content_type = thumbnail_type(data) if thumb else row.content_type
    inline = content_type.startswith("image/")
    disposition = "inline" if inline else "attachment"
    ascii_name = "".join(
        c if c.isascii() and c.isalnum() or c in "._-" else "_" for c in row.file_name
    )
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = (
        f'{disposition}; filename="{ascii_name or "file"}"; '
        f"filename*=UTF-8''{quote(row.file_name)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # a file is never a page: no script runs from it even if a browser tried
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/cases/<number>/attachments/<int:attachment_id>")
@roles_required(*CASE_ROLES)
def download(number: str, attachment_id: int):
    row = _served(number, attachment_id)
    try:
        data = store().read(row.storage_key)
    except FileNotFoundError:
        abort(410)
    return file_response(row, data)


@bp.get("/cases/<number>/attachments/<int:attachment_id>/thumb")
@roles_required(*CASE_ROLES)
def thumb(number: str, attachment_id: int):
    row = _served(number, attachment_id)
    if not row.thumb_key:
        abort(404)
    try:
        data = store().read(row.thumb_key)
    except FileNotFoundError:
        abort(410)
    return file_response(row, data, thumb=True)


@bp.get("/cases/<number>/export.zip")
@roles_required(*CASE_ROLES)
def export(number: str):
    """The case as one file to keep or hand over: ``case.json`` (the case as the API shows it
    to this user, its notes and its attachments' details) and the attached files themselves
    under ``files/``. Recorded as an export of the caller's data."""
    import io
    import json
    import zipfile

    from .. import identity
    from ..api.present import case_detail

    case = get_case(db.session, number=number, user=g.user)
    identity.surface("export")
    rows = service.of_case(db.session, case.id)
    notes = flows_notes(case)
    detail = case_detail(case, get_hotline().clock.now())
    detail["notes"] = notes
    detail["attachments"] = [
        {
            "id": r.id,
            "file": f"files/{r.id}-{_zip_name(r.file_name)}",
            "file_name": r.file_name,
            "content_type": r.content_type,
            "size": r.size,
            "sha256": r.sha256,
            "source": r.source,
            "uploaded_by": r.uploaded_by,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]
    buffer = io.BytesIO()
    files = store()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for row, item in zip(rows, detail["attachments"], strict=True):
            try:
                archive.writestr(item["file"], files.read(row.storage_key))
            except FileNotFoundError:
                item["missing"] = True
        archive.writestr("case.json", json.dumps(detail, ensure_ascii=False, indent=2, default=str))
    identity.record([case], "export", attachments=len(rows))
    response = Response(buffer.getvalue(), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="case-{case.number}.zip"'
    return response


def _zip_name(name: str) -> str:
    return "".join(c for c in name if c not in '/\\:*?"<>|') or "file"


def flows_notes(case) -> list[dict]:
    """The case's notes as the export lists them (the caller's data masked as shown)."""
    from sqlalchemy import select

    from workflows.cases.models import CaseNote

    from .. import identity

    who = identity.shown(case)
    return [
        {
            "author": n.author,
            "kind": n.kind,
            "body": who.text(n.body, case),
            "created_at": n.created_at.isoformat(),
        }
        for n in db.session.scalars(
            select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id)
        )
    ]
