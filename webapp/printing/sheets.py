"""The dispatch sheet (交办单) and the closure sheet (办结单) of a case, as PDF.

A sheet is what a centre files or sends with a case: the centre's name, the title, the case's
number (as text and as a QR code), its record, and at the foot the seal area (盖章处) and the
signature lines. The text is set in reportlab's built-in CID font STSong-Light (like the
evaluation's bulletin): no system font, nothing downloaded. Labels are the page's language.

The caller is shown as the printing user sees the case, except that a confidential caller is
always masked on a sheet (it leaves the system: ``workflows.cases.confidentiality.in_full``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask_babel import gettext as _

#: the sheets there are, and the title of each (translated when built)
KINDS = ("dispatch", "closure")
FONT = "STSong-Light"


@dataclass
class Sheet:
    """What one sheet prints: its title, rows of (label, value), and who seals it."""

    kind: str
    centre: str
    title: str
    number: str
    rows: list[tuple[str, str]]
    #: the unit whose seal the sheet asks for (the lead department, or the centre)
    sealed_by: str
    printed_at: str
    printed_by: str


def _font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _escape(text: str) -> str:
    """Text for a reportlab Paragraph (its markup is XML-like), line breaks kept."""
    escaped = (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("\r\n", "\n").replace("\n", "<br/>")


def _qr(value: str, size: float):
    """The case number as a QR code (reportlab's own, no image files)."""
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(value)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def render(sheet: Sheet) -> bytes:
    """The sheet as an A4 PDF: long texts wrap and flow on to further pages."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    _font()
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=15, wordWrap="CJK")
    label = ParagraphStyle("label", parent=body, textColor=colors.HexColor("#333333"))
    centre = ParagraphStyle("centre", fontName=FONT, fontSize=13, leading=18, alignment=1)
    title = ParagraphStyle("title", fontName=FONT, fontSize=20, leading=28, alignment=1)
    small = ParagraphStyle("small", fontName=FONT, fontSize=8, leading=11)

    width = A4[0] - 40 * mm
    head = Table(
        [
            [
                [
                    Paragraph(_escape(sheet.centre), centre),
                    Paragraph(_escape(sheet.title), title),
                    Paragraph(_escape(_("Case number: %(n)s", n=sheet.number)), centre),
                ],
                _qr(sheet.number, 22 * mm),
            ]
        ],
        colWidths=[width - 26 * mm, 26 * mm],
    )
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    record = Table(
        [[Paragraph(_escape(k), label), Paragraph(_escape(v), body)] for k, v in sheet.rows],
        colWidths=[32 * mm, width - 32 * mm],
        repeatRows=0,
        splitInRow=1,  # a description longer than a page flows on to the next
    )
    record.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
            ]
        )
    )
    seal = Table(
        [
            [
                Paragraph(
                    _escape(_("Handled by:")) + "<br/><br/>" + _escape(_("Checked by:")), body
                ),
                Paragraph(
                    _escape(_("Seal"))
                    + "<br/><br/><br/>"
                    + _escape(sheet.sealed_by)
                    + "<br/>"
                    + _escape(_("Date:      year    month    day")),
                    body,
                ),
            ]
        ],
        colWidths=[width / 2, width / 2],
        rowHeights=[42 * mm],
    )
    seal.setStyle(
        TableStyle(
            [
                ("BOX", (1, 0), (1, 0), 1, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    foot = Paragraph(
        _escape(_("Printed %(when)s by %(who)s", when=sheet.printed_at, who=sheet.printed_by)),
        small,
    )
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{sheet.title} {sheet.number}",
        author=sheet.centre,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    ).build([head, Spacer(1, 6 * mm), record, Spacer(1, 8 * mm), KeepTogether([seal, foot])])
    return buffer.getvalue()
