"""``/api/v1/insight/topics``: counts of cases by category x area x local week or month, the
previous period beside them, per 10,000 residents and the period's top words."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, g
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields, validate

from workflows.insight import topics as t
from workflows.users.models import Role

from ..extensions import db
from ..hotline import get_hotline
from .auth import roles
from .blueprint import ApiBlueprint
from .schemas import EARLIEST, LATEST, InputSchema, Nullable

blp = ApiBlueprint(
    "api-insight-topics",
    __name__,
    url_prefix="/api/v1/insight",
    description="Topics and areas: cases by category x area x week or month (the centre; a "
    "handler counts their own department's cases).",
)
READERS = (Role.SUPERVISOR, Role.LEAD, Role.ADMIN, Role.DISPATCHER, Role.HANDLER)


class TopicsArgs(InputSchema):
    start = fields.Date(data_key="from", validate=validate.Range(EARLIEST, LATEST))
    end = fields.Date(data_key="to", validate=validate.Range(EARLIEST, LATEST))
    by = fields.String(load_default="week", validate=validate.OneOf(t.BYS))
    category = fields.String(validate=validate.Length(min=1, max=64))
    area = fields.String(validate=validate.Length(min=1, max=32))
    words = fields.Boolean(load_default=True, metadata={"description": "include the top words"})


class ChangeSchema(ma.Schema):
    count = fields.Integer(required=True)
    previous = fields.Integer(required=True)
    change = fields.Integer(required=True)
    percent = Nullable(fields.Float, required=True)


class CellSchema(ma.Schema):
    category = fields.String(required=True)
    area = fields.String(required=True)
    bucket = fields.Date(required=True, metadata={"description": "the first local day"})
    count = fields.Integer(required=True)


class AreaRowSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    counts = fields.Nested(ChangeSchema, required=True)
    population = Nullable(fields.Integer, required=True)
    per_10k = Nullable(fields.Float, required=True)


class CategoryRowSchema(ma.Schema):
    category = fields.String(required=True)
    counts = fields.Nested(ChangeSchema, required=True)


class WordSchema(ma.Schema):
    word = fields.String(required=True)
    cases = fields.Integer(required=True)


class WordsSchema(ma.Schema):
    top = fields.List(fields.Nested(WordSchema), required=True)
    read = fields.Integer(required=True)
    total = fields.Integer(required=True)
    sampled = fields.Boolean(required=True)


class TopicsSchema(ma.Schema):
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)
    previous_from = fields.Date(required=True)
    previous_to = fields.Date(required=True)
    by = fields.String(required=True)
    total = fields.Nested(ChangeSchema, required=True)
    cells = fields.List(fields.Nested(CellSchema), required=True)
    categories = fields.List(fields.Nested(CategoryRowSchema), required=True)
    areas = fields.List(fields.Nested(AreaRowSchema), required=True)
    words = Nullable(fields.Nested, WordsSchema, required=True)


def _change(c: t.Change) -> dict[str, Any]:
    return {"count": c.count, "previous": c.previous, "change": c.change, "percent": c.percent}


def present(report: t.Topics) -> dict[str, Any]:
    words = report.words
    return {
        "start": report.period.start,
        "end": report.period.end,
        "previous_from": report.previous.start,
        "previous_to": report.previous.end,
        "by": report.by,
        "total": _change(report.total),
        "cells": [vars(c) for c in report.cells],
        "categories": [{"category": c, "counts": _change(ch)} for c, ch in report.categories],
        "areas": [
            {
                "code": r.code,
                "name": r.name,
                "counts": _change(r.counts),
                "population": r.population,
                "per_10k": r.per_10k,
            }
            for r in report.areas
        ],
        "words": None
        if words is None
        else {
            "top": [{"word": w, "cases": n} for w, n in words.top],
            "read": words.read,
            "total": words.total,
            "sampled": words.sampled,
        },
    }


@blp.route("/topics")
class Topics(MethodView):
    @roles(*READERS)
    @blp.arguments(TopicsArgs, location="query")
    @blp.response(200, TopicsSchema)
    def get(self, args: dict[str, Any]):
        """Cases created from ``from`` to ``to`` (local days, both included; default the last
        8 weeks, or the current month with ``by=month``) per category x area x week or month,
        with the previous period of the same length, cases per 10,000 residents and the top
        words (over at most 2,000 sampled descriptions)."""
        hotline = get_hotline()
        today = hotline.clock.now().astimezone(hotline.tz).date()
        default = t.default_period(today, args["by"])
        start, end = args.get("start") or default.start, args.get("end") or default.end
        errors = t.check_period(start, end)
        if errors:
            abort(422, errors=errors)
        report = t.topics(
            db.session,
            user=g.user,
            period=t.Period(start, end),
            by=args["by"],
            tz=current_app.config["TIMEZONE"],
            category=args.get("category"),
            area=args.get("area"),
            words=args["words"],
        )
        return present(report)
