"""The knowledge base operators search at intake: articles to answer callers on the spot."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select

from engine.db import unit_of_work
from workflows.dispatch.service import known_categories
from workflows.knowledge.models import Article
from workflows.knowledge.service import create_article, update_article

from ..extensions import db
from ..hotline import get_hotline
from ..pagination import wants_csv
from ..sorting import DESC, Sortable
from . import bp
from .common import admin_only, audit, listing
from .forms import Form


@bp.get("/knowledge")
@admin_only
def articles():
    q = (request.args.get("q") or "").strip()
    stmt = select(Article).order_by(Article.updated_at.desc(), Article.id.desc())
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(
            or_(
                Article.title.ilike(pattern),
                Article.keywords.ilike(pattern),
                Article.category.ilike(pattern),
            )
        )
    page = listing(
        stmt,
        filename="knowledge-base.csv",
        header=["id", "title", "category", "keywords", "active", "updated_at", "body"],
        row=lambda a: [
            a.id,
            a.title,
            a.category,
            a.keywords,
            "yes" if a.active else "no",
            a.updated_at.isoformat(),
            a.body,
        ],
        sorts={
            "title": Sortable((Article.title,)),
            "category": Sortable((Article.category,)),
            "active": Sortable((Article.active,)),
            "updated": Sortable((Article.updated_at,), first=DESC),
        },
        tie_breaker=(Article.id,),
    )
    if wants_csv():
        return page
    return render_template("admin/articles.html", page=page, q=q)


def _read(form: Form) -> dict:
    return {
        "title": form.text("title", required=True, max_length=200),
        "keywords": form.text("keywords", max_length=400),
        "category": form.text("category", max_length=64),
        "body": form.text("body", required=True, max_length=20000),
        "active": form.flag("active"),
    }


def _render(form: Form, row: Article | None, status: int = 200):
    categories = known_categories(db.session)
    return render_template(
        "admin/article_form.html", form=form, row=row, categories=categories
    ), status


@bp.route("/knowledge/new", methods=["GET", "POST"])
@admin_only
def article_new():
    if request.method == "GET":
        return _render(Form.of({"active": True}), None)
    form = Form(request.form)
    values = _read(form)
    if not form.ok:
        return _render(form, None, 400)
    with unit_of_work(db.session):
        create_article(db.session, **values, clock=get_hotline().clock)
        audit("article.create", target_type="article", title=values["title"])
    flash(_("Article saved."))
    return redirect(url_for("admin.articles"))


@bp.route("/knowledge/<int:article_id>", methods=["GET", "POST"])
@admin_only
def article_edit(article_id: int):
    row = db.session.get(Article, article_id) or abort(404)
    if request.method == "GET":
        form = Form.of(
            {
                "title": row.title,
                "keywords": row.keywords,
                "category": row.category,
                "body": row.body,
                "active": row.active,
            }
        )
        return _render(form, row)
    form = Form(request.form)
    values = _read(form)
    if not form.ok:
        return _render(form, row, 400)
    with unit_of_work(db.session):
        update_article(db.session, article_id=article_id, **values, clock=get_hotline().clock)
        audit("article.update", target_type="article", target_id=article_id, title=values["title"])
    flash(_("Article saved."))
    return redirect(url_for("admin.articles"))
