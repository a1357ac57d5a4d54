"""The case list and the case page: fields, deadlines, timeline, diagram, notes, merging."""

from flask import Blueprint

bp = Blueprint("cases", __name__)

from . import views  # noqa: E402,F401
