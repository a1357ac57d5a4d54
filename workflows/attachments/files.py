"""What a file really is, checked from its bytes; its thumbnail; where its bytes are kept.

The allow-list is short (photos, PDF, plain text, Word and Excel documents), so each allowed
kind is recognised by its own structure rather than by a generic sniffer: an image must open
and verify in Pillow, a PDF must start with ``%PDF-``, a Word or Excel file must be a zip whose
``[Content_Types].xml`` names the document's main part, plain text must be UTF-8 without control
characters and must not look like HTML or script. The name the uploader gave is never trusted:
``photo.jpg`` holding HTML is refused, a PNG named ``scan.pdf`` is stored as the PNG it is.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: the types accepted, by what their bytes say, and the extension a download gets
IMAGES = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp"), "GIF": ("image/gif", "gif")}  # fmt: skip
PDF = ("application/pdf", "pdf")
TEXT = ("text/plain", "txt")
DOCX = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
ALLOWED = "JPEG, PNG, WebP, GIF, PDF, TXT, DOCX, XLSX"
#: a thumbnail's longest side, in pixels
THUMB_SIZE = 320
#: an image larger than this many pixels is refused (a decompression bomb)
MAX_PIXELS = 60_000_000
_MARKUP = re.compile(rb"<\s*(!doctype|html|script|svg|iframe|body|head|\?xml)", re.I)


class Refused(ValueError):
    """A file that is not accepted; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str
    image: bool = False


def _image(data: bytes) -> Kind | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            if fmt not in IMAGES:
                return None
            if image.width * image.height > MAX_PIXELS:
                raise Refused(f"the image is too large ({image.width} x {image.height} pixels)")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, Refused):
            raise
        return None
    except Image.DecompressionBombError:
        raise Refused("the image is too large") from None
    content_type, extension = IMAGES[fmt]
    return Kind(content_type, extension, image=True)


def _office(data: bytes) -> Kind | None:
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names:
                return None
            types = archive.read("[Content_Types].xml")[:200_000]
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError):
        return None
    if b"wordprocessingml.document.main" in types and "word/document.xml" in names:
        return Kind(*DOCX)
    if b"spreadsheetml.sheet.main" in types and "xl/workbook.xml" in names:
        return Kind(*XLSX)
    return None


def _text(data: bytes) -> Kind | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text):
        return None
    if _MARKUP.search(data[:4096]):
        return None
    return Kind(*TEXT)


def detect(data: bytes) -> Kind:
    """The kind of ``data`` from its bytes, or Refused saying what is accepted."""
    if not data:
        raise Refused("the file is empty")
    found = _image(data)
    if found is None and data.startswith(b"%PDF-"):
        found = Kind(*PDF)
    if found is None:
        found = _office(data)
    if found is None:
        found = _text(data)
    if found is None:
        raise Refused(f"this kind of file is not accepted (accepted: {ALLOWED})")
    return found


def thumbnail(data: bytes) -> bytes:
    """A small re-encoded copy of an image (turned as its EXIF says, metadata dropped): a
    JPEG, or a PNG when the image has transparency."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as image:
        image.seek(0)
        small = ImageOps.exif_transpose(image.copy())
    small.thumbnail((THUMB_SIZE, THUMB_SIZE))
    out = io.BytesIO()
    if small.mode in ("RGBA", "LA", "P") and (small.mode != "P" or "transparency" in small.info):
        small.convert("RGBA").save(out, "PNG", optimize=True)
    else:
        small.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def thumbnail_type(thumb: bytes) -> str:
    return "image/png" if thumb.startswith(b"\x89PNG") else "image/jpeg"


_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}$")


class FileStore:
    """Files under one directory (``HOTLINE_FILES_DIR``), by random keys ``ab/abcdef...``:
    never a name the user gave. Written to a temporary file and renamed, so a file is whole
    or absent."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a file key: {key!r}")
        return self.root / key

    def put(self, data: bytes) -> str:
        token = secrets.token_hex(16)
        key = f"{token[:2]}/{token}"
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{token}.part")
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        return key

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str | None) -> None:
        if key:
            self._path(key).unlink(missing_ok=True)
