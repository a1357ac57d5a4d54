"""Printing: a case's dispatch sheet (交办单) and closure sheet (办结单) as PDF
(``/cases/<number>/sheets/<kind>.pdf``), for whoever may see the case; the case page's own
print stylesheet is ``static/print.css``. See docs/printing.md."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, g
from flask_babel import gettext as _
from sqlalchemy import select

from workflows.cases import flows
from workflows.cases.enums import CaseStatus
from workflows.cases.models import Case, CaseDepartment
from workflows.cases.service import get_case
from workflows.users.models import CASE_ROLES

from .. import identity
from ..cases.labels import Labels, department_name
from ..errors import render_error
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang, local_time
from ..security import roles_required
from .sheets import KINDS, Sheet, render

bp = Blueprint("printing", __name__)


def _departments(case: Case, labels: Labels) -> tuple[str, list[str]]:
    rows = db.session.execute(
        select(CaseDepartment.role, CaseDepartment.department_id)
        .where(CaseDepartment.case_id == case.id)
        .order_by(CaseDepartment.id)
    ).all()
    lead = labels.department(case.lead_department_id)
    co = [labels.department(dept) for role, dept in rows if role == "co"]
    return lead, co


def sheet_of(case: Case, kind: str) -> Sheet | str:
    """The sheet, or why it cannot be printed yet (a message for the user)."""
    if kind == "dispatch" and case.dispatched_at is None:
        return _("Case %(n)s has not been dispatched: it has no dispatch sheet yet.", n=case.number)
    if kind == "closure" and case.replied_at is None and case.status != CaseStatus.CLOSED:
        return _(
            "Case %(n)s has no reply and is not closed: it has no closure sheet yet.",
            n=case.number,
        )
    hotline = get_hotline()
    language = lang()
    labels = Labels(db.session, language)
    field = {
        f["key"]: f["label"]
        for f in hotline.forms.get(flows.INTAKE_FORM).describe(language, context={})["fields"]
    }
    who = identity.shown(case)
    lead, co = _departments(case, labels)
    area = labels.department_of_code(case.area) if case.area else ""
    rows: list[tuple[str, str]] = [
        (field.get("case_type", _("Case type")), labels.case_type(case.case_type)),
        (field.get("category", _("Category")), case.category or ""),
        (field.get("urgency", _("Urgency")), labels.urgency(case.urgency)),
        (field.get("channel", _("Channel")), labels.option("channel", case.channel)),
        (_("Recorded"), local_time(case.created_at)),
        (field.get("caller_name", _("Caller")), who.name),
        (field.get("caller_phone", _("Phone")), who.phone),
        (field.get("area", _("Area")), area),
        (field.get("address", _("Address")), who.address),
        (field.get("description", _("Description")), who.text(case.description, case)),
        (_("Lead department"), lead),
        (_("Co-handling departments"), "、".join(co) if language == "zh" else ", ".join(co)),
        (_("Dispatched at"), local_time(case.dispatched_at)),
    ]
    if kind == "dispatch":
        rows += [
            (_("Sign for by"), local_time(case.sign_due)),
            (_("Reply by"), local_time(case.reply_due)),
        ]
        sealed_by = str(current_app.config["CENTRE_NAME"])
        title = _("Dispatch sheet")
    else:
        rows += [
            (_("Signed for"), local_time(case.signed_at)),
            (_("Reply by"), local_time(case.reply_due)),
            (_("Replied at"), local_time(case.replied_at)),
            (_("Reply"), who.text(case.reply_text, case)),
            (_("Outcome"), labels.outcome(case.outcome)),
            (_("Called back at"), local_time(case.callback_at)),
            (_("Satisfaction"), labels.option("satisfaction", case.satisfaction)),
            (_("Resolved"), labels.option("resolved", case.resolved)),
            (_("Closed at"), local_time(case.closed_at)),
        ]
        department = labels.departments.get(case.lead_department_id)
        sealed_by = department_name(department, language) if department else lead
        title = _("Closure sheet")
    return Sheet(
        kind=kind,
        centre=str(current_app.config["CENTRE_NAME"]),
        title=title,
        number=case.number,
        rows=rows,
        sealed_by=sealed_by,
        printed_at=local_time(hotline.clock.now()),
        printed_by=g.user.display_name or g.user.username,
    )


def sheet_response(case: Case, kind: str) -> Response | tuple[int, str]:
    """The sheet as a PDF download, recorded as an export of the caller's data; or (status,
    message) when there is no such sheet (404) or not yet (409). Pages and the API share it."""
    if kind not in KINDS:
        return 404, _("There is no sheet %(kind)s.", kind=kind)
    identity.surface("print")  # the caller as a sheet shows it (sheet_of reads it)
    made = sheet_of(case, kind)
    if isinstance(made, str):
        return 409, made
    identity.record([case], "print", sheet=kind)
    pdf = render(made)
    name = f"{made.title}-{case.number}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{kind}-{case.number}.pdf\"; filename*=UTF-8''{quote(name)}"
            ),
            "Cache-Control": "no-store",
        },
    )


@bp.get("/cases/<number>/sheets/<kind>.pdf")
@roles_required(*CASE_ROLES)
def sheet(number: str, kind: str):
    """A case's sheet as a PDF download (recorded as an export of the caller's data)."""
    if kind not in KINDS:
        return render_error(404, _("There is no sheet %(kind)s.", kind=kind))
    case = get_case(db.session, number=number, user=g.user)
    made = sheet_response(case, kind)
    if isinstance(made, tuple):
        return render_error(*made)
    return made
