"""The audit log for auditors (and administrators): a filtered, paginated page and its CSV.
Read only: no view here changes a row."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from . import views  # noqa: E402,F401
