"""The API's Blueprint: like flask-smorest's, but a query parameter the endpoint does not
know is an error naming it (webargs ignores them by default, which hides typos)."""

from __future__ import annotations

from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser


class StrictParser(FlaskParser):
    """Each schema's own ``Meta.unknown`` decides (RAISE for our query schemas; headers
    schemas INCLUDE, as requests carry many headers)."""

    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {}


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = StrictParser()
