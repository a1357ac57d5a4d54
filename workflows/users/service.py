"""Users: create and find the people who use the hotline."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import unit_of_work
from engine.errors import NotFound

from ..departments.models import Department
from ..notifications import contacts
from ..notifications.notices import LANGS
from .models import Role, User

#: the user SMS survey answers are recorded as (``notifications/inbound.py``)
SMS_USERNAME = "sms"
#: users the hotline acts as by itself: no password, and sign-in refuses them whatever is set
SYSTEM_USERNAMES = frozenset({SMS_USERNAME})
#: the demo's phone system (role telephony): it holds an API token for call events and never
#: signs in (``webapp/security.py`` refuses the role)
PBX_USERNAME = "pbx"


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: str,
    clock: Clock,
    department: Department | None = None,
    password_hash: str = "",
    phone: str = "",
    email: str = "",
    lang: str = "zh",
) -> User:
    """A new active user; handlers must belong to a department. ContactInvalid for a phone
    or e-mail address that is not one; ValueError for a language the hotline has not."""
    Role(role)  # ValueError for an unknown role
    if role == Role.HANDLER and department is None:
        raise ValueError("a handler must belong to a department")
    fields = _contacts(phone, email, lang)
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        department_id=department.id if department else None,
        password_hash=password_hash,
        active=True,
        created_at=clock.now(),
        notify_prefs={},
        **fields,
    )
    session.add(user)
    session.flush()
    return user


def _contacts(phone: str | None, email: str | None, lang: str | None) -> dict[str, str]:
    """The given contact fields, checked and in their stored form (None: not given)."""
    fields: dict[str, str] = {}
    if phone is not None:
        fields["phone"] = contacts.phone(phone)
    if email is not None:
        fields["email"] = contacts.email(email)
    if lang is not None:
        if lang not in LANGS:
            raise ValueError(f"language {lang!r} is not one of {', '.join(LANGS)}")
        fields["lang"] = lang
    return fields


def set_contacts(session: Session, *, user_id: int, phone: str, email: str, lang: str) -> User:
    """A person's own phone, e-mail address and language (the account page). NotFound if
    there is no such user; ContactInvalid or ValueError as for :func:`update_user`."""
    fields = _contacts(phone, email, lang)
    with unit_of_work(session):
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"user {user_id} does not exist")
        for name, value in fields.items():
            setattr(user, name, value)
    return user


def by_username(session: Session, username: str) -> User | None:
    """The user with this username, or None."""
    return session.scalars(select(User).where(User.username == username)).first()


def update_user(
    session: Session,
    *,
    user_id: int,
    display_name: str,
    role: str,
    department_id: int | None,
    active: bool,
    password_hash: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    lang: str | None = None,
) -> User:
    """Change a user's name, role, department and state, and the contact fields given (None:
    unchanged); a new ``password_hash`` also lifts a sign-in lock. NotFound if there is no
    such user; ContactInvalid for a phone or e-mail address that is not one."""
    Role(role)  # ValueError for an unknown role
    fields = _contacts(phone, email, lang)
    with unit_of_work(session):
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"user {user_id} does not exist")
        user.display_name = display_name
        user.role = role
        user.department_id = department_id
        user.active = active
        for name, value in fields.items():
            setattr(user, name, value)
        if password_hash:
            user.password_hash = password_hash
            user.failed_logins = 0
            user.locked_until = None
    return user


def set_password(session: Session, *, user_id: int, password_hash: str) -> User:
    """Give the user a new password hash (the caller ends their other sessions)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    user.password_hash = password_hash
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    return user
