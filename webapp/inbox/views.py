"""Thin views: a user's inbox, the dispatcher's queues, and the task page."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from engine.errors import ConflictError, NotFound
from engine.models import HumanTask
from workflows.cases import flows, reads
from workflows.cases import service as cases
from workflows.cases.inbox import inbox_count, inbox_counts
from workflows.cases.models import Case, CaseDepartment
from workflows.cases.ordering import urgency_rank
from workflows.cases.steps import Step
from workflows.cases.task_due import due_states
from workflows.cohandling.service import cohandling_of
from workflows.departments.models import Department
from workflows.departments.service import active_departments, by_code
from workflows.dispatch.service import suggest_department
from workflows.errors import DomainError, Forbidden, FormInvalid
from workflows.users import saved_views
from workflows.users.models import Role

from .. import attachments, i18n, identity
from ..error_messages import translated
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import local_time, time_left
from ..intake.views import general_errors, submitted_values
from ..pagination import CSV_LIMIT, Page, csv_response, page_within, wants_csv
from ..security import roles_required
from ..sorting import DESC, Sortable, Sorting, read_sort, sort_message
from . import bp
from .history import case_steps, shown_value
from .labels import DUE_LABELS, labels, step_labels, step_labels_for

#: the dispatcher's queues, one per step; re-dispatch only for district platforms
QUEUES = (
    Step.DISPATCH,
    Step.REVIEW_RETURN,
    Step.REVIEW_EXTENSION,
    Step.REVIEW_SUSPENSION,
    Step.REVIEW_REPLY,
)
#: who has an inbox: besides the loop's roles, callback agents (callbacks) and the centre lead
#: (ignored supervision orders: lead_supervise)
WORKERS = (Role.DISPATCHER, Role.HANDLER, Role.SUPERVISOR, Role.CALLBACK, Role.LEAD)

bp.context_processor(labels)

# -- lists ----------------------------------------------------------------------------------

#: the columns the inbox and the queues sort by (a unit's ready tasks: a few thousand rows at
#: most, each sort reads them through the lane's index); without ``sort``, the most urgent
#: first, then the soonest deadline
TASK_SORTS = {
    "case": Sortable((Case.number,)),
    "task": Sortable((HumanTask.kind,)),
    "case_type": Sortable((Case.case_type,)),
    "urgency": Sortable((urgency_rank(),)),
    "category": Sortable((Case.category,)),
    "deadline": Sortable((func.coalesce(HumanTask.due_at, Case.reply_due),), nullable=True),
    "received": Sortable((Case.created_at,), first=DESC),
}


def _page(
    *, step: str | None, due_state: str | None, sorting: Sorting
) -> tuple[Page, dict[str, str]]:
    """A page of the user's tasks, and each task's own deadline state (task id -> state)."""
    now = get_hotline().clock.now()
    total = inbox_count(db.session, user=g.user, step=step, due_state=due_state, now=now)
    page, per_page = page_within(total)
    items = cases.inbox(
        db.session,
        user=g.user,
        step=step,
        due_state=due_state,
        now=now,
        limit=per_page,
        offset=(page - 1) * per_page,
        order=sorting.order_by((HumanTask.id,)),
    )
    identity.record([case for _task, case in items], "list")  # full for a callback agent
    return Page(items, page, per_page, total), due_states(db.session, items, now=now)


def _csv(name: str, *, step: str | None, due_state: str | None, sorting: Sorting):
    now = get_hotline().clock.now()
    rows = cases.inbox(
        db.session,
        user=g.user,
        step=step,
        due_state=due_state,
        now=now,
        limit=CSV_LIMIT,
        order=sorting.order_by((HumanTask.id,)),
    )
    states = due_states(db.session, rows, now=now)
    fmt = labels()
    identity.record([case for _task, case in rows], "csv")
    return csv_response(
        f"{name}.csv",
        [
            _("Case"),
            _("Task"),
            _("Case type"),
            _("Urgency"),
            _("Category"),
            _("Address"),
            _("Deadline"),
            _("Which deadline"),
            _("Time left"),
            _("Deadline state"),
            _("Returns"),
            _("Extensions"),
            _("Received"),
        ],
        (
            [
                case.number,
                fmt["task_label"](task),
                fmt["type_label"](case.case_type),
                fmt["urgency_label"](case.urgency),
                case.category,
                identity.shown(case).address,
                local_time(fmt["deadline"](task, case)),
                fmt["deadline_label"](task, case),
                time_left(fmt["deadline"](task, case)),
                fmt["due_label"](states.get(task.task_id)),
                case.return_count,
                case.extension_count,
                local_time(case.created_at),
            ]
            for task, case in rows
        ),
    )


@bp.get("/inbox")
@roles_required(*WORKERS)
def index():
    # the task type is a step; the parameter keeps its first name, so links still work
    step = request.args.get("element") or None
    due_state = request.args.get("due_state") or None
    problems = []
    # only the steps this user's tasks can be: a handler is never offered "Dispatch"
    elements = step_labels_for(g.user.role)
    if step and step not in Step._value2member_map_:
        problems.append(_("Task type: unknown value %(value)s, showing all.", value=step))
        step = None
    elif step and step not in elements:
        problems.append(
            _("Task type: %(value)s is never in your inbox, showing all.", value=_step_label(step))
        )
        step = None
    if due_state and due_state not in DUE_LABELS:
        problems.append(_("Deadline state: unknown value %(value)s, showing all.", value=due_state))
        due_state = None
    sorting = read_sort(request.args, TASK_SORTS)
    if sorting.errors:
        abort(400, description=sort_message(sorting))
    if wants_csv():
        return _csv("inbox", step=step, due_state=due_state, sorting=sorting)
    page, states = _page(step=step, due_state=due_state, sorting=sorting)
    return render_template(
        "inbox/index.html",
        page=page,
        task_states=states,
        element=step,
        due_state=due_state,
        problems=problems,
        elements=elements,
        due_states=DUE_LABELS,
        sorting=sorting,
        **_views_context("inbox"),
    )


def _step_label(step: str) -> str:
    """A step's label (any step's)."""
    return step_labels().get(step, step)


def _queues() -> list[str]:
    department = g.department
    district = department is not None and department.is_platform and department.parent_id
    return ([Step.REDISPATCH] if district else []) + list(QUEUES)


@bp.get("/queues")
@roles_required(Role.DISPATCHER)
def queues():
    names = _queues()
    counts = inbox_counts(db.session, user=g.user)
    queue = request.args.get("queue")
    if queue is None:
        queue = next((q for q in names if counts.get(q)), names[0])
    if queue not in names:
        abort(400, description=_("Queue: unknown value %(value)s.", value=queue))
    sorting = read_sort(request.args, TASK_SORTS)
    if sorting.errors:
        abort(400, description=sort_message(sorting))
    if wants_csv():
        return _csv(f"queue-{queue}", step=queue, due_state=None, sorting=sorting)
    page, states = _page(step=queue, due_state=None, sorting=sorting)
    return render_template(
        "inbox/queues.html",
        names=names,
        counts=counts,
        queue=queue,
        page=page,
        task_states=states,
        elements=step_labels(),
        sorting=sorting,
        **_views_context("queues"),
    )


# -- saved views of the inbox and the queues ------------------------------------------------

#: list key -> (its page, the query names a view keeps, who has the list)
VIEW_LISTS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "inbox": ("inbox.index", ("element", "due_state", "sort", "dir"), WORKERS),
    "queues": ("inbox.queues", ("queue", "sort", "dir"), (Role.DISPATCHER,)),
}


def _views_context(list_key: str) -> dict[str, Any]:
    """What a list's saved-views bar shows: the user's views, and the filters to save."""
    return {
        "saved_views": saved_views.views_of(db.session, g.user, list_key),
        "view_list": list_key,
        "filtered": saved_views.query_of(request.args, VIEW_LISTS[list_key][1]),
    }


def _view_list() -> tuple[str, str, tuple[str, ...]]:
    list_key = request.form.get("list") or ""
    if list_key not in VIEW_LISTS or g.user.role not in VIEW_LISTS[list_key][2]:
        abort(400, description=_("List: unknown value %(value)s.", value=list_key[:40]))
    endpoint, fields, _roles = VIEW_LISTS[list_key]
    return list_key, endpoint, fields


@bp.post("/inbox/views")
@roles_required(*WORKERS)
def save_view():
    """Save the inbox's or a queue's filters and order under a name (the same name replaces
    them); a bad name is said on the list, naming the field."""
    from ..cases.views import saved_view_messages

    list_key, endpoint, fields = _view_list()
    query = saved_views.query_of(dict(parse_qsl(request.form.get("query", ""))), fields)
    name = request.form.get("name", "")
    try:
        saved_views.save_view(
            db.session,
            g.user,
            list_key=list_key,
            name=name,
            query=query,
            now=get_hotline().clock.now(),
            messages=saved_view_messages(),
        )
    except FormInvalid as exc:
        for message in sum(exc.errors.values(), []):
            flash(_("Saved view name: %(message)s", message=message), "error")
    else:
        flash(_("View saved: %(name)s.", name=name.strip()))
    return redirect(url_for(endpoint) + ("?" + query if query else ""), 303)


@bp.post("/inbox/views/<int:view_id>/delete")
@roles_required(*WORKERS)
def delete_view(view_id: int):
    _list_key, endpoint, _fields = _view_list()
    try:
        name = saved_views.delete_view(db.session, g.user, view_id)
    except NotFound:
        abort(404)
    flash(_("View deleted: %(name)s.", name=name))
    return redirect(url_for(endpoint), 303)


# -- the task page --------------------------------------------------------------------------


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@roles_required(*WORKERS)
def task(task_id: str):
    session, hotline, lang = db.session, get_hotline(), i18n.lang()
    visible = visible_or_404(task_id)
    try:
        task, case = cases.get_task_for(session, task_id=task_id, user=g.user, found=visible)
    except Forbidden:
        raise
    except DomainError:
        return _gone(task_id)
    form, context = _task_form(task, lang)
    values, errors, status, conflict = _first_values(task, case), {}, 200, None
    seen_event = request.form.get("seen_event", type=int)
    if request.method == "POST":
        values = submitted_values(form, request.form)
        files = attachments.uploads()
        try:
            if files:  # checked before the step: a refused file completes nothing
                attachments.service.check(files, limits=attachments.limits())
            flows.complete_task(
                session,
                hotline,
                task_id=task_id,
                data=values,
                user=g.user,
                lang=lang,
                expected_version=request.form.get("expected_version", type=int),
                documents=(lambda case: attachments.attach(case, files, source="task"))
                if files
                else None,
            )
        except FormInvalid as exc:
            errors, status = exc.errors, 422
        except ConflictError as exc:
            try:
                task, case = cases.get_task_for(session, task_id=task_id, user=g.user)
            except DomainError:
                return _conflict(task_id, exc, values, form, seen_event)
            # still waiting: nothing was saved; show what changed and let them submit again
            form, context = _task_form(task, lang)
            conflict, status = exc, 409
        except Forbidden:
            raise
        except DomainError as exc:
            if not _still_ready(task_id):
                return _gone(task_id)
            errors, status = {"_schema": [translated(str(exc))]}, 422
        else:
            return _done(task, case, values)
    steps = case_steps(case, context, lang)
    co = _co_departments(case)
    identity.record([case], "task")
    return render_template(
        "inbox/task.html",
        task=task,
        task_state=due_states(session, [(task, case)], now=hotline.clock.now()).get(task.task_id),
        case=case,
        form=form,
        values=values,
        errors=errors,
        general_errors=general_errors(form, errors),
        conflict=conflict,
        changes=[s for s in steps if seen_event is not None and s["id"] > seen_event],
        steps=steps,
        replies=[s for s in steps if s["reply"]],
        lead=session.get(Department, case.lead_department_id) if case.lead_department_id else None,
        co=co,
        cohandling=cohandling_of(session, case=case, now=hotline.clock.now()) if co else None,
        area=by_code(session, case.area) if case.area else None,
        suggested=_suggestion(task, case),
        department_tree=_department_tree(lang) if task.kind == Step.DISPATCH else None,
        returned=_returned(task, case),
        version=reads.instance_version(db.session, case.instance_id),
        seen=max((s["id"] for s in steps), default=0),
        back=request.values.get("back", ""),
    ), status


def _task_form(task: HumanTask, lang: str) -> tuple[dict[str, Any], dict[str, Any]]:
    hotline = get_hotline()
    if not task.form_key:
        return {"key": "", "title": task.name, "fields": []}, {}
    context = flows.form_context(
        db.session,
        hotline,
        form_key=task.form_key,
        group=task.candidate_group,
        lang=lang,
    )
    form = hotline.forms.for_instance(db.session, instance_id=task.instance_id, key=task.form_key)
    return form.describe(lang, context=context), context


def _department_tree(lang: str) -> list[dict[str, Any]]:
    """The dispatch form's departments in groups, for its searchable picker
    (static/department_picker.js): the city's bureaus, then each district platform with its
    street offices below it, then any other unit; each ``{code, group, depth}``."""
    units = active_departments(db.session)
    by_id = {d.id: d for d in units}
    groups: dict[str, tuple[str, list[tuple[Department, int]]]] = {"city": (_("City bureaus"), [])}
    for unit in units:
        if unit.is_platform and unit.parent_id is None:
            continue  # the city's own platform is not a unit to dispatch to
        if unit.level == "district":
            groups.setdefault(unit.code, (i18n_name(unit, lang), []))[1].insert(0, (unit, 0))
        elif unit.level == "street" and unit.parent_id in by_id:
            parent = by_id[unit.parent_id]
            groups.setdefault(parent.code, (i18n_name(parent, lang), []))[1].append((unit, 1))
        elif unit.level == "city":
            groups["city"][1].append((unit, 0))
        else:
            groups.setdefault("other", (_("Other units"), []))[1].append((unit, 0))
    return [
        {"code": unit.code, "group": label, "depth": depth}
        for label, members in groups.values()
        for unit, depth in members
    ]


def i18n_name(unit: Department, lang: str) -> str:
    return unit.name_en if lang == "en" and unit.name_en else unit.name


def _suggestion(task: HumanTask, case: Case) -> Department | None:
    if task.kind != Step.DISPATCH or not case.category:
        return None
    return suggest_department(db.session, category=case.category, area=case.area)


def _returned(task: HumanTask, case: Case) -> dict[str, Any] | None:
    """The unit whose approved return brought the case back to dispatch, and its reason."""
    found = flows.returned_by(db.session, get_hotline(), task=task, case=case)
    if found is None:
        return None
    code, reason = found
    return {"code": code, "department": by_code(db.session, code), "reason": reason}


def _first_values(task: HumanTask, case: Case) -> dict[str, Any] | None:
    """What the form starts with: what the process knows (the days an extension asked for),
    and for a dispatch the catalogue's suggestion unless that unit has just returned it."""
    values = flows.task_defaults(db.session, get_hotline(), task=task, case=case)
    suggested = _suggestion(task, case)
    returned = _returned(task, case)
    if suggested and not (returned and returned["code"] == suggested.code):
        values["lead_department"] = suggested.code
    return values or None


def _still_ready(task_id: str) -> bool:
    return reads.task_state(db.session, task_id) == "ready"


def _co_departments(case: Case) -> list[Department]:
    return list(
        db.session.scalars(
            select(Department)
            .join(CaseDepartment, CaseDepartment.department_id == Department.id)
            .where(CaseDepartment.case_id == case.id, CaseDepartment.role == "co")
            .order_by(Department.code)
        )
    )


def _done(task: HumanTask, case: Case, values: dict[str, Any]):
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    status = labels()["status_label"](case.status)
    # what the user chose, not the task's name: a sign-for task ended by a return did not sign
    action = values.get("action")
    if action == "return":
        message = _(
            "Case %(number)s returned to the dispatch centre. The case is now: %(status)s.",
            number=case.number,
            status=status,
        )
    elif action == "request_extension":
        message = _(
            "Case %(number)s: extension requested. The case is now: %(status)s.",
            number=case.number,
            status=status,
        )
    elif action == "request_suspension":
        message = _(
            "Case %(number)s: suspension requested. The case is now: %(status)s.",
            number=case.number,
            status=status,
        )
    else:
        message = _(
            "Case %(number)s: %(task)s done. The case is now: %(status)s.",
            number=case.number,
            task=labels()["task_label"](task),
            status=status,
        )
    flash(message)
    if g.user.role == Role.DISPATCHER:
        back = request.form.get("back") or task.kind
        return redirect(url_for("inbox.queues", queue=back if back in _queues() else None), 303)
    return redirect(url_for("inbox.index"), 303)


def visible_or_404(task_id: str) -> tuple[HumanTask, Case]:
    """The task and its case if the user may see the case; otherwise the same 404 as for a
    task that does not exist (another department's task, like its case, does not exist for
    a handler: a 403 named the case), as the API answers."""
    found = reads.visible_task(db.session, task_id=task_id, user=g.user)
    if found is None:
        abort(404)
    return found[0], found[1]


def _visible_task(task_id: str) -> tuple[HumanTask | None, Case | None]:
    """The task and its case if the user may see the case (for saying what became of it)."""
    found = reads.task_with_case(db.session, task_id)
    if found is None:
        abort(404)
    task, case = found
    try:
        cases.get_case(db.session, number=case.number, user=g.user)
    except NotFound:  # another department's case: say no more than that the task is gone
        return task, None
    return task, case


def _gone(task_id: str):
    """The task is no longer waiting (done by someone else, or taken on by a deadline)."""
    task, case = _visible_task(task_id)
    return render_template("inbox/gone.html", task=task, case=case), 409


def _conflict(
    task_id: str,
    exc: ConflictError,
    values: dict[str, Any],
    form: dict[str, Any],
    seen_event: int | None,
):
    """A deadline timer took the task before the submission: say what happened, whether the
    engine kept the input in the case's history, and what was typed."""
    task, case = _visible_task(task_id)
    kept = reads.input_kept(db.session, task, after_event=seen_event)
    typed = [
        (f["label"], shown_value(f, values.get(f["key"])))
        for f in form["fields"]
        if values.get(f["key"]) not in (None, "", [])
    ]
    return render_template(
        "inbox/conflict.html",
        task=task,
        case=case,
        what=translated(exc.what_happened or str(exc)),
        kept=kept,
        typed=typed,
    ), 409
