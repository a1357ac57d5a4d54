"""What the modeler's properties panel reads from the server (docs/modeler.md): the catalogue of
values it offers (forms, steps, statuses, deadline effects and clocks, outcomes, who may do a
task, the deadline policy's limits, the connectors of service tasks), and the live check of a
condition, script or timer by the same checker deploy uses."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from engine.errors import ExpressionError
from engine.validation import _check_timer_text
from workflows.cases.enums import STATUS_NAMES
from workflows.cases.steps import STEP_LABELS
from workflows.cases.types import LIMIT_FIELDS
from workflows.connectors import catalogue
from workflows.departments.service import active_departments
from workflows.users.models import Role

from ..error_messages import translated
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from . import bp
from .common import admin_only
from .policies import _limit_labels

#: the timers' effects the case mirror reads (workflows/cases/listener.py)
EFFECTS = {
    "task_warn": ("任务预警（黄灯）", "Task warning (yellow)"),
    "task_overdue": ("任务超时（红灯）", "Task overdue (red)"),
    "warn": ("答复预警", "Reply warning"),
    "overdue": ("答复超时", "Reply overdue"),
    "sign_overdue": ("签收超时", "Sign-for overdue"),
}
#: how a case can end, besides handled (workflows/cases/listener.py)
OUTCOMES = {
    "handled": ("已办理", "Handled"),
    "answered": ("当场解答", "Answered at once"),
    "not_accepted": ("不予受理", "Not accepted"),
    "not_reached": ("未联系上市民", "Citizen not reached"),
    "rating_declined": ("市民拒绝评价", "Rating declined"),
}
#: process data that names a department, for a task's candidate group
GROUP_VARIABLES = {
    "lead_department": ("主办单位", "Lead department"),
    "platform": ("派单平台", "Dispatch platform"),
    "cohandle_department": ("协办单位", "Co-handling unit"),
}
ROLES = {
    Role.OPERATOR: ("接线员", "Operator"),
    Role.DISPATCHER: ("派单员", "Dispatcher"),
    Role.HANDLER: ("承办人", "Handler"),
    Role.SUPERVISOR: ("督办员", "Supervisor"),
    Role.CALLBACK: ("回访员", "Callback agent"),
    Role.LEAD: ("中心领导", "Centre lead"),
}
KINDS = ("condition", "script", "timeDate", "timeDuration", "timeCycle", "candidateGroups")


def _pair(pair: tuple[str, str], language: str) -> str:
    return pair[1] if language == "en" else pair[0]


@bp.get("/modeler/catalog.json")
@admin_only
def modeler_catalog():
    hotline = get_hotline()
    language = lang()
    forms = []
    keys = hotline.forms.keys()  # every form key, sorted
    for key in keys:
        try:
            title = hotline.forms.get(key).title(language)
        except Exception:  # noqa: BLE001 - a broken form file is listed by its key
            title = key
        forms.append({"value": key, "label": f"{title} ({key})"})
    departments = active_departments(db.session)
    groups = [
        {"value": name, "label": _pair(pair, language)} for name, pair in GROUP_VARIABLES.items()
    ] + [
        {
            "value": repr(d.code),
            "label": d.name_en if language == "en" and d.name_en else d.name,
        }
        for d in departments
    ]
    limits = _limit_labels()
    # the connectors of service tasks (workflows/connectors), in the page's language; their
    # parameters are expressions (docs/connectors.md): a text is written quoted
    connectors: list[dict[str, Any]] = [
        {
            "name": c["name"],
            "label": c["label_en"] if language == "en" else c["label_zh"],
            "params": [
                {
                    "name": p["name"],
                    "label": p["label_en"] if language == "en" else p["label_zh"],
                    "required": bool(p.get("required")),
                    "description": _(
                        "An expression on the case data; write a text in quotes: 'like this'."
                    ),
                }
                for p in c["params"]
            ],
        }
        for c in catalogue(hotline.connectors)
    ]
    return jsonify(
        forms=forms,
        steps=[
            {"value": str(s), "label": label.in_language(language)}
            for s, label in STEP_LABELS.items()
        ],
        statuses=[
            {"value": str(s), "label": _pair(names, language)} for s, names in STATUS_NAMES.items()
        ],
        effects=[{"value": k, "label": _pair(v, language)} for k, v in EFFECTS.items()],
        clocks=[{"value": c, "label": limits.get(c, c)} for c in LIMIT_FIELDS.values()],
        outcomes=[{"value": k, "label": _pair(v, language)} for k, v in OUTCOMES.items()],
        groups=groups,
        roles=[{"value": str(r), "label": _pair(v, language)} for r, v in ROLES.items()],
        policy=[{"value": c, "label": limits.get(c, c)} for c in LIMIT_FIELDS.values()],
        connectors=connectors,
    )


@bp.post("/modeler/check")
@admin_only
def modeler_check():
    """``{kind, text}`` -> ``{ok, message}``: the check deploy runs on that kind of text."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(ok=False, message=_("Send a JSON object with kind and text.")), 400
    kind, text = body.get("kind"), body.get("text")
    if kind not in KINDS:
        return jsonify(ok=False, message=_("kind: one of %(kinds)s.", kinds=", ".join(KINDS))), 400
    if not isinstance(text, str) or len(text) > 20_000:
        return jsonify(ok=False, message=_("text: a text of at most 20,000 characters.")), 400
    evaluator = get_hotline().runtime.evaluator
    try:
        if kind == "script":
            evaluator.check_script(text)
        elif kind in ("condition", "candidateGroups"):
            evaluator.check_expression(text)
        else:
            _check_timer_text(kind, text.strip(), evaluator)
    except ExpressionError as exc:
        return jsonify(ok=False, message=translated(str(exc)))
    return jsonify(ok=True, message="")
