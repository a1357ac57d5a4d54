"""SMS replies: citizens' texts (and answers that could not be recorded) waiting for a person,
for the callback agents and the supervisors."""

from flask import Blueprint

bp = Blueprint("sms", __name__)

from . import views  # noqa: E402,F401
