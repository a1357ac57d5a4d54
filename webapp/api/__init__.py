"""The REST API under /api/v1 (flask-smorest, bearer tokens), its OpenAPI document and
documentation page, and the page where people manage their API tokens.

Registering ``bp`` (the pages) also sets up the API itself on the app (:func:`setup.init_api`).
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.record_once
def _setup(state) -> None:
    from .setup import init_api

    init_api(state.app)


from . import pages  # noqa: E402,F401  (routes)
