"""Departments: lookups by code, the tree, and the platforms that dispatch."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import unit_of_work
from engine.errors import NotFound

from ..notifications import contacts
from .models import Department


def by_code(session: Session, code: str) -> Department | None:
    """The department with this code, or None."""
    return session.scalars(select(Department).where(Department.code == code)).first()


def active_departments(session: Session) -> list[Department]:
    """Every active department, city first, then districts, then streets, by code."""
    order = {"city": 0, "district": 1, "street": 2}
    rows = session.scalars(select(Department).where(Department.active.is_(True))).all()
    return sorted(rows, key=lambda d: (order.get(d.level, 9), d.code))


def children(session: Session, *, parent: Department) -> list[Department]:
    """Active units directly below a department (a district platform's street offices)."""
    return list(
        session.scalars(
            select(Department)
            .where(Department.parent_id == parent.id, Department.active.is_(True))
            .order_by(Department.code)
        )
    )


def city_platform(session: Session) -> Department | None:
    """The top dispatch platform (the city's 12345 centre)."""
    return session.scalars(
        select(Department)
        .where(Department.is_platform.is_(True), Department.parent_id.is_(None))
        .order_by(Department.id)
    ).first()


def as_options(departments: list[Department], lang: str = "zh") -> list[dict[str, str]]:
    """Departments as form options (value = code)."""
    return [
        {"value": d.code, "label": d.name_en if lang == "en" and d.name_en else d.name}
        for d in departments
    ]


def _contacts(
    duty_phone: str | None,
    duty_email: str | None,
    webhook_url: str | None,
    webhook_secret: str | None,
) -> dict[str, str]:
    """The given contact fields, checked and in their stored form (None: not given)."""
    checks = {
        "duty_phone": (duty_phone, contacts.phone),
        "duty_email": (duty_email, contacts.email),
        "webhook_url": (webhook_url, contacts.webhook_url),
        "webhook_secret": (webhook_secret, contacts.webhook_secret),
    }
    return {
        name: check(value, field=name)
        for name, (value, check) in checks.items()
        if value is not None
    }


def create_department(
    session: Session,
    *,
    code: str,
    name: str,
    name_en: str,
    level: str,
    parent_id: int | None,
    is_platform: bool,
    active: bool,
    duty_phone: str = "",
    duty_email: str = "",
    webhook_url: str = "",
    webhook_secret: str = "",
) -> Department:
    """A new department (the caller has checked the code is free and the parent exists);
    ContactInvalid for a duty phone, e-mail, webhook URL or secret that is not one."""
    fields = _contacts(duty_phone, duty_email, webhook_url, webhook_secret)
    with unit_of_work(session):
        row = Department(
            code=code,
            name=name,
            name_en=name_en,
            level=level,
            parent_id=parent_id,
            is_platform=is_platform,
            active=active,
            **fields,
        )
        session.add(row)
    return row


def update_department(
    session: Session,
    *,
    department_id: int,
    code: str,
    name: str,
    name_en: str,
    level: str,
    parent_id: int | None,
    is_platform: bool,
    active: bool,
    duty_phone: str | None = None,
    duty_email: str | None = None,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
) -> Department:
    """Change a department's fields (a contact field left None stays as it is; the webhook
    secret is never shown, so a page sends it only when it changes). NotFound if there is no
    such department; ContactInvalid for a contact field that is not one."""
    fields = _contacts(duty_phone, duty_email, webhook_url, webhook_secret)
    with unit_of_work(session):
        row = session.get(Department, department_id)
        if row is None:
            raise NotFound(f"department {department_id} does not exist")
        row.code, row.name, row.name_en, row.level = code, name, name_en, level
        row.parent_id, row.is_platform, row.active = parent_id, is_platform, active
        for name_, value in fields.items():
            setattr(row, name_, value)
    return row
