"""Connectors: what BPMN service tasks may call, with their parameters, the hosts
``http_request`` may reach (HOTLINE_CONNECTOR_HOSTS) and the case fields a diagram may set.
The JSON is what the modeler's properties panel lists."""

from __future__ import annotations

from flask import jsonify, render_template

from workflows.connectors import CASE_FIELDS, catalogue

from ..hotline import get_hotline
from ..i18n import lang
from . import bp
from .common import admin_only


def _hosts() -> list[str]:
    http = get_hotline().connectors.get("http_request")
    return http.hosts.describe() if http is not None else []


@bp.get("/connectors")
@admin_only
def connectors():
    listed = catalogue(get_hotline().connectors)
    label = "label_zh" if lang() == "zh" else "label_en"
    fields = [(name, zh if lang() == "zh" else en) for name, (zh, en, _) in CASE_FIELDS.items()]
    return render_template(
        "admin/connectors.html", connectors=listed, label=label, hosts=_hosts(), fields=fields
    )


@bp.get("/connectors.json")
@admin_only
def connectors_json():
    return jsonify(
        connectors=catalogue(get_hotline().connectors),
        hosts=_hosts(),
        case_fields=[
            {"name": name, "label_zh": zh, "label_en": en, "kind": kind}
            for name, (zh, en, kind) in CASE_FIELDS.items()
        ],
    )
