"""The operator's intake: record a call fast, with the caller's earlier cases, the knowledge
base and the department the dispatch catalogue suggests beside the form."""

from flask import Blueprint

bp = Blueprint("intake", __name__)

from ..inbox.labels import labels  # noqa: E402
from . import views  # noqa: E402,F401

bp.context_processor(labels)
