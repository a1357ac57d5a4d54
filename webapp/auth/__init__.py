"""Sign-in (password, second factor), sign-out, the own account page and the language switch."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import account, preferences, views  # noqa: E402,F401
