"""The own account's notification settings: the person's phone, e-mail address and message
language, and by which channels they hear each staff notice (defaults until they choose).

SMS and e-mail cannot be chosen without a phone or an address (a hint says so); a choice made
earlier stays stored while the channel is unavailable, and applies again once it is.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _

from engine.db import unit_of_work
from workflows.notifications import contacts
from workflows.notifications.notices import (
    AUDIENCE,
    DEFAULT_CHANNELS,
    LANGS,
    NOTICE_NAMES,
    PERSONAL_CHANNELS,
    Channel,
    Notice,
)
from workflows.notifications.preferences import STAFF_NOTICES, chosen, save_preferences
from workflows.users.service import set_contacts

from ..audit.log import record
from ..extensions import db
from ..i18n import lang as page_lang
from ..security import login_required
from . import bp


def _channel_labels() -> dict[str, str]:
    return {"inapp": _("In the app"), "sms": _("SMS"), "email": _("E-mail")}


def context(user: Any, values: dict[str, str] | None = None) -> dict[str, Any]:
    """What the account page shows of the person's notification settings."""
    en = page_lang() == "en"
    available = {
        Channel.INAPP: True,
        Channel.SMS: bool(user.phone),
        Channel.EMAIL: bool(user.email),
    }
    rows = [
        {
            "notice": str(notice),
            "name": NOTICE_NAMES[notice][1 if en else 0],
            "audience": str(AUDIENCE[notice]),
            "chosen": {str(c) for c in chosen(user, notice)},
            "default": {str(c) for c in DEFAULT_CHANNELS.get(notice, (Channel.INAPP,))},
        }
        for notice in STAFF_NOTICES
    ]
    return {
        "pref_rows": rows,
        "pref_channels": [(str(c), _channel_labels()[c]) for c in PERSONAL_CHANNELS],
        "pref_available": {str(c): ok for c, ok in available.items()},
        "contact_values": values
        or {"phone": user.phone or "", "email": user.email or "", "lang": user.lang or "zh"},
        "lang_labels": {"zh": _("Chinese"), "en": _("English")},
    }


@bp.post("/account/contacts")
@login_required
def account_contacts():
    from .account import _page

    values = {name: (request.form.get(name) or "").strip() for name in ("phone", "email", "lang")}
    errors: dict[str, str] = {}
    stored: dict[str, str] = {}
    for name, check in (("phone", contacts.phone), ("email", contacts.email)):
        try:
            stored[name] = check(values[name], field=name)
        except contacts.ContactInvalid:
            errors[name] = (
                _("Not a phone number: a mobile such as 138 0000 0000 or a landline such as "
                  "0750-1234567 (digits, spaces, '+' and '-' only).")
                if name == "phone"
                else _("Not an e-mail address, such as name@example.gov.cn.")
            )  # fmt: skip
    if values["lang"] not in LANGS:
        errors["lang"] = _("Not one of the choices.")
    if errors:
        return _page(errors, 400, contact_values=values)
    with unit_of_work(db.session):
        set_contacts(
            db.session,
            user_id=g.user.id,
            phone=stored["phone"],
            email=stored["email"],
            lang=values["lang"],
        )
        record(
            "user.contacts",
            target_type="user",
            target_id=g.user.id,
            username=g.user.username,
            phone=stored["phone"],
            email=stored["email"],
            lang=values["lang"],
        )
    flash(_("Your contact details are saved."))
    return redirect(url_for("auth.account", _anchor="notifications"))


@bp.post("/account/notifications")
@login_required
def account_notifications():
    user = g.user
    available = {
        Channel.INAPP: True,
        Channel.SMS: bool(user.phone),
        Channel.EMAIL: bool(user.email),
    }
    choices: dict[Notice, set[Channel]] = {}
    for notice in STAFF_NOTICES:
        ticked = set(request.form.getlist(f"notice.{notice}"))
        before = set(chosen(user, notice))
        # a channel the page could not offer keeps its earlier choice
        choices[notice] = {
            c for c in PERSONAL_CHANNELS if (str(c) in ticked if available[c] else c in before)
        }
    with unit_of_work(db.session):
        stored = save_preferences(db.session, user_id=user.id, choices=choices)
        record(
            "user.notify_prefs",
            target_type="user",
            target_id=user.id,
            username=user.username,
            prefs=stored,
        )
    flash(_("Your notification settings are saved."))
    return redirect(url_for("auth.account", _anchor="notifications"))
