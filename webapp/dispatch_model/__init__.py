"""Dispatch learned from history on the pages: the model's top three units beside the
catalogue's suggestion (intake and the dispatch task), refreshed as the operator types."""

from flask import Blueprint

bp = Blueprint("dispatch_model", __name__)

from . import views  # noqa: E402,F401
