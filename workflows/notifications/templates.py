"""Rendering the notices' texts, and checking an administrator's template before it is saved.

Templates are Jinja2 in a sandbox (``SandboxedEnvironment``: no attribute tricks reach
Python), autoescape off (SMS and plain-text mail), ``StrictUndefined`` off: a variable a
notice does not have at run time renders empty, but a template naming a variable its notice
never has is refused when saved (:func:`check`).
"""

from __future__ import annotations

import threading
import time
import weakref
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import NotificationTemplate
from .notices import DEFAULT_TEMPLATES, Channel, Notice, variables

_ENV = SandboxedEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True)

#: longest template an administrator may save
MAX_TEMPLATE_CHARS = 2000


@lru_cache(maxsize=512)
def _compiled(text: str):
    return _ENV.from_string(text)


def check(notice: Notice, text: str) -> list[str]:
    """What is wrong with a template of ``notice`` (empty: nothing), in words naming the
    variable or the line."""
    if len(text) > MAX_TEMPLATE_CHARS:
        return [f"the template is longer than {MAX_TEMPLATE_CHARS} characters"]
    try:
        parsed = _ENV.parse(text)
        _ENV.compile(parsed)  # an unknown filter or test is found when compiling
    except TemplateSyntaxError as exc:  # TemplateAssertionError is one too
        return [f"line {exc.lineno}: {exc.message}"]
    allowed = set(variables(notice))
    unknown = sorted(meta.find_undeclared_variables(parsed) - allowed)
    return [
        f"unknown variable {name!r}: {notice} has {', '.join(variables(notice))}"
        for name in unknown
    ]


#: how long a process keeps the administrators' templates before reading them again: an edit
#: reaches every worker within this many seconds (at once in the process that saved it)
TEMPLATE_TTL_SECONDS = 5.0

_lock = threading.Lock()
#: per database (engine): when the saved templates were read, and what they were
_saved: weakref.WeakKeyDictionary[Any, tuple[float, dict]] = weakref.WeakKeyDictionary()


def invalidate() -> None:
    """Forget the saved templates read so far (after an administrator's edit)."""
    with _lock:
        _saved.clear()


def _saved_templates(session: Session) -> dict[tuple[str, str, str], tuple[str, str]]:
    """Every saved template, read at most once per TTL (a fan-out renders several texts: one
    query per text was a large part of its time)."""
    engine = session.get_bind()
    with _lock:
        cached = _saved.get(engine)
        if cached is not None and time.monotonic() - cached[0] < TEMPLATE_TTL_SECONDS:
            return cached[1]
    rows = session.execute(
        select(
            NotificationTemplate.notice,
            NotificationTemplate.channel,
            NotificationTemplate.lang,
            NotificationTemplate.subject,
            NotificationTemplate.body,
        )
    ).all()
    saved = {(r.notice, r.channel, r.lang): (r.subject, r.body) for r in rows}
    with _lock:
        _saved[engine] = (time.monotonic(), saved)
    return saved


def template_for(session: Session, notice: Notice, channel: Channel, lang: str) -> tuple[str, str]:
    """The (subject, body) an administrator saved, else the default."""
    found = _saved_templates(session).get((str(notice), str(channel), lang))
    if found is not None:
        return found
    default = DEFAULT_TEMPLATES.get((notice, channel, lang)) or DEFAULT_TEMPLATES.get(
        (notice, channel, "zh")
    )
    if default is None:
        raise KeyError(f"no template for {notice} by {channel}")
    return default


def render_text(text: str, values: dict[str, Any]) -> str:
    return _compiled(text).render(**values).strip()


def render(
    session: Session, notice: Notice, channel: Channel, lang: str, values: dict[str, Any]
) -> tuple[str, str]:
    """(subject, body) of ``notice`` for ``channel`` in ``lang``, with ``values``."""
    subject, body = template_for(session, notice, channel, lang)
    return render_text(subject, values) if subject else "", render_text(body, values)
