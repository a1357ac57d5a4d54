"""Insight's pages (issue 19). The blueprint ``insight`` (url_prefix /insight) holds the topics
and areas page and the areas' and dictionary's administration (topics.py, admin.py);
duplicate suggestions (duplicates.py) and hot-topic waves (waves.py) have Blueprints of their
own."""

from flask import Blueprint

bp = Blueprint("insight", __name__, url_prefix="/insight")

from . import admin, topics  # noqa: E402,F401
