"""Languages and times: Chinese by default, English on request; times in the local zone.

Message catalogs live next to the code that uses them (``webapp/translations`` and each
area's ``translations`` directory); they are compiled from their ``.po`` files when the app
starts if the ``.mo`` is missing or older, so there is no separate build step.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, request, session
from flask_babel import Babel, format_date, get_locale
from flask_babel import gettext as _

LANGUAGES = ("zh", "en")
babel = Babel()
HERE = Path(__file__).resolve().parent


def translation_dirs() -> list[Path]:
    return sorted({p.parent.parent.parent for p in HERE.rglob("translations/*/LC_MESSAGES/*.po")})


def compile_catalogs() -> None:
    for po in HERE.rglob("translations/*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as fh:
                catalog = read_po(fh)
            with mo.open("wb") as fh:
                write_mo(fh, catalog)


def select_locale() -> str:
    lang = session.get("lang")
    if lang in LANGUAGES:
        return lang
    return request.accept_languages.best_match(LANGUAGES, "zh") or "zh"


def init_i18n(app: Flask) -> None:
    compile_catalogs()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(d) for d in translation_dirs())
    babel.init_app(
        app, locale_selector=select_locale, timezone_selector=lambda: current_app.config["TIMEZONE"]
    )
    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["time_left"] = time_left
    app.jinja_env.filters["weekday"] = weekday
    app.jinja_env.globals["lang"] = lang
    from .error_messages import said

    app.jinja_env.filters["said"] = said  # the engine's and domain's messages, translated
    from .people import person

    app.jinja_env.filters["person"] = person  # display names, not user names
    from .labels_filters import bilingual_name, case_type_label, role_label

    app.jinja_env.filters["bilingual"] = bilingual_name  # "签收 Sign for": the page's half
    app.jinja_env.filters["role"] = role_label  # a role code ("handler") by its name
    app.jinja_env.filters["case_type"] = case_type_label  # a case type code by its name


def lang() -> str:
    """The language of this request's pages and messages (form errors included): the
    switch's choice, else the browser's or API client's Accept-Language, else Chinese."""
    return str(get_locale() or "zh")


def tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time shown in the hotline's zone."""
    if value is None:
        return ""
    return value.astimezone(tz()).strftime(fmt)


def weekday(day: date) -> str:
    """The day's weekday, short, in the page's language ("周一", "Mon")."""
    return format_date(day, "EEE")


def time_left(due: datetime | None, now: datetime | None = None) -> str:
    """ "2 d 3 h left" or "overdue 5 h", in the page's language."""
    if due is None:
        return ""
    from .hotline import get_hotline

    now = now or get_hotline().clock.now()
    delta = due - now
    late = delta < timedelta(0)
    delta = abs(delta)
    days, rest = divmod(int(delta.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        amount = _("%(d)s d %(h)s h", d=days, h=hours)
    elif hours:
        amount = _("%(h)s h %(m)s min", h=hours, m=minutes)
    else:
        amount = _("%(m)s min", m=minutes)
    return _("overdue %(amount)s", amount=amount) if late else _("%(amount)s left", amount=amount)
