"""Appeals (申诉): a department's appeals about its cases, the centre's review, their KPIs."""

from flask import Blueprint

bp = Blueprint("appeals", __name__)

from . import views  # noqa: E402,F401
