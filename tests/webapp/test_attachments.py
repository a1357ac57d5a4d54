"""Attachments: kinds checked from the bytes (not the name), size limits, thumbnails, upload on
the case page and at intake, downloads with safe headers, who may see them, and retention."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from tests.webapp.pages import csrf_token
from tests.webapp.test_cases_pages import close_on_time, dispatched
from tests.workflows.conftest import INTAKE
from webapp.cli import cli
from webapp.extensions import db
from workflows.attachments import files as f
from workflows.attachments.models import Attachment
from workflows.cases.models import Case


def png(width=40, height=30, color=(200, 30, 30), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg(width=800, height=600, *, orientation: int | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # a camera's make: metadata a thumbnail must not carry
    if orientation:
        exif[0x0112] = orientation
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"


# -- what a file is ------------------------------------------------------------------------


def test_kinds_come_from_the_bytes_not_the_name():
    assert f.detect(png()).content_type == "image/png"
    assert f.detect(jpeg()).content_type == "image/jpeg"
    assert f.detect(b"%PDF-1.7\n1 0 obj\n").content_type == "application/pdf"
    assert f.detect("现场情况说明：井盖缺失。\n".encode()).content_type == "text/plain"
    for refused in (HTML, b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"MZ\x90\x00\x03",
                    b"\x00\x01\x02binary", b""):  # fmt: skip
        with pytest.raises(f.Refused):
            f.detect(refused)


def test_office_documents_are_recognised_inside_their_zip():
    import zipfile

    def zipped(parts: dict[str, str]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for name, body in parts.items():
                archive.writestr(name, body)
        return out.getvalue()

    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    docx = zipped({"[Content_Types].xml": f'<Types><Override ContentType="{main}"/></Types>',
                   "word/document.xml": "<w:document/>"})  # fmt: skip
    assert f.detect(docx).extension == "docx"
    with pytest.raises(f.Refused):  # any other zip
        f.detect(zipped({"evil.exe": "MZ"}))


def test_a_thumbnail_is_small_upright_and_without_metadata():
    thumb = f.thumbnail(jpeg(800, 600, orientation=6))  # 6: the camera was turned
    with Image.open(io.BytesIO(thumb)) as image:
        assert max(image.size) == f.THUMB_SIZE
        assert image.size == (240, 320)  # turned upright: taller than wide
        assert not image.getexif()
    transparent = f.thumbnail(png(mode="RGBA", color=(0, 0, 0, 0)))
    assert f.thumbnail_type(transparent) == "image/png"


def test_the_store_never_takes_a_path_from_outside(tmp_path):
    store = f.FileStore(tmp_path)
    key = store.put(b"abc")
    assert store.read(key) == b"abc" and not list(tmp_path.rglob("*.part"))
    for bad in ("../../etc/passwd", "ab/../../x", "/etc/passwd"):
        with pytest.raises(ValueError):
            store.read(bad)


# -- pages ---------------------------------------------------------------------------------


def attach(client, number: str, *files: tuple[str, bytes]):
    token = csrf_token(client, f"/cases/{number}")
    return client.post(
        f"/cases/{number}/attachments",
        data={"csrf_token": token, "attachments": [(io.BytesIO(d), n) for n, d in files]},
        content_type="multipart/form-data",
    )


def rows(app, number: str) -> list[Attachment]:
    with app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.number == number))
        found = db.session.scalars(select(Attachment).where(Attachment.case_id == case_id)).all()
        db.session.expunge_all()
        return found


def stored(app) -> list[Path]:
    root = Path(app.config["FILES_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_photo_attached_on_the_case_page_shows_as_a_thumbnail(hotline_app, as_role):
    number = dispatched(hotline_app)
    client = as_role("handler")
    response = attach(client, number, ("现场照片.jpg", jpeg()), ("说明.txt", "井盖缺失".encode()))
    assert response.status_code == 303
    html = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "已上传2个附件。" in html
    photo, note = rows(hotline_app, number)
    assert (photo.content_type, photo.source, photo.uploaded_by) == ("image/jpeg", "note", "h_mr")
    assert photo.thumb_key and note.thumb_key is None and len(stored(hotline_app)) == 3
    assert f"/cases/{number}/attachments/{photo.id}/thumb" in html and "现场照片.jpg" in html
    image = client.get(f"/cases/{number}/attachments/{photo.id}")
    assert image.mimetype == "image/jpeg" and image.data == jpeg()
    assert image.headers["Content-Disposition"].startswith("inline;")
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    text = client.get(f"/cases/{number}/attachments/{note.id}")
    assert text.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E8%AF%B4%E6%98%8E.txt" in text.headers["Content-Disposition"]
    thumb = client.get(f"/cases/{number}/attachments/{photo.id}/thumb")
    assert thumb.mimetype == "image/jpeg" and len(thumb.data) < len(jpeg())


def test_a_disguised_or_oversized_file_is_refused_and_nothing_is_kept(hotline_app, as_role):
    number = dispatched(hotline_app)
    client = as_role("supervisor")
    # one good file and one HTML named like a photo: neither is kept
    attach(client, number, ("ok.png", png()), ("photo.jpg", HTML))
    html = client.get(f"/cases/{number}").get_data(as_text=True)
    assert re.search(r'class="flash error"[^>]*>[^<]*photo\.jpg', html)
    assert rows(hotline_app, number) == [] and stored(hotline_app) == []
    hotline_app.config["FILES_MAX_MB"] = 0.001  # about 1 KB
    attach(client, number, ("big.png", png(400, 400, color=None) + b"x" * 2000))
    html = client.get(f"/cases/{number}").get_data(as_text=True)
    assert re.search(r'class="flash error"[^>]*>[^<]*big\.png[^<]*MB', html)
    assert rows(hotline_app, number) == [] and stored(hotline_app) == []


def test_only_who_may_see_the_case_sees_its_files(hotline_app, as_role):
    number = dispatched(hotline_app, lead="B-MR")
    attach(as_role("supervisor"), number, ("a.png", png()))
    (row,) = rows(hotline_app, number)
    for role in ("handler", "dispatcher", "operator", "callback"):
        assert as_role(role).get(f"/cases/{number}/attachments/{row.id}").status_code == 200
    other = as_role("handler", username="h_bs")
    assert other.get(f"/cases/{number}/attachments/{row.id}").status_code == 404
    assert other.get(f"/cases/{number}/attachments/{row.id}/thumb").status_code == 404
    assert attach(other, number, ("b.png", png())).status_code == 404
    # another case's number with this file's id: not found
    second = dispatched(hotline_app)
    assert as_role("supervisor").get(f"/cases/{second}/attachments/{row.id}").status_code == 404


def test_photos_attached_at_intake_go_with_the_case_or_not_at_all(hotline_app, as_role):
    client = as_role("operator")
    token = csrf_token(client, "/intake")
    data = {**INTAKE, "csrf_token": token, "attachments": [(io.BytesIO(jpeg()), "site.jpg")]}
    response = client.post("/intake", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with hotline_app.app_context():
        number = db.session.scalar(select(Case.number).order_by(Case.id.desc()))
    (row,) = rows(hotline_app, number)
    assert row.source == "intake" and row.uploaded_by == "op1"
    # a refused file: the case is not recorded, the form says why
    cases_before = _count_cases(hotline_app)
    token = csrf_token(client, "/intake")
    data = {**INTAKE, "csrf_token": token, "attachments": [(io.BytesIO(HTML), "site.jpg")]}
    response = client.post("/intake", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "site.jpg" in response.get_data(as_text=True)
    assert _count_cases(hotline_app) == cases_before and len(stored(hotline_app)) == 2


def _count_cases(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Case.id)).all())


def test_retention_removes_a_cases_files_with_its_personal_data(hotline_app, as_role, runner):
    from webapp.hotline import get_hotline

    number = dispatched(hotline_app)
    attach(as_role("supervisor"), number, ("a.png", png()), ("b.txt", b"notes"))
    close_on_time(hotline_app, number)
    keep = dispatched(hotline_app)  # open: kept
    attach(as_role("supervisor"), keep, ("c.png", png()))
    assert len(stored(hotline_app)) == 5  # two images with thumbnails, one text
    with hotline_app.app_context():
        clock = get_hotline().clock
    clock.advance(timedelta(days=int(hotline_app.config["RETENTION_DAYS"]) + 1))
    result = runner.invoke(cli, ["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "removed 2 attached files" in result.output, result.output
    assert rows(hotline_app, number) == [] and len(rows(hotline_app, keep)) == 1
    assert len(stored(hotline_app)) == 2


def test_the_case_export_holds_the_record_and_its_files(hotline_app, as_role):
    import json
    import zipfile

    from workflows.audit.models import AuditEntry

    number = dispatched(hotline_app)
    attach(as_role("supervisor"), number, ("现场.jpg", jpeg()), ("说明.txt", "井盖".encode()))
    response = as_role("handler").get(f"/cases/{number}/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == f'attachment; filename="case-{number}.zip"'
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        record = json.loads(archive.read("case.json"))
        assert record["number"] == number and record["description"] == INTAKE["description"]
        # the handler's department sees the caller masked, in the export too
        assert record["caller_name"] != INTAKE["caller_name"]
        photo, text = record["attachments"]
        assert (
            archive.read(photo["file"]) == jpeg() and archive.read(text["file"]) == "井盖".encode()
        )
        assert photo["file_name"] == "现场.jpg" and photo["content_type"] == "image/jpeg"
    with hotline_app.app_context():
        assert (
            db.session.scalar(
                select(AuditEntry.action).where(AuditEntry.action == "personal.export")
            )
            == "personal.export"
        )
    assert as_role("handler", username="h_bs").get(f"/cases/{number}/export.zip").status_code == 404


def test_a_reply_carries_its_penalty_notice_or_saves_nothing(hotline_app, as_role):
    from tests.webapp.test_cases_pages import act, ready

    number = dispatched(hotline_app)
    act(hotline_app, number, "sign_for", "h_mr", {"action": "sign"})
    task = ready(hotline_app, number, "handle")
    client = as_role("handler")
    path = f"/tasks/{task.task_id}"
    reply = {"action": "reply", "reply_text": "已责令停业整改，罚款五千元", "result": "resolved"}
    refused = client.post(
        path,
        data={
            **reply,
            "csrf_token": csrf_token(client, path),
            "attachments": [(io.BytesIO(HTML), "罚单.pdf")],
        },  # fmt: skip
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "罚单.pdf" in refused.get_data(as_text=True)
    assert ready(hotline_app, number, "handle").task_id == task.task_id  # still waiting
    assert rows(hotline_app, number) == [] and stored(hotline_app) == []
    notice = b"%PDF-1.4\n% penalty notice\n"
    done = client.post(
        path,
        data={
            **reply,
            "csrf_token": csrf_token(client, path),
            "attachments": [(io.BytesIO(notice), "罚单.pdf")],
        },  # fmt: skip
        content_type="multipart/form-data",
    )
    assert done.status_code in (302, 303), done.get_data(as_text=True)[:500]
    (row,) = rows(hotline_app, number)
    assert (row.source, row.content_type, row.file_name) == ("task", "application/pdf", "罚单.pdf")
