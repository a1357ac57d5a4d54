"""``/api/v1/cases/{number}/attachments``: a case's files, listed, added (multipart) and
downloaded, for whoever may see the case (docs/attachments.md)."""

from __future__ import annotations

from flask import g, url_for
from flask.views import MethodView
from flask_smorest import abort

from engine.db import unit_of_work
from engine.errors import NotFound
from workflows.attachments import service
from workflows.attachments.models import Attachment
from workflows.cases.service import get_case
from workflows.errors import FormInvalid
from workflows.users.models import CASE_ROLES

from .. import attachments as pages
from ..extensions import db
from ..printing import KINDS as SHEETS
from ..printing import sheet_response
from . import schemas as s
from .auth import roles
from .blueprint import ApiBlueprint
from .errors import ErrorSchema
from .present import json_response

blp = ApiBlueprint(
    "api-attachments",
    __name__,
    url_prefix="/api/v1/cases",
    description="A case's attachments: photos of the site, documents.",
)

UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        pages.FIELD: {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "one to ten files: JPEG, PNG, WebP, GIF, PDF, "
                            "TXT, DOCX, XLSX (the type is read from the bytes)",
                        }
                    },
                    "required": [pages.FIELD],
                }
            }
        },
    }
}


def _case(number: str):
    try:
        return get_case(db.session, number=number, user=g.user)
    except NotFound:
        abort(404, message=f"case {number} does not exist")


def _item(number: str, row: Attachment) -> dict:
    return {
        "id": row.id,
        "file_name": row.file_name,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "source": row.source,
        "uploaded_by": row.uploaded_by,
        "created_at": row.created_at,
        "url": url_for("api-attachments.AttachmentFile", number=number, attachment_id=row.id),
        "thumbnail_url": url_for(
            "api-attachments.AttachmentThumbnail", number=number, attachment_id=row.id
        )
        if row.thumb_key
        else None,
    }


@blp.route("/<number>/attachments")
class Attachments(MethodView):
    @roles(*CASE_ROLES)
    @blp.response(200, s.AttachmentListSchema)
    def get(self, number: str):
        """The case's files, oldest first."""
        case = _case(number)
        items = [_item(number, r) for r in service.of_case(db.session, case.id)]
        return json_response(s.AttachmentListSchema().dump({"number": number, "items": items}))

    @roles(*CASE_ROLES)
    @blp.doc(**UPLOAD)
    @blp.response(201, s.AttachmentListSchema)
    def post(self, number: str):
        """Attach files (multipart/form-data, field ``attachments``). All or none: a refused
        file (its kind read from its bytes, or too large) is a 422 naming it, and nothing is
        kept."""
        case = _case(number)
        files = pages.uploads()
        if not files:
            abort(
                422,
                errors={pages.FIELD: ["send one or more files as multipart/form-data"]},
            )
        try:
            with unit_of_work(db.session):
                rows = pages.attach(case, files, source="api")
        except FormInvalid as exc:
            abort(422, errors=exc.errors)
        items = [_item(number, r) for r in rows]
        return json_response(s.AttachmentListSchema().dump({"number": number, "items": items}), 201)


@blp.route("/<number>/attachments/<int:attachment_id>")
class AttachmentFile(MethodView):
    @roles(*CASE_ROLES)
    @blp.response(200, description="the file's bytes (an image inline, anything else a download)")
    def get(self, number: str, attachment_id: int):
        """One file's bytes, with its verified type."""
        case = _case(number)
        row = service.one(db.session, case.id, attachment_id)
        if row is None:
            abort(404, message=f"case {number} has no attachment {attachment_id}")
        try:
            data = pages.store().read(row.storage_key)
        except FileNotFoundError:
            abort(410, message=f"the file of attachment {attachment_id} is gone")
        return pages.file_response(row, data)


@blp.route("/<number>/attachments/<int:attachment_id>/thumbnail")
class AttachmentThumbnail(MethodView):
    @roles(*CASE_ROLES)
    @blp.response(200, description="an image's thumbnail (JPEG or PNG, at most 320 px)")
    def get(self, number: str, attachment_id: int):
        """An image's thumbnail; 404 for a file that is not an image."""
        case = _case(number)
        row = service.one(db.session, case.id, attachment_id)
        if row is None or not row.thumb_key:
            abort(404, message=f"case {number} has no image attachment {attachment_id}")
        try:
            data = pages.store().read(row.thumb_key)
        except FileNotFoundError:
            abort(410, message=f"the thumbnail of attachment {attachment_id} is gone")
        return pages.file_response(row, data, thumb=True)


@blp.route("/<number>/sheets/<kind>")
class CaseSheet(MethodView):
    @roles(*CASE_ROLES)
    @blp.doc(
        parameters=[
            {
                "name": "kind",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": list(SHEETS)},
                "description": "dispatch: the dispatch sheet (交办单); closure: the closure "
                "sheet (办结单)",
            }
        ]
    )
    @blp.response(
        200,
        description="the sheet as a PDF (a download); printing it is recorded in the case's "
        "access log, a confidential caller masked",
        content_type="application/pdf",
    )
    @blp.alt_response(
        409,
        schema=ErrorSchema,
        description="the case has no such sheet yet (not dispatched; no reply)",
    )
    def get(self, number: str, kind: str):
        """A case's dispatch or closure sheet as PDF (docs/printing.md), in the language the
        request asks for (``Accept-Language``; Chinese by default)."""
        if kind not in SHEETS:
            abort(404, message=f"there is no sheet {kind}: one of {', '.join(SHEETS)}")
        case = _case(number)
        made = sheet_response(case, kind)
        if isinstance(made, tuple):
            abort(made[0], message=made[1])
        return made
