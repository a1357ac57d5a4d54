"""The landing page: what is deployed and what is waiting."""

from flask import Blueprint

bp = Blueprint("home", __name__)

from . import views  # noqa: E402,F401
