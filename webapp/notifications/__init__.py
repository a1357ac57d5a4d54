"""The in-app channel: the bell on every page, a person's notifications page, and the poll
that keeps the bell and the live lists (inbox, queues, supervision) current without a reload."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from . import views  # noqa: E402,F401
