"""Knowledge base search for operators answering at intake."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import unit_of_work
from engine.errors import NotFound

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


def create_article(
    session: Session,
    *,
    title: str,
    keywords: str,
    category: str,
    body: str,
    active: bool,
    clock: Clock,
) -> Article:
    """A new knowledge base article, dated now."""
    with unit_of_work(session):
        article = Article(
            title=title,
            keywords=keywords,
            category=category,
            body=body,
            active=active,
            updated_at=clock.now(),
        )
        session.add(article)
    return article


def update_article(
    session: Session,
    *,
    article_id: int,
    title: str,
    keywords: str,
    category: str,
    body: str,
    active: bool,
    clock: Clock,
) -> Article:
    """Change an article and date it now; NotFound if there is no such article."""
    with unit_of_work(session):
        article = session.get(Article, article_id)
        if article is None:
            raise NotFound(f"article {article_id} does not exist")
        article.title, article.keywords, article.category = title, keywords, category
        article.body, article.active = body, active
        article.updated_at = clock.now()
    return article
