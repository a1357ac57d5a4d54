"""The bulletin as files: an Excel workbook (openpyxl) and a PDF (reportlab), both from a
bulletin's snapshot. The PDF uses reportlab's built-in CID font STSong-Light (Adobe's
Song typeface, shipped with every PDF reader): nothing is assumed of the machine's fonts."""

from __future__ import annotations

import io
from typing import Any

from .scorecards import level_label

FONT = "STSong-Light"

#: column headings: key -> (Chinese, English)
HEADINGS = {
    "rank": ("排名", "Rank"),
    "unit": ("单位", "Unit"),
    "score": ("得分", "Score"),
    "cases": ("派单量", "Dispatched"),
    "prev_score": ("上月得分", "Last month's score"),
    "prev_rank": ("上月排名", "Last month's rank"),
    "formula": ("计算公式", "Formula"),
    "not_ranked": ("不排名", "not ranked"),
    "revised": ("（申诉后修订）", " (revised after an appeal)"),
    "title": ("{month} 月度考核通报", "Evaluation bulletin {month}"),
    "rankings": ("排名", "Rankings"),
    "best": ("最好", "Best"),
    "worst": ("最差", "Worst"),
    "best_worst": ("最好与最差单位", "Best and worst units"),
    "overdue": ("超期工单", "Overdue cases"),
    "reopened": ("重办工单", "Reopened cases"),
    "trend": ("趋势", "Trend"),
    "number": ("工单编号", "Case number"),
    "department": ("承办单位", "Lead department"),
    "created_at": ("受理时间", "Received"),
    "reply_due": ("答复时限", "Reply by"),
    "reopens": ("重办次数", "Reopens"),
    "month": ("月份", "Month"),
    "average": ("平均得分", "Average score"),
    "ranked": ("参与排名单位数", "Units ranked"),
    "level": ("层级", "Level"),
    "revisions": ("修订记录", "Revisions"),
    "draft": ("（草稿，未发布）", " (draft, not published)"),
}
TREND_NAMES = {
    "on_time_sign_for": ("按时签收率", "On-time sign-for rate"),
    "on_time_closure": ("按时办结率", "On-time closure rate"),
    "satisfaction": ("满意率", "Satisfaction rate"),
    "resolution": ("解决率", "Resolution rate"),
}


def h(key: str, lang: str) -> str:
    zh, en = HEADINGS[key]
    return en if lang == "en" else zh


def _rate(pair: list[int]) -> str:
    n, d = pair
    return f"{n / d * 100:.1f}%" if d else "–"


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def ranking_rows(snapshot: dict[str, Any], lang: str) -> list[tuple[str, list[list[Any]]]]:
    """Per level: (level's label, rows of rank, unit, score, dispatched, last month's score and
    rank, formula)."""
    out = []
    for level, rows in snapshot["levels"].items():
        table = []
        for r in rows:
            name = r["name_en"] if lang == "en" and r.get("name_en") else r["name"]
            if r.get("revised"):
                name += h("revised", lang)
            table.append([
                r["rank"] if r["ranked"] else h("not_ranked", lang),
                name,
                r["score"],
                r["cases"],
                r["prev_score"],
                r["prev_rank"],
                r["formula_en"] if lang == "en" else r["formula_zh"],
            ])  # fmt: skip
        out.append((level_label(level, lang), table))
    return out


def _names(snapshot: dict[str, Any], ids: list[int], lang: str) -> str:
    rows = {r["department_id"]: r for rs in snapshot["levels"].values() for r in rs}
    sep = ", " if lang == "en" else "、"
    return sep.join(
        (rows[i]["name_en"] if lang == "en" and rows[i].get("name_en") else rows[i]["name"])
        + f" ({_score(rows[i]['score'])})"
        for i in ids
        if i in rows
    )


def best_worst_rows(snapshot: dict[str, Any], lang: str) -> list[list[str]]:
    return [
        [
            level_label(level, lang),
            _names(snapshot, snapshot["best"].get(level, []), lang),
            _names(snapshot, snapshot["worst"].get(level, []), lang),
        ]
        for level in snapshot["levels"]
    ]


def case_rows(cases: list[dict[str, Any]]) -> list[list[Any]]:
    return [[c["number"], c["department"], c["created_at"], c["reply_due"], c["reopens"]]
            for c in cases]  # fmt: skip


def trend_rows(snapshot: dict[str, Any]) -> list[list[Any]]:
    return [
        [p["month"], p["average"], p["ranked"], p["dispatched"],
         *(_rate(p[k]) for k in TREND_NAMES)]
        for p in snapshot["trend"]
    ]  # fmt: skip


def _headers(lang: str) -> dict[str, list[str]]:
    trend = [TREND_NAMES[k][1 if lang == "en" else 0] for k in TREND_NAMES]
    return {
        "ranking": [h(k, lang) for k in ("rank", "unit", "score", "cases", "prev_score",
                                         "prev_rank", "formula")],
        "best_worst": [h("level", lang), h("best", lang), h("worst", lang)],
        "cases": [h(k, lang) for k in ("number", "department", "created_at", "reply_due",
                                       "reopens")],
        "trend": [h(k, lang) for k in ("month", "average", "ranked", "cases")] + trend,
    }  # fmt: skip


def title(snapshot: dict[str, Any], lang: str, *, draft: bool = False) -> str:
    text = h("title", lang).format(month=snapshot["month"])
    return text + h("draft", lang) if draft else text


def revision_lines(revisions: dict[str, Any] | None, lang: str) -> list[str]:
    lines = []
    for item in (revisions or {}).get("items", []):
        if lang == "en":
            lines.append(f"{item['at'][:16]}: appeal upheld on case {item.get('case_number', '')}"
                         f", score {_score(item['before'])} → {_score(item['after'])}")  # fmt: skip
        else:
            lines.append(f"{item['at'][:16]}：工单 {item.get('case_number', '')} 申诉成立，"
                         f"得分 {_score(item['before'])} → {_score(item['after'])}")  # fmt: skip
    return lines


# --- Excel -------------------------------------------------------------------------------------


def bulletin_xlsx(
    snapshot: dict[str, Any], lang: str = "zh", *, draft: bool = False,
    revisions: dict[str, Any] | None = None,
) -> bytes:  # fmt: skip
    """Sheets: the rankings (a block per level), best and worst, overdue cases, reopened
    cases, the trend."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    headers = _headers(lang)
    book = Workbook()
    sheet = book.active
    sheet.title = h("rankings", lang)
    sheet.append([title(snapshot, lang, draft=draft)])
    sheet["A1"].font = Font(bold=True, size=14)
    for line in revision_lines(revisions, lang):
        sheet.append([line])
    for label, rows in ranking_rows(snapshot, lang):
        sheet.append([])
        sheet.append([label])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        sheet.append(headers["ranking"])
        for row in rows:
            sheet.append(row)
    sheet.column_dimensions["B"].width = 32
    sheet.column_dimensions["G"].width = 100
    parts = [
        ("best_worst", headers["best_worst"], best_worst_rows(snapshot, lang)),
        ("overdue", headers["cases"], case_rows(snapshot["overdue_cases"])),
        ("reopened", headers["cases"], case_rows(snapshot["reopened_cases"])),
        ("trend", headers["trend"], trend_rows(snapshot)),
    ]
    for key, header, rows in parts:
        page = book.create_sheet(h(key, lang))
        page.append(header)
        for row in rows:
            page.append(row)
        page.column_dimensions["B"].width = 30
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- PDF ---------------------------------------------------------------------------------------


def bulletin_pdf(
    snapshot: dict[str, Any], lang: str = "zh", *, draft: bool = False,
    revisions: dict[str, Any] | None = None,
) -> bytes:  # fmt: skip
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    body = ParagraphStyle("body", fontName=FONT, fontSize=8, leading=11)
    heading = ParagraphStyle("heading", fontName=FONT, fontSize=12, leading=16, spaceBefore=8)
    big = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22)
    style = TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ])  # fmt: skip

    def table(header: list[str], rows: list[list[Any]], widths: list[int] | None = None) -> Table:
        cells = [[Paragraph(_text(v), body) for v in row] for row in [header, *rows]]
        out = Table(cells, colWidths=widths, repeatRows=1)
        out.setStyle(style)
        return out

    headers = _headers(lang)
    story: list[Any] = [Paragraph(title(snapshot, lang, draft=draft), big)]
    for line in revision_lines(revisions, lang):
        story.append(Paragraph(line, body))
    for label, rows in ranking_rows(snapshot, lang):
        story.append(Paragraph(label, heading))
        story.append(table(headers["ranking"], rows, [40, 140, 40, 45, 50, 50, 420]))
    story.append(Paragraph(h("best_worst", lang), heading))
    story.append(table(headers["best_worst"], best_worst_rows(snapshot, lang), [80, 330, 330]))
    for key in ("overdue", "reopened"):
        story.append(Paragraph(h(key, lang), heading))
        story.append(table(headers["cases"], case_rows(snapshot[f"{key}_cases"])))
    story.append(Paragraph(h("trend", lang), heading))
    story.append(table(headers["trend"], trend_rows(snapshot)))
    story.append(Spacer(1, 6))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), title=title(snapshot, "en"),
                            leftMargin=30, rightMargin=30, topMargin=30, bottomMargin=30)  # fmt: skip
    doc.build(story)
    return buffer.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
