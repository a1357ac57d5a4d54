"""Work lists and the task page: a user's ready tasks, the dispatcher's queues, and the page
where one task's form is filled in and completed."""

from flask import Blueprint

bp = Blueprint("inbox", __name__)

from . import interim, views  # noqa: E402,F401
