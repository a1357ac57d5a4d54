"""Thin views: the case list (search, CSV), the case page, its diagram, notes and merging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict

from engine.errors import ConflictError, NotFound
from engine.models import Definition
from workflows.calls.models import Call
from workflows.cases import flows
from workflows.cases.confidentiality import mask_phone, views_of
from workflows.cases.flows import INTERIM_REPLY
from workflows.cases.models import Case, CaseDepartment, CaseNote
from workflows.cases.reads import element_markers
from workflows.cases.service import callback_attempts, can_act, get_case, visible_cases
from workflows.cases.task_due import due_states
from workflows.cohandling.service import cohandling_of
from workflows.dispatch.service import known_categories
from workflows.errors import DomainError, FormInvalid
from workflows.users import saved_views
from workflows.users.models import CASE_ROLES, Role, User

from .. import identity
from ..calls.board import duration
from ..calls.pop import outcome_label as call_outcome_label
from ..deliveries import labels as delivery_labels
from ..deliveries import of_case_page
from ..error_messages import translated
from ..extensions import db
from ..headers import playable
from ..hotline import get_hotline
from ..i18n import lang, local_time
from ..pagination import COUNT_CAP, CSV_LIMIT, csv_response, paginate, wants_csv
from ..security import roles_required
from ..sorting import read_sort
from . import bp, search
from .diagram_names import shown_diagram
from .labels import Labels, bilingual, yes_no
from .progress import deadlines
from .timeline import Timeline

ALL_ROLES = CASE_ROLES
MERGERS = (Role.DISPATCHER, Role.SUPERVISOR)
#: who reads the log of full views of a confidential caller on the case page
VIEW_LOG_READERS = (Role.SUPERVISOR, Role.ADMIN)


# -- the list -------------------------------------------------------------------------------


@bp.get("/cases")
@roles_required(*ALL_ROLES)
def index():
    return _list_page(request.args)


def _list_page(
    args: Mapping[str, str], *, view_name: str = "", view_errors: dict[str, list[str]] | None = None
):
    session = db.session
    labels = Labels(session, lang())
    found = search.read(args, labels)
    sorting = read_sort(args, search.CASE_SORTS)
    found.errors.update(sorting.errors)
    context = {
        "sorting": sorting,
        "kpi_label": kpi_label,
        "department_choices": department_choices(session, labels),
        "labels": labels,
        "categories": [(c, c) for c in known_categories(session)],
        "saved_views": saved_views.views_of(session, g.user, LIST_KEY),
        "filtered": saved_views.query_of(args, VIEW_FIELDS),
        "view_name": view_name,
        "view_errors": view_errors,
    }
    if found.errors:
        return render_template("cases/index.html", search=found, page=None, **context), 400
    now = get_hotline().clock.now()
    stmt = search.cases(session, g.user, found, tz=get_hotline().tz, now=now, sorting=sorting)
    if wants_csv():
        identity.surface("csv")
        rows = session.scalars(stmt.limit(CSV_LIMIT).execution_options(yield_per=500))
        export = identity.Export()
        response = csv_response(
            "cases.csv", csv_header(), (csv_row(c, labels) for c in export.counted(rows))
        )
        export.record("csv")  # csv_response has built the file: before a byte is sent
        return response
    page = paginate(session, stmt, count_cap=COUNT_CAP)
    identity.record(page.items, "list")
    status = 422 if view_errors else 200
    return render_template("cases/index.html", search=found, page=page, now=now, **context), status


def department_choices(session, labels: Labels) -> list[tuple[str, str]]:
    """The department filter's choices: every unit for the centre's roles; for a handler, who
    sees only the cases its department leads or co-handles, its own department and the units
    that share a case with it (no other filter value can find anything)."""
    every = labels.department_choices()
    if g.user.role != Role.HANDLER:
        return every
    if g.user.department_id is None:
        return []
    mine = CaseDepartment.__table__.alias("mine")
    linked = set(
        session.scalars(
            select(CaseDepartment.department_id)
            .join(mine, mine.c.case_id == CaseDepartment.case_id)
            .where(mine.c.department_id == g.user.department_id)
            .distinct()
        )
    ) | {g.user.department_id}
    codes = {labels.departments[i].code for i in linked if i in labels.departments}
    return [(code, name) for code, name in every if code in codes]


def kpi_label(name: str) -> str:
    """A KPI's name in the page's language (the case list's ``kpi`` filter)."""
    from workflows.kpi.service import COHANDLING_KPI, COHANDLING_LABEL, KPI_NAMES

    if name == COHANDLING_KPI:
        return COHANDLING_LABEL.name(lang())
    return KPI_NAMES[name].name(lang()) if name in KPI_NAMES else name


#: the case list's key among saved views
LIST_KEY = "cases"
#: what a saved view keeps: the filters and the order
VIEW_FIELDS = (*search.FIELDS, "sort", "dir")


def saved_view_messages() -> dict[str, str]:
    """What a refused saved view's name is told, in the page's language (every list's)."""
    return {
        "required": _("Give the view a name."),
        "too_long": _("At most %(n)s characters.", n=saved_views.NAME_MAX),
        "empty": _("Choose at least one filter first."),
        "too_many": _("At most %(n)s saved views.", n=saved_views.MAX_VIEWS),
    }


@bp.post("/cases/views")
@roles_required(*ALL_ROLES)
def save_view():
    """Save the case list's filters under a name (the same name replaces its filters)."""
    query = saved_views.query_of(dict(parse_qsl(request.form.get("query", ""))), VIEW_FIELDS)
    name = request.form.get("name", "")
    try:
        saved_views.save_view(
            db.session,
            g.user,
            list_key=LIST_KEY,
            name=name,
            query=query,
            now=get_hotline().clock.now(),
            messages=saved_view_messages(),
        )
    except FormInvalid as exc:
        return _list_page(
            ImmutableMultiDict(parse_qsl(query)),
            view_name=name,
            view_errors={"name": sum(exc.errors.values(), [])},
        )
    flash(_("View saved: %(name)s.", name=name.strip()))
    return redirect(url_for("cases.index") + "?" + query)


@bp.post("/cases/views/<int:view_id>/delete")
@roles_required(*ALL_ROLES)
def delete_view(view_id: int):
    try:
        name = saved_views.delete_view(db.session, g.user, view_id)
    except NotFound:
        abort(404)
    flash(_("View deleted: %(name)s.", name=name))
    return redirect(url_for("cases.index"))


def csv_header() -> list[str]:
    return [
        _("Number"),
        _("Created"),
        _("Case type"),
        _("Urgency"),
        _("Channel"),
        _("Status"),
        _("Category"),
        _("Caller"),
        _("Phone"),
        _("Address"),
        _("Description"),
        _("Intake outcome"),
        _("Lead department"),
        _("Dispatched at"),
        _("Sign for by"),
        _("Signed for"),
        _("Reply by"),
        _("Replied at"),
        _("Closed at"),
        _("Due state"),
        _("Escalated"),
        _("Returns"),
        _("Extensions"),
        _("Reopens"),
        _("Outcome"),
        _("Satisfaction"),
        _("Resolved"),
    ]


def csv_row(case: Case, labels: Labels) -> list[Any]:
    caller = identity.shown(case)
    return [
        case.number,
        local_time(case.created_at),
        labels.case_type(case.case_type),
        labels.urgency(case.urgency),
        labels.option("channel", case.channel),
        labels.status(case.status),
        case.category,
        caller.name,
        caller.phone,
        caller.address,
        caller.text(case.description, case),
        labels.option("intake_outcome", case.intake_outcome),
        labels.department(case.lead_department_id),
        local_time(case.dispatched_at),
        local_time(case.sign_due),
        local_time(case.signed_at),
        local_time(case.reply_due),
        local_time(case.replied_at),
        local_time(case.closed_at),
        labels.due_state(case.due_state),
        yes_no(case.escalated or case.sign_escalated),
        case.return_count,
        case.extension_count,
        case.reopen_count,
        labels.outcome(case.outcome),
        labels.option("satisfaction", case.satisfaction),
        labels.option("resolved", case.resolved),
    ]


# -- one case -------------------------------------------------------------------------------


@bp.get("/cases/<number>")
@roles_required(*ALL_ROLES)
def show(number: str):
    case = get_case(db.session, number=number, user=g.user)
    return render_show(case)


@bp.post("/cases/<number>/reveal")
@roles_required(*ALL_ROLES)
def reveal(number: str):
    """The case page with its masked caller shown in full, for a role that may (recorded as a
    reveal); a confidential case stays masked for a department."""
    case = get_case(db.session, number=number, user=g.user)
    who = identity.shown(case)
    if not who.masked:
        return redirect(url_for("cases.show", number=number))
    if not who.revealable:
        abort(403)
    return render_show(case, channel="reveal")


def details_rows(case: Case) -> list[tuple[str, str]]:
    """The case type's own intake fields (``Case.details``) as (label, value) in the form's
    order and the page's language; a field the form no longer has shows by its key."""
    if not case.details:
        return []
    hotline = get_hotline()
    spec = hotline.case_types.get(case.case_type)
    fields: dict[str, Any] = {}
    if spec is not None and spec.details_form and hotline.forms.exists(spec.details_form):
        described = hotline.forms.get(spec.details_form).describe(lang(), context={})
        fields = {f["key"]: f for f in described["fields"]}
    rows = []
    for key in [*fields, *(k for k in case.details if k not in fields)]:
        if key not in case.details:
            continue
        value, field = case.details[key], fields.get(key, {})
        options = {str(o["value"]): o["label"] for o in field.get("options") or []}
        if isinstance(value, bool):
            shown = _("yes") if value else _("no")
        elif isinstance(value, list):
            shown = "、".join(options.get(str(v), str(v)) for v in value)
        elif value is None:
            shown = ""
        else:
            shown = options.get(str(value), str(value))
        rows.append((field.get("label") or key, shown))
    return rows


def render_show(case: Case, *, status: int = 200, channel: str = "page", **forms: Any):
    identity.record([case], channel)  # every rendering shows the caller (also with errors)
    session = db.session
    hotline = get_hotline()
    labels = Labels(session, lang())
    now = hotline.clock.now()
    intake_labels = {
        f["key"]: f["label"]
        for f in hotline.forms.get(flows.INTAKE_FORM).describe(lang(), context={})["fields"]
    }
    departments = session.execute(
        select(CaseDepartment.role, CaseDepartment.department_id)
        .where(CaseDepartment.case_id == case.id)
        .order_by(CaseDepartment.role.desc(), CaseDepartment.id)
    ).all()
    master = session.get(Case, case.merged_into_id) if case.merged_into_id else None
    duplicates = session.scalars(
        visible_cases(session, g.user).where(Case.merged_into_id == case.id).order_by(Case.id)
    ).all()
    all_notes = session.scalars(
        select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id)
    ).all()
    notes = [n for n in all_notes if n.kind != INTERIM_REPLY]
    interim = [n for n in all_notes if n.kind == INTERIM_REPLY]
    attempts = callback_attempts(session, case_ids=[case.id]).get(case.id, [])
    # the calls the case was recorded from or that were about it (docs/calls.md)
    calls = session.scalars(
        select(Call).where(Call.case_id == case.id).order_by(Call.arrived_at, Call.id)
    ).all()
    # who saw the confidential caller in full: for administrators and supervisors
    views = (
        views_of(session, case_id=case.id)
        if case.confidential and g.user.role in {str(r) for r in VIEW_LOG_READERS}
        else None
    )
    authors = _display_names(
        {n.author for n in all_notes}
        | {a.user for a in attempts}
        | {v.username for v in views or ()}
        | {c.agent for c in calls if c.agent}
    )
    entries, ready, actionable, diagram, definition = [], [], [], None, None
    if case.instance_id is not None:
        runtime = hotline.runtime
        instance = runtime.instance(session, case.instance_id)
        definition = session.get(Definition, instance.definition_id)
        info = (definition.info or {}) if definition else {}
        timeline = Timeline(
            session, labels, info.get("user_tasks", {}), info.get("form_versions", {})
        )
        entries = timeline.entries(runtime.events(session, case.instance_id))
        ready = runtime.ready_tasks(session, case.instance_id)
        actionable = [t for t in ready if can_act(g.user, t, g.department)]
        diagram = {
            "url": url_for("cases.diagram", number=case.number),
            **element_markers(session, case.instance_id),
        }
    return render_template(
        "cases/show.html",
        case=case,
        labels=labels,
        intake_labels=intake_labels,
        details_rows=details_rows(case),
        area=labels.department_of_code(case.area) if case.area else "",
        departments=departments,
        master=master,
        duplicates=duplicates,
        deadlines=deadlines(case, now),
        now=now,
        notes=notes,
        attempts=attempts,
        calls=calls,
        call_caller=_call_caller(case),
        recording=recording_url,
        call_outcome=call_outcome_label,
        duration=duration,
        identity_views=views,
        view_channels=_view_channels(),
        interim=interim,
        authors=authors,
        entries=entries,
        ready=ready,
        actionable={t.task_id for t in actionable},
        task_states=due_states(session, [(t, case) for t in ready], now=now),
        task_name=lambda t: bilingual(t.name, lang()),
        diagram=diagram,
        definition=definition,
        can_merge=g.user.role in {str(r) for r in MERGERS},
        cohandling=cohandling_of(session, case=case, now=now)
        if any(role == "co" for role, _id in departments)
        else None,
        deliveries=of_case_page(case),
        delivery_labels=delivery_labels(),
        note_form=forms.get("note_form") or {},
        merge_form=forms.get("merge_form") or {},
    ), status


def _call_caller(case: Case):
    """A call's number as this viewer sees the case's caller: masked where the phone is."""
    masked = identity.shown(case).masked
    return lambda call: (mask_phone(call.caller) if masked else call.caller) or _("withheld")


def recording_url(url: str | None) -> dict[str, Any] | None:
    """A recording's address if it is an http(s) URL, and whether the page may play it
    (``HOTLINE_RECORDING_HOSTS``; else it is only linked); the server never fetches it."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return {"url": url, "playable": playable(url)}


def _view_channels() -> dict[str, str]:
    """Where a confidential caller was seen, for the view log on the case page."""
    return {
        "page": _("case page"),
        "list": _("case list"),
        "task": _("task page"),
        "csv": _("CSV export"),
        "api": _("API"),
        "api_list": _("API list"),
        "reveal": _("revealed on the case page"),
        "print": _("printed sheet"),
        "export": _("case export"),
    }


def _display_names(usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    return dict(
        db.session.execute(
            select(User.username, User.display_name).where(User.username.in_(usernames))
        ).all()
    )


@bp.get("/cases/<number>/diagram.xml")
@roles_required(*ALL_ROLES)
def diagram(number: str):
    """The diagram of the definition version the case runs on."""
    session = db.session
    case = get_case(session, number=number, user=g.user)
    if case.instance_id is None:
        raise NotFound(f"case {number} has no workflow")
    instance = get_hotline().runtime.instance(session, case.instance_id)
    definition = session.get(Definition, instance.definition_id)
    if definition is None:
        raise NotFound(f"the diagram of case {number} is missing")
    return Response(shown_diagram(definition.xml, lang()), mimetype="application/xml")


@bp.post("/cases/<number>/notes")
@roles_required(*ALL_ROLES)
def note(number: str):
    session = db.session
    case = get_case(session, number=number, user=g.user)
    body = request.form.get("body") or ""
    if len(body.strip()) > 4000:  # refused with its length, never cut (no maxlength)
        errors = [_("At most %(n)s characters; this has %(m)s.", n=4000, m=len(body.strip()))]
        return render_show(case, status=400, note_form={"body": body, "errors": errors})
    try:
        flows.add_note(session, get_hotline(), number=case.number, user=g.user, body=body)
    except FormInvalid:
        errors = [_("Write the note first.")]
        return render_show(case, status=400, note_form={"body": body, "errors": errors})
    flash(_("Note added."))
    return redirect(url_for("cases.show", number=case.number) + "#notes")


@bp.post("/cases/<number>/merge")
@roles_required(*MERGERS)
def merge(number: str):
    session = db.session
    case = get_case(session, number=number, user=g.user)
    master = (request.form.get("master") or "").strip()
    reason = (request.form.get("reason") or "").strip()
    values = {"master": master, "reason": reason}
    error = None
    if not master:
        error = _("Enter the number of the master case.")
    elif master == case.number:
        error = _("A case cannot be merged into itself.")
    else:
        try:
            flows.merge_case(
                session,
                get_hotline(),
                duplicate_number=case.number,
                master_number=master,
                user=g.user,
                reason=reason,
            )
        except NotFound:
            error = _("There is no case numbered %(number)s.", number=master)
        except (DomainError, ConflictError) as exc:
            error = _("The cases could not be merged: %(reason)s", reason=translated(str(exc)))
    if error:
        session.rollback()
        case = get_case(session, number=number, user=g.user)
        return render_show(case, status=400, merge_form={**values, "error": error})
    flash(_("Case %(number)s merged into %(master)s.", number=case.number, master=master))
    return redirect(url_for("cases.show", number=case.number))
