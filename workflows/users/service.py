"""Users: create and find the people who use the hotline."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock

from ..departments.models import Department
from .models import Role, User


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
