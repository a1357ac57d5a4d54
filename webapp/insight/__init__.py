"""Insight (issue 19): topics and areas, and the centre's areas and dictionary."""

from flask import Blueprint

bp = Blueprint("insight", __name__, url_prefix="/insight")

from . import admin, topics  # noqa: E402,F401
