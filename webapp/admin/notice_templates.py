"""Notification templates: the text of every notice by SMS, e-mail and in the app, in Chinese
and English; an administrator edits one with a preview, and gets the default back.

A template is checked before it is saved (``workflows.notifications.template_admin``): a
variable its notice does not have, or a syntax error, is shown on the form and nothing is
stored. The preview renders the text with a sample case.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.db import unit_of_work
from workflows.notifications import template_admin as admin
from workflows.notifications.notices import (
    AUDIENCE,
    DEFAULT_TEMPLATES,
    NOTICE_NAMES,
    Channel,
    Notice,
    variables,
)
from workflows.notifications.templates import invalidate

from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang as page_lang
from ..sorting import DESC, Sortable, sorted_rows
from . import bp
from .common import admin_only, audit
from .forms import Form, lang_labels


def _channel_labels() -> dict[str, str]:
    return {"sms": _("SMS"), "email": _("E-mail"), "inapp": _("In the app")}


def _audience_labels() -> dict[str, str]:
    return {"citizen": _("Citizens"), "department": _("Departments"), "staff": _("Staff")}


def notice_name(notice: Notice) -> str:
    zh, en = NOTICE_NAMES[notice]
    return en if page_lang() == "en" else zh


def _problem_text(problem: admin.Problem) -> str:
    if problem.kind == "unknown_variable":
        return _(
            "Unknown variable %(name)s: this notice has none by that name (see the list).",
            name=problem.name,
        )
    if problem.kind == "syntax":
        return _("Line %(line)s: %(detail)s", line=problem.line, detail=problem.detail)
    if problem.kind == "empty":
        return _("Required.")
    if problem.kind == "too_long":
        return _("At most %(n)s characters.", n=problem.detail)
    return _("The template cannot be rendered: %(detail)s", detail=problem.detail)


#: the templates' sortable columns (the rows' attributes: a few dozen rows, sorted in
#: memory); without ``sort``, by notice, each notice's channels and languages together
TEMPLATE_SORTS = {
    "notice": Sortable(("notice",)),
    "channel": Sortable(("channel",)),
    "lang": Sortable(("lang",)),
    "state": Sortable(("edited",), first=DESC),
}


@bp.get("/templates")
@admin_only
def notice_templates():
    rows, sorting = sorted_rows(admin.template_rows(db.session), TEMPLATE_SORTS)
    return render_template(
        "admin/notice_templates.html",
        rows=rows,
        sorting=sorting,
        notices=list(Notice),
        names={n: notice_name(n) for n in Notice},
        channels=_channel_labels(),
        langs=lang_labels(),
        audiences=_audience_labels(),
        audience={n: str(AUDIENCE[n]) for n in Notice},
        segments={
            (r.notice, r.lang): admin.sms_segments(admin.preview(r.notice, "", r.body, r.lang)[1])
            for r in rows
            if r.channel == Channel.SMS
        },
    )


def _row(notice: str, channel: str, lang: str) -> admin.TemplateRow:
    try:
        return admin.template_row(db.session, notice=notice, channel=channel, lang=lang)
    except LookupError:
        abort(404)


def _page(row: admin.TemplateRow, form: Form, status: int = 200):
    subject = form.values.get("subject", "")
    body = form.values.get("body", "")
    rendered = None
    if form.ok:
        rendered = admin.preview(row.notice, subject, body, row.lang)
    return render_template(
        "admin/notice_template_form.html",
        row=row,
        form=form,
        name=notice_name(row.notice),
        channels=_channel_labels(),
        langs=lang_labels(),
        variables=variables(row.notice),
        samples=admin.sample_values(row.notice, row.lang),
        rendered=rendered,
        segments=admin.sms_segments(rendered[1]) if rendered else 0,
        length=len(rendered[1]) if rendered else 0,
        segment_chars=admin.sms_limit(rendered[1])[0] if rendered else admin.SMS_SEGMENT,
        default=DEFAULT_TEMPLATES[(row.notice, row.channel, row.lang)],
    ), status


@bp.route("/templates/<notice>/<channel>/<lang>", methods=["GET", "POST"])
@admin_only
def notice_template_edit(notice: str, channel: str, lang: str):
    row = _row(notice, channel, lang)
    if request.method == "GET":
        return _page(row, Form.of({"subject": row.subject, "body": row.body}))
    form = Form(request.form)
    subject = form.raw("subject") if row.channel == Channel.EMAIL else ""
    body = (request.form.get("body") or "").replace("\r\n", "\n").strip()
    form.values["body"] = body
    for field, found in admin.problems(row.notice, row.channel, subject, body).items():
        for problem in found:
            form.error(field, _problem_text(problem))
    if not form.ok:
        return _page(row, form, 400)
    if request.form.get("action") == "preview":
        return _page(row, form)
    hotline = get_hotline()
    try:
        with unit_of_work(db.session):
            admin.save_template(
                db.session,
                notice=row.notice,
                channel=row.channel,
                lang=row.lang,
                subject=subject,
                body=body,
                by=g.user.username,
                now=hotline.clock.now(),
            )
            audit(
                "template.update",
                target_type="template",
                target_id=f"{row.notice}/{row.channel}/{row.lang}",
                subject=subject,
                body=body,
            )
    except admin.TemplateInvalid as exc:  # checked above; kept for a race with the catalogue
        db.session.rollback()
        for field, found in exc.problems.items():
            for problem in found:
                form.error(field, _problem_text(problem))
        return _page(row, form, 400)
    invalidate()  # committed now: no render in this process may keep the old text
    flash(_("Template %(name)s (%(channel)s, %(lang)s) saved.", **_labels(row)))
    return redirect(url_for("admin.notice_templates", _anchor=f"n-{row.notice}"))


def _labels(row: admin.TemplateRow) -> dict[str, str]:
    return {
        "name": notice_name(row.notice),
        "channel": _channel_labels()[row.channel],
        "lang": lang_labels()[row.lang],
    }


@bp.post("/templates/<notice>/<channel>/<lang>/reset")
@admin_only
def notice_template_reset(notice: str, channel: str, lang: str):
    row = _row(notice, channel, lang)
    with unit_of_work(db.session):
        removed = admin.reset_template(
            db.session, notice=row.notice, channel=row.channel, lang=row.lang
        )
        if removed:
            audit(
                "template.reset",
                target_type="template",
                target_id=f"{row.notice}/{row.channel}/{row.lang}",
            )
    if removed:
        invalidate()
        flash(_("Template %(name)s (%(channel)s, %(lang)s) is the default again.", **_labels(row)))
    else:
        flash(
            _("Template %(name)s (%(channel)s, %(lang)s) was the default already.", **_labels(row))
        )
    return redirect(
        url_for("admin.notice_template_edit", notice=row.notice, channel=row.channel, lang=row.lang)
    )
