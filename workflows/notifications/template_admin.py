"""Administrators' texts for the notices: saving one (checked first), restoring the default,
the list of every template, and the sample values a preview renders with.

A template is saved only when :func:`templates.check` finds nothing wrong with it: a variable
its notice never has, or a Jinja syntax error, refuses it with the name or the line, and the
stored text stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import unit_of_work

from ..errors import DomainError
from .models import NotificationTemplate
from .notices import AUDIENCE, DEFAULT_TEMPLATES, LANGS, Audience, Channel, Notice, variables
from .templates import MAX_TEMPLATE_CHARS, check, invalidate, render_text

#: characters in one Chinese SMS (UCS-2); a longer text is sent in parts of 67 (an all-ASCII
#: text fits 160, in parts of 153: ``sms_limit``)
SMS_SEGMENT = 70
SMS_PART = 67
#: parses and scans a template as ``templates.py`` renders it (its variables, its filters)
_PARSER = SandboxedEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True)
#: longest e-mail subject (the column's size)
MAX_SUBJECT = 300
#: the channels that have templates (webhooks send JSON)
TEMPLATE_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.INAPP)


class TemplateInvalid(DomainError):
    """A template cannot be saved; ``problems`` maps ``subject`` and ``body`` to what is
    wrong with each (naming the variable or the line)."""

    def __init__(self, problems: dict[str, list[Problem]]) -> None:
        super().__init__(
            "; ".join(f"{field}: {', '.join(map(str, found))}" for field, found in problems.items())
        )
        self.problems = problems


@dataclass(frozen=True)
class TemplateRow:
    notice: Notice
    channel: Channel
    lang: str
    subject: str
    body: str
    #: an administrator's text (a row), not the default
    edited: bool
    updated_by: str = ""
    updated_at: datetime | None = None


def exists(notice: Notice, channel: Channel, lang: str) -> bool:
    """Whether this notice has a template for the channel and language."""
    return (notice, channel, lang) in DEFAULT_TEMPLATES


def _key(notice: str, channel: str, lang: str) -> tuple[Notice, Channel, str]:
    try:
        key = (Notice(notice), Channel(channel), lang)
    except ValueError:
        raise LookupError(f"no template for {notice} by {channel} in {lang}") from None
    if not exists(*key):
        raise LookupError(f"no template for {notice} by {channel} in {lang}")
    return key


def template_rows(session: Session) -> list[TemplateRow]:
    """Every template, notice by notice (channel, then language), default or edited."""
    saved = {
        (r.notice, r.channel, r.lang): r for r in session.scalars(select(NotificationTemplate))
    }
    rows = []
    for notice in Notice:
        for channel in TEMPLATE_CHANNELS:
            for lang in LANGS:
                if not exists(notice, channel, lang):
                    continue
                row = saved.get((str(notice), str(channel), lang))
                if row is not None:
                    rows.append(
                        TemplateRow(
                            notice, channel, lang, row.subject, row.body, True,
                            row.updated_by, row.updated_at,
                        )
                    )  # fmt: skip
                else:
                    subject, body = DEFAULT_TEMPLATES[(notice, channel, lang)]
                    rows.append(TemplateRow(notice, channel, lang, subject, body, False))
    return rows


def template_row(session: Session, *, notice: str, channel: str, lang: str) -> TemplateRow:
    """One template; LookupError when the notice has none for that channel and language."""
    key = _key(notice, channel, lang)
    row = session.scalars(
        select(NotificationTemplate).where(
            NotificationTemplate.notice == key[0],
            NotificationTemplate.channel == key[1],
            NotificationTemplate.lang == lang,
        )
    ).first()
    if row is None:
        subject, body = DEFAULT_TEMPLATES[key]
        return TemplateRow(*key, subject, body, False)
    return TemplateRow(*key, row.subject, row.body, True, row.updated_by, row.updated_at)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a template: ``kind`` is empty, too_long, syntax (at ``line``),
    unknown_variable (``name``) or failed (the trial rendering raised ``detail``)."""

    kind: str
    name: str = ""
    line: int | None = None
    detail: str = ""

    def __str__(self) -> str:
        if self.kind == "unknown_variable":
            return f"unknown variable {self.name!r}"
        if self.kind == "syntax":
            return f"line {self.line}: {self.detail}"
        return f"{self.kind}: {self.detail}" if self.detail else self.kind


def problems(notice: Notice, channel: Channel, subject: str, body: str) -> dict[str, list[Problem]]:
    """What is wrong with a template, per field (empty: nothing): what
    :func:`templates.check` refuses (a syntax error, a variable the notice never has, too
    long), then a trial rendering with the sample values (an unknown filter or a failing
    expression shows only then)."""
    found: dict[str, list[Problem]] = {}
    if not body.strip():
        found["body"] = [Problem("empty")]
    elif errors := _checked(notice, body, MAX_TEMPLATE_CHARS):
        found["body"] = errors
    if channel == Channel.EMAIL:
        if not subject.strip():
            found["subject"] = [Problem("empty")]
        elif errors := _checked(notice, subject, MAX_SUBJECT):
            found["subject"] = errors
    return found


def _checked(notice: Notice, text: str, longest: int) -> list[Problem]:
    if len(text) > longest:
        return [Problem("too_long", detail=str(longest))]
    try:
        parsed = _PARSER.parse(text)
        # the variable scan compiles: an unknown filter raises here
        unknown = sorted(meta.find_undeclared_variables(parsed) - set(variables(notice)))
    except TemplateError as exc:
        return [Problem("syntax", line=getattr(exc, "lineno", None) or 1, detail=exc.message)]
    if unknown:
        return [Problem("unknown_variable", name=name) for name in unknown]
    if leftover := check(notice, text):  # the pipeline's own check agrees, or says why not
        return [Problem("failed", detail=message) for message in leftover]
    try:
        render_text(text, sample_values(notice, "zh"))
    except TemplateError as exc:
        return [Problem("syntax", line=getattr(exc, "lineno", None) or 1, detail=exc.message)]
    except Exception as exc:  # an expression that fails (1/0...): refused, never stored
        return [Problem("failed", detail=f"{type(exc).__name__}: {exc}")]
    return []


def save_template(
    session: Session,
    *,
    notice: str,
    channel: str,
    lang: str,
    subject: str,
    body: str,
    by: str,
    now: datetime,
) -> NotificationTemplate:
    """Store an administrator's text for one template, replacing the default (or their
    earlier text). TemplateInvalid, nothing stored, when :func:`problems` finds any;
    LookupError for a template that does not exist."""
    key = _key(notice, channel, lang)
    subject = subject if key[1] == Channel.EMAIL else ""
    found = problems(key[0], key[1], subject, body)
    if found:
        raise TemplateInvalid(found)
    with unit_of_work(session):
        row = session.scalars(
            select(NotificationTemplate).where(
                NotificationTemplate.notice == key[0],
                NotificationTemplate.channel == key[1],
                NotificationTemplate.lang == lang,
            )
        ).first()
        if row is None:
            row = NotificationTemplate(notice=str(key[0]), channel=str(key[1]), lang=lang)
            session.add(row)
        row.subject, row.body, row.updated_by, row.updated_at = subject, body, by, now
        session.flush()
    invalidate()  # this process renders the new text at once; others within the TTL
    return row


def reset_template(session: Session, *, notice: str, channel: str, lang: str) -> bool:
    """Restore the default text (delete the administrator's row); False if there was none.
    LookupError for a template that does not exist."""
    key = _key(notice, channel, lang)
    with unit_of_work(session):
        row = session.scalars(
            select(NotificationTemplate).where(
                NotificationTemplate.notice == key[0],
                NotificationTemplate.channel == key[1],
                NotificationTemplate.lang == lang,
            )
        ).first()
        if row is None:
            return False
        session.delete(row)
    invalidate()
    return True


def sms_limit(text: str) -> tuple[int, int]:
    """(characters in one SMS, characters per part of a longer one) for ``text``: 70 and 67
    when it holds Chinese (UCS-2), 160 and 153 when it is plain ASCII (GSM 7-bit)."""
    return (160, 153) if text.isascii() else (SMS_SEGMENT, SMS_PART)


def sms_segments(text: str) -> int:
    """How many SMS a text is sent as: one up to :func:`sms_limit`, else parts of the smaller
    size (the rest of each part carries the join)."""
    single, part = sms_limit(text)
    if len(text) <= single:
        return 1 if text else 0
    return -(-len(text) // part)


_SAMPLES: dict[str, dict[str, str]] = {
    "zh": {
        "case_number": "JM2026120400123",
        "case_type": "投诉",
        "category": "噪音扰民",
        "urgency": "一般",
        "centre": "江门12345",
        "link": "https://12345.example/cases/JM2026120400123",
        "department": "城市管理和综合执法局",
        "lead_department": "城市管理和综合执法局",
        "reply_due": "2026-12-11 18:00",
        "reply_limit": "5个工作日",
        "sign_due": "2026-12-04 17:30",
        "due": "2026-12-09 18:00",
        "deadline": "答复时限",
        "task": "签收",
        "summary": "夜间22点后工地仍在施工，噪音很大，请求查处。",
        "body": "已安排执法人员今晚到现场核查。",
        "outcome": "已解决",
        "note": "请于今日内联系市民并反馈处理进展。",
        "decision": "同意退回，改派蓬江区",
        "what": "短信网关连续5次发送失败",
        "error": "HTTP 503 Service Unavailable",
    },
    "en": {
        "case_number": "JM2026120400123",
        "case_type": "complaint",
        "category": "noise",
        "urgency": "normal",
        "centre": "Jiangmen 12345",
        "link": "https://12345.example/cases/JM2026120400123",
        "department": "Urban Management Bureau",
        "lead_department": "Urban Management Bureau",
        "reply_due": "2026-12-11 18:00",
        "reply_limit": "5 working days",
        "sign_due": "2026-12-04 17:30",
        "due": "2026-12-09 18:00",
        "deadline": "the reply deadline",
        "task": "sign for the case",
        "summary": "A building site works after 22:00 and is very loud; please stop it.",
        "body": "An inspector will check the site tonight.",
        "outcome": "resolved",
        "note": "Call the citizen today and report back.",
        "decision": "accepted, re-dispatched to Pengjiang District",
        "what": "the SMS gateway failed 5 times in a row",
        "error": "HTTP 503 Service Unavailable",
    },
}


#: the appeals' (申诉) own samples: their ``decision`` is not a return's
_APPEAL_SAMPLES: dict[str, dict[str, str]] = {
    "zh": {
        "ground": "超期",
        "reason": "该件涉及多部门现场核查，已于时限内电话告知市民办理进度。",
        "filed_by": "h_um",
        "decision": "申诉成立，该案件不再计入考核",
    },
    "en": {
        "ground": "overdue",
        "reason": "Several units had to inspect the site; the citizen was told in time.",
        "filed_by": "h_um",
        "decision": "upheld: the case leaves your figures",
    },
}


def sample_values(notice: Notice, lang: str) -> dict[str, Any]:
    """Realistic values for a preview of ``notice`` in ``lang``: a noise complaint dispatched
    to the urban management bureau, deadlines in local time. Only the notice's variables
    (``notices.variables``) are given, as at run time."""
    values = _SAMPLES.get(lang, _SAMPLES["zh"])
    if Notice(notice) in (Notice.APPEAL_FILED, Notice.APPEAL_DECIDED):
        values = values | _APPEAL_SAMPLES.get(lang, _APPEAL_SAMPLES["zh"])
    return {name: values.get(name, "") for name in variables(Notice(notice))}


def preview(notice: Notice, subject: str, body: str, lang: str) -> tuple[str, str]:
    """(subject, body) rendered with :func:`sample_values` (call after :func:`problems`)."""
    values = sample_values(notice, lang)
    return (render_text(subject, values) if subject else ""), render_text(body, values)


def is_citizen_notice(notice: Notice) -> bool:
    return AUDIENCE[notice] == Audience.CITIZEN
