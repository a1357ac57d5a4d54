"""Saved views: a user's named filters of a list ("cases": the case list), kept per user.

A view is the list's query string with only that list's filter names in it (never a page
number), so opening it is opening the list with those filters, checked as any typed filter is.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import unit_of_work
from engine.errors import NotFound
from engine.models import Base

from ..errors import FormInvalid
from .models import User

NAME_MAX = 60
#: views per user and list
MAX_VIEWS = 30


class SavedView(Base):
    __tablename__ = "saved_views"
    __table_args__ = (
        Index("ux_saved_views_user_list_name", "user_id", "list_key", "name", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: which list: "cases"
    list_key: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    #: the filters, as a query string of the list's filter names
    query: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime]


def views_of(session: Session, user: User, list_key: str) -> list[SavedView]:
    """``user``'s saved views of a list, by name."""
    return list(
        session.scalars(
            select(SavedView)
            .where(SavedView.user_id == user.id, SavedView.list_key == list_key)
            .order_by(SavedView.name)
        )
    )


def query_of(args: Mapping[str, str], allowed: Collection[str]) -> str:
    """The query string of the filters in ``args`` that the list knows and that are set."""
    return urlencode([(k, args[k].strip()) for k in allowed if (args.get(k) or "").strip()])


def save_view(
    session: Session,
    user: User,
    *,
    list_key: str,
    name: str,
    query: str,
    now: datetime,
    messages: Mapping[str, str] | None = None,
) -> SavedView:
    """Save (or replace, under the same name) a view; FormInvalid names the field."""
    say = {
        "required": "此项为必填项",
        "too_long": f"最多 {NAME_MAX} 个字符",
        "empty": "没有可保存的筛选条件",
        "too_many": f"最多保存 {MAX_VIEWS} 个视图",
        **(messages or {}),
    }
    name = (name or "").strip()
    if not name:
        raise FormInvalid({"name": [say["required"]]})
    if len(name) > NAME_MAX:
        raise FormInvalid({"name": [say["too_long"]]})
    if not query:
        raise FormInvalid({"query": [say["empty"]]})
    with unit_of_work(session):
        existing = session.scalar(
            select(SavedView).where(
                SavedView.user_id == user.id,
                SavedView.list_key == list_key,
                SavedView.name == name,
            )
        )
        if existing is not None:
            existing.query, existing.created_at = query, now
            return existing
        if len(views_of(session, user, list_key)) >= MAX_VIEWS:
            raise FormInvalid({"name": [say["too_many"]]})
        view = SavedView(user_id=user.id, list_key=list_key, name=name, query=query, created_at=now)
        session.add(view)
    return view


def delete_view(session: Session, user: User, view_id: int) -> str:
    """Delete one of ``user``'s views (another user's is NotFound); its name is returned."""
    with unit_of_work(session):
        view = session.get(SavedView, view_id)
        if view is None or view.user_id != user.id:
            raise NotFound(f"saved view {view_id} does not exist")
        name = view.name
        session.delete(view)
    return name
