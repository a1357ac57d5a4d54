"""The enrolment QR code, drawn here with segno as inline SVG: the secret never leaves
the server for a QR service, and inline SVG needs no script and no data: image source."""

from __future__ import annotations

import segno
from markupsafe import Markup


def enrolment_qr(uri: str) -> Markup:
    """An ``<svg>`` element showing ``uri`` as a QR code."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="QR", svgclass="totp-qr")
    return Markup(svg)  # segno's own markup; the URI inside it is escaped by segno
