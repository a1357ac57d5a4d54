"""Users: create and find the people who use the hotline."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import unit_of_work
from engine.errors import NotFound

from ..departments.models import Department
from .models import Role, User

#: the user SMS survey answers are recorded as (``notifications/inbound.py``)
SMS_USERNAME = "sms"
#: users the hotline acts as by itself: no password, and sign-in refuses them whatever is set
SYSTEM_USERNAMES = frozenset({SMS_USERNAME})


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: str,
    clock: Clock,
    department: Department | None = None,
    password_hash: str = "",
) -> User:
    """A new active user; handlers must belong to a department."""
    Role(role)  # ValueError for an unknown role
    if role == Role.HANDLER and department is None:
        raise ValueError("a handler must belong to a department")
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        department_id=department.id if department else None,
        password_hash=password_hash,
        active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
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
) -> User:
    """Change a user's name, role, department and state; a new ``password_hash`` also lifts
    a sign-in lock. NotFound if there is no such user."""
    Role(role)  # ValueError for an unknown role
    with unit_of_work(session):
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"user {user_id} does not exist")
        user.display_name = display_name
        user.role = role
        user.department_id = department_id
        user.active = active
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
