"""Hot-topic waves' pages (the centre: supervisors, leads, administrators): the list, a wave
with its cases and daily trend, and its actions: tag its cases, merge duplicates into a
master, pin a knowledge-base article every intake page shows while the wave is open, and the
trend report for regulators (CSV, Excel). Detection is ``workflows/insight/waves.py``."""

from __future__ import annotations

import csv
import io
from collections import Counter

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.db import unit_of_work
from engine.errors import EngineError
from workflows.cases import flows
from workflows.cases.models import Case
from workflows.insight.models import CaseTag, Wave
from workflows.insight.text import segmenter
from workflows.insight.waves import WaveSettings, daily_counts, pinned_for_intake, wave_cases
from workflows.knowledge.models import Article
from workflows.users.models import Role

from ..cases.labels import Labels
from ..error_messages import translated
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang, tz
from ..pagination import paginate
from ..security import roles_required
from ..sorting import DESC, Sortable, apply_sort

bp = Blueprint("waves", __name__, url_prefix="/insight/waves")

CENTRE = (Role.SUPERVISOR, Role.LEAD, Role.ADMIN)
#: who merges cases (``flows.merge_case`` refuses the others)
MERGERS = (Role.SUPERVISOR, Role.ADMIN)
TAG_CHARS = 40


def _settings() -> WaveSettings:
    return WaveSettings.from_config(current_app.config)


def _wave(wave_id: int) -> Wave:
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        abort(404)
    return wave


def _cases(wave: Wave) -> list[Case]:
    now = get_hotline().clock.now()
    return list(db.session.scalars(wave_cases(wave, now=now, window=_settings().window)))


@bp.app_template_global("wave_banners")
def wave_banners():
    """The articles pinned to open waves (intake/_wave_banner.html)."""
    return pinned_for_intake(db.session)


@bp.app_template_global("case_tags")
def case_tags(case_id: int) -> list[str]:
    """A case's tags (insight/_case_tags.html)."""
    return list(
        db.session.scalars(
            select(CaseTag.tag).where(CaseTag.case_id == case_id).order_by(CaseTag.tag)
        )
    )


@bp.get("")
@roles_required(*CENTRE)
def index():
    waves = db.session.scalars(
        select(Wave).order_by((Wave.status == "open").desc(), Wave.started_at.desc()).limit(200)
    ).all()
    return render_template("insight/waves.html", waves=waves)


#: the sortable columns of a wave's cases (a few hundred at most); without ``sort``, the newest
#: first
WAVE_CASE_SORTS = {
    "number": Sortable((Case.number,), first=DESC),
    "created": Sortable((Case.created_at,), first=DESC),
    "category": Sortable((Case.category,)),
    "area": Sortable((Case.area,)),
    "status": Sortable((Case.status,)),
}


@bp.get("/<int:wave_id>")
@roles_required(*CENTRE)
def show(wave_id: int):
    wave = _wave(wave_id)
    query = wave_cases(wave, now=get_hotline().clock.now(), window=_settings().window)
    sorted_query, sorting = apply_sort(query, WAVE_CASE_SORTS, (Case.id,))
    page = paginate(db.session, sorted_query)
    page.sorting = sorting
    zone = tz()
    created = select(query.subquery().c.created_at)
    trend = daily_counts(db.session.scalars(created), zone)
    articles = db.session.scalars(
        select(Article).where(Article.active.is_(True)).order_by(Article.title)
    ).all()
    pinned = db.session.get(Article, wave.pinned_article_id) if wave.pinned_article_id else None
    chart = {
        "labels": [d for d, _n in trend],
        "counts": [n for _d, n in trend],
        "label": _("Cases per day"),
    }
    return render_template(
        "insight/wave.html",
        wave=wave,
        page=page,
        cases=page.items,
        total=page.total,
        labels=Labels(db.session, lang()),
        chart=chart,
        articles=articles,
        pinned=pinned,
        can_merge=g.user.role in {str(r) for r in MERGERS},
        zone=zone,
    )


@bp.post("/<int:wave_id>/tag")
@roles_required(*CENTRE)
def tag(wave_id: int):
    wave = _wave(wave_id)
    text = (request.form.get("tag") or "").strip()
    if not text or len(text) > TAG_CHARS:
        flash(_("Tag: between 1 and %(n)s characters.", n=TAG_CHARS), "error")
        return redirect(url_for("waves.show", wave_id=wave.id))
    cases = _cases(wave)
    now = get_hotline().clock.now()
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    with unit_of_work(db.session):
        if cases:
            db.session.execute(
                insert(CaseTag).on_conflict_do_nothing(),
                [
                    {"case_id": c.id, "tag": text, "created_by": g.user.username, "created_at": now}
                    for c in cases
                ],
            )
        wave.tag = text
    flash(_("%(n)s cases tagged “%(tag)s”.", n=len(cases), tag=text), "success")
    return redirect(url_for("waves.show", wave_id=wave.id))


@bp.post("/<int:wave_id>/merge")
@roles_required(*MERGERS)
def merge(wave_id: int):
    wave = _wave(wave_id)
    master = (request.form.get("master") or "").strip()
    chosen = [n.strip() for n in request.form.getlist("cases") if n.strip()]
    in_wave = {c.number for c in _cases(wave)}
    if not master:
        flash(_("Master case: choose one."), "error")
        return redirect(url_for("waves.show", wave_id=wave.id))
    if not chosen:
        flash(_("Cases: select the duplicates to merge."), "error")
        return redirect(url_for("waves.show", wave_id=wave.id))
    merged, refused = [], []
    for number in chosen:
        if number == master:
            continue
        if number not in in_wave:
            refused.append((number, _("not a case of this wave")))
            continue
        try:
            flows.merge_case(
                db.session,
                get_hotline(),
                duplicate_number=number,
                master_number=master,
                user=g.user,
                reason=_("hot-topic wave %(label)s", label=wave.label),
            )
            merged.append(number)
        except EngineError as exc:
            db.session.rollback()
            refused.append((number, translated(str(exc))))
    if merged:
        flash(
            _("Merged into %(master)s: %(cases)s.", master=master, cases=", ".join(merged)),
            "success",
        )
    for number, reason in refused:
        flash(_("Case %(number)s not merged: %(reason)s", number=number, reason=reason), "error")
    return redirect(url_for("waves.show", wave_id=wave.id))


@bp.post("/<int:wave_id>/pin")
@roles_required(*CENTRE)
def pin(wave_id: int):
    wave = _wave(wave_id)
    raw = (request.form.get("article") or "").strip()
    article = None
    if raw:
        article = db.session.get(Article, int(raw)) if raw.isdigit() else None
        if article is None or not article.active:
            flash(_("Article: choose an active article of the knowledge base."), "error")
            return redirect(url_for("waves.show", wave_id=wave.id))
    with unit_of_work(db.session):
        wave.pinned_article_id = article.id if article else None
    if article:
        flash(
            _(
                "“%(title)s” is shown on every intake page while the wave is open.",
                title=article.title,
            ),
            "success",
        )
    else:
        flash(_("The clarification is no longer shown at intake."), "success")
    return redirect(url_for("waves.show", wave_id=wave.id))


def report_rows(wave: Wave) -> list[list[str]]:
    """The trend report: the wave, then per day the cases, their categories and areas, then
    the top words and the clarification."""
    cases = _cases(wave)
    zone = tz()
    by_day: dict[str, list[Case]] = {}
    for c in sorted(cases, key=lambda c: c.created_at):
        by_day.setdefault(c.created_at.astimezone(zone).date().isoformat(), []).append(c)
    pinned = db.session.get(Article, wave.pinned_article_id) if wave.pinned_article_id else None
    rows: list[list[str]] = [
        [_("Hot-topic wave"), wave.label],
        [_("Wave key"), f"{wave.kind}: {wave.key}"],
        [_("Wave status"), _("Open") if wave.status == "open" else _("Ended")],
        [_("Started"), wave.started_at.astimezone(zone).isoformat(timespec="minutes")],
        [
            _("Ended"),
            wave.ended_at.astimezone(zone).isoformat(timespec="minutes") if wave.ended_at else "",
        ],
        [_("Wave cases"), str(len(cases))],
        [_("Peak count in a window"), str(wave.peak_count)],
        [_("Usual count in a window"), f"{wave.baseline:g}"],
        [_("Clarification"), f"{pinned.title}: {pinned.body}" if pinned else ""],
        [],
        [_("Day"), _("Wave cases"), _("Categories"), _("Areas")],
    ]
    for day, _n in daily_counts([c.created_at for c in cases], zone):
        day_cases = by_day.get(day, [])
        cats = Counter(c.category or "-" for c in day_cases)
        areas = Counter(c.area or "-" for c in day_cases)
        rows.append(
            [
                day,
                str(len(day_cases)),
                "; ".join(f"{k} {v}" for k, v in cats.most_common()),
                "; ".join(f"{k} {v}" for k, v in areas.most_common()),
            ]
        )
    rows += [[], [_("Top words"), _("Wave cases")]]
    for word, n in segmenter(db.session).top((c.description for c in cases), 20):
        rows.append([word, str(n)])
    return rows


def _safe(cell: str) -> str:
    # a cell a spreadsheet would run as a formula starts with a quote
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


@bp.get("/<int:wave_id>/report")
@roles_required(*CENTRE)
def report(wave_id: int):
    wave = _wave(wave_id)
    fmt = request.args.get("format", "csv")
    rows = report_rows(wave)
    name = f"wave-{wave.id}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        for row in rows:
            writer.writerow([_safe(c) for c in row])
        return Response(
            "\ufeff" + out.getvalue(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f"attachment; filename={name}.csv"},
        )
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "wave"
        for row in rows:
            sheet.append([_safe(c) for c in row])
        out = io.BytesIO()
        book.save(out)
        return Response(
            out.getvalue(),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f"attachment; filename={name}.xlsx"},
        )
    if fmt == "pdf":
        return Response(
            _pdf(wave, rows),
            mimetype="application/pdf",
            headers={"Content-Disposition": f"attachment; filename={name}.pdf"},
        )
    abort(404)


def _pdf(wave: Wave, rows: list[list[str]]) -> bytes:
    """The report's sections (split at its empty rows) as tables, in reportlab's built-in
    Chinese font (like the evaluation's bulletin, workflows/evaluation/documents.py)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from workflows.evaluation.documents import FONT, _text

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    body = ParagraphStyle("body", fontName=FONT, fontSize=8, leading=11)
    big = ParagraphStyle("title", fontName=FONT, fontSize=14, leading=20)
    style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )
    sections: list[list[list[str]]] = [[]]
    for row in rows:
        if row:
            sections[-1].append(row)
        else:
            sections.append([])
    story: list = [Paragraph(_text(f"{_('Hot-topic wave')} · {wave.label}"), big)]
    for section in sections:
        if not section:
            continue
        width = max(len(r) for r in section)
        cells = [[Paragraph(_text(c), body) for c in r + [""] * (width - len(r))] for r in section]
        table = Table(cells, repeatRows=0)
        table.setStyle(style)
        story += [table, Spacer(1, 8)]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer, pagesize=A4, title=f"wave {wave.id}", leftMargin=30, rightMargin=30
    ).build(story)
    return buffer.getvalue()
