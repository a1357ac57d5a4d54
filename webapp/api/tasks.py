"""``/api/v1/tasks``: the tasks you may act on (or have claimed), one task with its form,
claim and release, and completing it with the form's data, checked as on the task page."""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import and_, bindparam, or_, select

from engine.errors import ConflictError
from engine.models import HumanTask, ProcessInstance
from workflows.cases import flows
from workflows.cases import service as cases
from workflows.cases.claims import claim_task, claimed_count, claimed_tasks, release_task
from workflows.cases.inbox import inbox_count
from workflows.cases.models import Case
from workflows.errors import DomainError, Forbidden, FormInvalid
from workflows.users.models import Role

from ..extensions import db
from ..hotline import get_hotline
from . import schemas as s
from .auth import roles
from .blueprint import ApiBlueprint
from .errors import error_response
from .etags import check_if_match
from .idempotency import atomic, keep_on_error
from .present import case_data, json_response, page_data, task_data, task_etag
from .requests import json_object, lang

blp = ApiBlueprint(
    "api-tasks",
    __name__,
    url_prefix="/api/v1/tasks",
    description="Tasks: your inbox, one task with its form, claim, release, complete.",
)
WORKERS = (Role.DISPATCHER, Role.HANDLER, Role.SUPERVISOR)
#: after a completion: the completed task and its case's ready tasks, in one read, afresh
#: (the engine writes task rows with plain SQL); built once
_TASK_AND_READY = (
    select(HumanTask)
    .where(
        or_(
            HumanTask.task_id == bindparam("task_id"),
            and_(HumanTask.instance_id == bindparam("instance_id"), HumanTask.state == "ready"),
        )
    )
    .order_by(HumanTask.id)
    .execution_options(populate_existing=True)
)
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}}}


@functools.lru_cache(maxsize=1024)
def _visible_task_stmt(role: str, department_id: int | None):
    """The task and its case if the case is one users of this role and department may see:
    the case list's own rule (``visible_cases``, which depends on nothing else), joined to
    the task, built once per (role, department) instead of once per request."""
    user = SimpleNamespace(role=role, department_id=department_id)
    return (
        cases.visible_cases(None, user)
        .join(HumanTask, HumanTask.instance_id == Case.instance_id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.task_id == bindparam("task_id"))
        .with_only_columns(HumanTask, Case, ProcessInstance.version)
    )


def _visible_task(task_id: str) -> tuple[HumanTask, Case, int]:
    """The task if its case is one the user may see (404 otherwise, as for the case), with
    its case and its instance's version (for the ETag and the engine's stale-save check)."""
    stmt = _visible_task_stmt(str(g.user.role), g.user.department_id)
    row = db.session.execute(stmt, {"task_id": task_id}).first()
    if row is None:
        abort(404, message=f"task {task_id} does not exist")
    return row[0], row[1], row[2]


def _form(task: HumanTask, case: Case) -> dict[str, Any] | None:
    if not task.form_key:
        return None
    hotline = get_hotline()
    context = flows.form_context(
        db.session,
        hotline,
        form_key=task.form_key,
        case=case,
        group=task.candidate_group,
        lang=lang(),
    )
    return hotline.forms.get(task.form_key).describe(lang(), context=context)


def _actionable(task_id: str) -> tuple[HumanTask, Case, int]:
    """A ready task the user may act on: 404 (not visible), 409 (not waiting), 403 (the
    checks of ``cases.get_task_for``, on the rows already read)."""
    task, case, version = _visible_task(task_id)
    if task.state != "ready":
        message = f"task {task.name!r} is {task.state}, not waiting any more"
        abort(409, message=message, headers={"ETag": task_etag(task, version)})
    if not cases.can_act(g.user, task, g.department):
        abort(403, message=f"{g.user.username} may not act on {task.name!r} of case {case.number}")
    return task, case, version


@blp.route("")
class Tasks(MethodView):
    @roles(*WORKERS)
    @blp.arguments(s.TaskArgs, location="query")
    @blp.response(200, s.TaskPageSchema)
    def get(self, args: dict[str, Any]):
        """Ready tasks for you, soonest deadline first: every one you may act on (your
        role's lane and your department's group), or only those you claimed."""
        page, per_page = args["page"], args["per_page"]
        where = {k: args.get(k) for k in ("step", "element", "due_state")}
        if args["scope"] == "mine":
            total = claimed_count(db.session, user=g.user, **where)
            rows = claimed_tasks(
                db.session,
                user=g.user,
                **where,
                limit=per_page,
                offset=(page - 1) * per_page,
            )
        else:
            total = inbox_count(db.session, user=g.user, **where)
            rows = cases.inbox(
                db.session,
                user=g.user,
                **where,
                limit=per_page,
                offset=(page - 1) * per_page,
            )
        items = [task_data(t, c) for t, c in rows]
        return json_response(page_data(items, page, per_page, total))


@blp.route("/<task_id>")
class Task(MethodView):
    @blp.response(200, s.TaskDetailSchema, headers=ETAG_HEADER)
    def get(self, task_id: str):
        """One task of a case you may see, with its form (fields, options, rules) when it
        waits for you, and its ETag."""
        task, case, version = _visible_task(task_id)
        data = task_data(task, case)
        data["form"] = _form(task, case) if task.state == "ready" else None
        return json_response(data, etag=task_etag(task, version))


@blp.route("/<task_id>/claim")
class Claim(MethodView):
    @roles(*WORKERS)
    @blp.arguments(s.IfMatchHeaders, location="headers")
    @blp.response(200, s.TaskSchema, headers=ETAG_HEADER)
    @atomic()
    def post(self, _headers, task_id: str):
        """Claim the task: you are on it (409 if someone else claimed it first)."""
        task, _case, version = _actionable(task_id)
        check_if_match(lambda: task_etag(task, version), f"task {task_id}")
        try:
            task, case = claim_task(
                db.session,
                task_id=task_id,
                user=g.user,
                clock=get_hotline().clock,
                runtime=get_hotline().runtime,
            )
        except ConflictError as exc:
            abort(409, message=str(exc))
        return json_response(task_data(task, case), etag=task_etag(task))


@blp.route("/<task_id>/release")
class Release(MethodView):
    @roles(*WORKERS)
    @blp.arguments(s.IfMatchHeaders, location="headers")
    @blp.response(200, s.TaskSchema, headers=ETAG_HEADER)
    @atomic()
    def post(self, _headers, task_id: str):
        """Give a task you claimed back to your group."""
        task, _case, version = _actionable(task_id)
        check_if_match(lambda: task_etag(task, version), f"task {task_id}")
        try:
            task, case = release_task(
                db.session, task_id=task_id, user=g.user, runtime=get_hotline().runtime
            )
        except Forbidden as exc:
            abort(403, message=str(exc))
        return json_response(task_data(task, case), etag=task_etag(task))


@blp.route("/<task_id>/complete")
class Complete(MethodView):
    @roles(*WORKERS)
    @blp.arguments(s.IfMatchHeaders, location="headers")
    @blp.doc(
        requestBody={
            "required": True,
            "description": "the form's fields (GET the task for them): key -> value",
            "content": {
                "application/json": {"schema": {"type": "object", "additionalProperties": True}}
            },
        }
    )
    @blp.response(200, s.CompletedSchema)
    @atomic()
    def post(self, _headers, task_id: str):
        """Complete the task with its form's data, checked by the same rules as the task
        page (422 per field). 409 when a deadline took the task first: that is recorded,
        with what you sent, in the case's history."""
        task, case, expected = _actionable(task_id)
        check_if_match(lambda: task_etag(task, expected), f"task {task_id}")
        data = json_object()
        try:
            flows.complete_task(
                db.session,
                get_hotline(),
                task_id=task_id,
                data=data,
                user=g.user,
                lang=lang(),
                expected_version=expected,
                found=(task, case),  # read by _actionable in this unit of work
            )
        except FormInvalid as exc:
            abort(422, errors=exc.errors)
        except ConflictError as exc:
            keep_on_error()  # a timer's effect and the rejected input stay recorded
            return error_response(409, str(exc))
        except Forbidden as exc:
            abort(403, message=str(exc))
        except DomainError as exc:
            abort(409, message=str(exc))
        db.session.flush()  # the case mirror's changes, before reading them back
        # The engine wrote the task rows with plain SQL: read them afresh (populate_existing).
        # The case object is the one the case mirror changed through the ORM: it is current.
        rows = db.session.scalars(
            _TASK_AND_READY, {"task_id": task_id, "instance_id": case.instance_id}
        ).all()
        task = next(t for t in rows if t.task_id == task_id)
        next_tasks = [task_data(t, case) for t in rows if t.task_id != task_id]
        return json_response(
            {"task": task_data(task, case), "case": case_data(case), "next_tasks": next_tasks}
        )
