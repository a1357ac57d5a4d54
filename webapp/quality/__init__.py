"""Operator quality review (质检): samples, scoring, the monthly report, operators' own scores
and disputes, the scoring sheet (``workflows/quality`` holds the rules)."""

from flask import Blueprint

bp = Blueprint("quality", __name__)

from . import views  # noqa: E402,F401
