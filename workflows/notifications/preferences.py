"""Each person's choice of how they hear each staff notice (in the app, by SMS, by e-mail).

``users.notify_prefs`` holds only what differs from ``notices.DEFAULT_CHANNELS``: a notice it
does not name follows the default, so a default changed later reaches everyone who never chose.
SMS and e-mail need a phone and an address: without one the channel is dropped when the
notice goes out (and the account page does not offer it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from engine.db import unit_of_work
from engine.errors import NotFound

from ..users.models import User
from .notices import AUDIENCE, DEFAULT_CHANNELS, PERSONAL_CHANNELS, Audience, Channel, Notice

#: the notices a person may choose channels for (citizens' notices are not theirs)
STAFF_NOTICES: tuple[Notice, ...] = tuple(n for n in Notice if AUDIENCE[n] != Audience.CITIZEN)


def chosen(user: Any, notice: Notice) -> tuple[Channel, ...]:
    """The channels the person chose for ``notice`` (their preference, else the default),
    before a missing phone or address is taken into account."""
    prefs = getattr(user, "notify_prefs", None) or {}
    named = prefs.get(str(notice))
    if named is None:
        return DEFAULT_CHANNELS.get(notice, (Channel.INAPP,))
    wanted = {str(c) for c in named}
    return tuple(c for c in PERSONAL_CHANNELS if c in wanted)


def channels_for(user: Any, notice: Notice) -> tuple[Channel, ...]:
    """The channels ``user`` hears ``notice`` by: their preference, else the default; SMS
    is dropped without a phone, e-mail without an address."""
    reachable = {
        Channel.INAPP: True,
        Channel.SMS: bool(getattr(user, "phone", "")),
        Channel.EMAIL: bool(getattr(user, "email", "")),
    }
    return tuple(c for c in chosen(user, notice) if reachable.get(c, False))


def differences(choices: Mapping[Notice, set[Channel] | tuple[Channel, ...]]) -> dict[str, list]:
    """What ``notify_prefs`` stores for ``choices``: only the notices whose channels differ
    from their default, each a list in the order of ``PERSONAL_CHANNELS``."""
    stored: dict[str, list] = {}
    for notice in STAFF_NOTICES:
        if notice not in choices:
            continue
        picked = set(choices[notice])
        ordered = [str(c) for c in PERSONAL_CHANNELS if c in picked]
        default = [str(c) for c in DEFAULT_CHANNELS.get(notice, (Channel.INAPP,))]
        if ordered != default:
            stored[str(notice)] = ordered
    return stored


def save_preferences(
    session: Session, *, user_id: int, choices: Mapping[Notice, set[Channel] | tuple[Channel, ...]]
) -> dict[str, list]:
    """Store a person's choices (their differences from the defaults); NotFound if there is
    no such user. Returns what was stored."""
    with unit_of_work(session):
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"user {user_id} does not exist")
        user.notify_prefs = differences(choices)
    return dict(user.notify_prefs)
