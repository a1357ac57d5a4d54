"""Try a draft before deploying it: the modeler's "Try" button posts the diagram here.

The draft runs in a throwaway database (``workflows/tryrun``); nothing is stored in this
one. A draft that would not deploy answers the validator's located issues, as deploy does.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from engine.errors import DefinitionInvalid
from workflows.tryrun.service import DEFAULT_CASES, MAX_CASES

from ..i18n import lang
from ..services import try_in_app
from . import bp
from .common import admin_only
from .definitions import _issue_json, _posted_xml

#: the wall-clock seconds one try may take (a person waits for the answer)
TRY_SECONDS = 20.0
MAX_SEED = 2**31 - 1


@bp.post("/definitions/try")
@admin_only
def try_json():
    xml, name, problem = _posted_xml()
    if problem is not None:
        return problem
    body = request.get_json(silent=True) or {}
    cases = _whole(body, "cases", DEFAULT_CASES, 1, MAX_CASES)
    seed = _whole(body, "seed", 1, 0, MAX_SEED)
    if cases is None:
        message = _(
            "The number of cases must be a whole number from 1 to %(high)s.", high=MAX_CASES
        )
        return jsonify(ok=False, issues=[], field="cases", message=message), 400
    if seed is None:
        message = _("The seed must be a whole number from 0 to %(high)s.", high=MAX_SEED)
        return jsonify(ok=False, issues=[], field="seed", message=message), 400
    try:
        report = try_in_app(xml, name, cases=cases, seed=seed, seconds=TRY_SECONDS)
    except DefinitionInvalid as exc:
        return jsonify(ok=False, issues=[_issue_json(i) for i in exc.issues]), 400
    return jsonify(ok=True, issues=[], report=report.as_json(lang()))


def _whole(body: dict[str, Any], key: str, default: int, low: int, high: int) -> int | None:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value
