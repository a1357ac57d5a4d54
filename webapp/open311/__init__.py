"""Open311 GeoReport v2 under /open311/v2, for web, app and partner channels."""

from flask import Blueprint

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

from . import views  # noqa: E402,F401  (routes)
