"""Knowledge base search for operators answering at intake."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .models import Article


def search(session: Session, *, query: str, limit: int = 10) -> list[Article]:
    """Active articles whose title, keywords or body contain every word of ``query``."""
    words = [w for w in query.split() if w][:5]
    if not words:
        return []
    stmt = select(Article).where(Article.active.is_(True))
    for word in words:
        pattern = f"%{_escape_like(word)}%"
        stmt = stmt.where(
            or_(
                Article.title.ilike(pattern, escape="\\"),
                Article.keywords.ilike(pattern, escape="\\"),
                Article.body.ilike(pattern, escape="\\"),
            )
        )
    return list(session.scalars(stmt.order_by(Article.updated_at.desc()).limit(limit)))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
