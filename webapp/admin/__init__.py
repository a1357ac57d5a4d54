"""Administration: case-type definitions (versions, the modeler, diff, migration) and the
reference data the hotline runs on (departments, users, dispatch catalogue, calendar,
deadline policy, knowledge base, notification templates), plus timer incidents.
Administrators only."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import (  # noqa: E402,F401
    calls,
    case_types,
    connectors,
    days,
    definitions,
    departments,
    dispatch,
    form_editor,
    home,
    incidents,
    knowledge,
    messages,
    migrating,
    modeler_panel,
    notice_templates,
    policies,
    tryrun,
    users,
)
