"""``/api/v1/tasks``: the tasks you may act on (or have claimed), one task with its form,
claim and release, and completing it with the form's data, checked as on the task page."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import abort

from engine.errors import ConflictError
from engine.models import HumanTask
from workflows.cases import flows, reads
from workflows.cases import service as cases
from workflows.cases.claims import claim_task, claimed_count, claimed_tasks, release_task
from workflows.cases.inbox import inbox_count
from workflows.cases.models import Case
from workflows.users.models import Role

from .. import identity
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from . import schemas as s
from .auth import roles
from .blueprint import ApiBlueprint
from .errors import error_response
from .etags import check_if_match
from .idempotency import atomic, keep_on_error
from .present import case_data, json_response, page_data, task_data, task_etag, task_states
from .requests import json_object

blp = ApiBlueprint(
    "api-tasks",
    __name__,
    url_prefix="/api/v1/tasks",
    description="Tasks: your inbox, one task with its form, claim, release, complete.",
)
#: who works tasks here: besides the loop's roles, callback agents (callbacks) and the centre
#: lead (ignored supervision orders: lead_supervise)
WORKERS = (Role.DISPATCHER, Role.HANDLER, Role.SUPERVISOR, Role.CALLBACK, Role.LEAD)
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}}}


def _visible_task(task_id: str) -> tuple[HumanTask, Case, int]:
    """The task if its case is one the user may see (404 otherwise, as for the case), with
    its case and its instance's version (for the ETag and the engine's stale-save check)."""
    found = reads.visible_task(db.session, task_id=task_id, user=g.user)
    if found is None:
        abort(404, message=f"task {task_id} does not exist")
    return found


def _form(task: HumanTask) -> dict[str, Any] | None:
    if not task.form_key:
        return None
    hotline = get_hotline()
    context = flows.form_context(
        db.session,
        hotline,
        form_key=task.form_key,
        group=task.candidate_group,
        lang=lang(),
    )
    form = hotline.forms.for_instance(db.session, instance_id=task.instance_id, key=task.form_key)
    return form.describe(lang(), context=context)


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
        """Ready tasks for you, most urgent case first (critical, urgent, normal), then the
        task's own deadline (``due_at``, soonest first, none last), then the oldest: every one
        you may act on (your role's lane and your department's group), or only those you
        claimed."""
        page, per_page = args["page"], args["per_page"]
        where = {k: args.get(k) for k in ("step", "element", "due_state")}
        where["now"] = get_hotline().clock.now()
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
        states = task_states(rows)
        identity.record([c for _t, c in rows], "api_list")
        items = [task_data(t, c, states.get(t.task_id)) for t, c in rows]
        return json_response(page_data(items, page, per_page, total))


@blp.route("/<task_id>")
class Task(MethodView):
    @blp.response(200, s.TaskDetailSchema, headers=ETAG_HEADER)
    def get(self, task_id: str):
        """One task of a case you may see, with its form (fields, options, rules) when it
        waits for you, and its ETag."""
        task, case, version = _visible_task(task_id)
        identity.record([case], "task")  # the task needs the caller's contact (privacy.md)
        data = task_data(task, case)
        data["form"] = _form(task) if task.state == "ready" else None
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
        task, case = claim_task(
            db.session,
            task_id=task_id,
            user=g.user,
            clock=get_hotline().clock,
            runtime=get_hotline().runtime,
        )
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
        task, case = release_task(
            db.session, task_id=task_id, user=g.user, runtime=get_hotline().runtime
        )
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
        except ConflictError as exc:
            # answered, not raised: a timer's effect and the rejected input must commit with
            # the error (the other refusals roll back through webapp.errors)
            keep_on_error()
            return error_response(409, str(exc))
        db.session.flush()  # the case mirror's changes, before reading them back
        # The engine wrote the task rows with plain SQL: read them afresh (populate_existing).
        # The case object is the one the case mirror changed through the ORM: it is current.
        rows = reads.task_and_ready(db.session, task_id=task_id, instance_id=case.instance_id)
        task = next(t for t in rows if t.task_id == task_id)
        states = task_states((t, case) for t in rows)
        next_tasks = [task_data(t, case, states[t.task_id]) for t in rows if t.task_id != task_id]
        return json_response(
            {
                "task": task_data(task, case, states[task_id]),
                "case": case_data(case),
                "next_tasks": next_tasks,
            }
        )


@blp.route("/<task_id>/interim-reply")
class InterimReply(MethodView):
    @roles(Role.HANDLER)
    @blp.arguments(s.InterimReplyArgs)
    @blp.arguments(s.IfMatchHeaders, location="headers")
    @blp.response(201, s.NoteSchema)
    @atomic()
    def post(self, args: dict[str, Any], _headers, task_id: str):
        """An interim reply (阶段性答复) to the citizen from the unit handling the case: kept
        and shown on the case, its handling task stays open (422 naming ``body`` when empty
        or over 2000 characters; 409 when the task is not a handling task or not waiting)."""
        task, case, version = _actionable(task_id)
        check_if_match(lambda: task_etag(task, version), f"task {task_id}")
        note = flows.send_interim_reply(
            db.session,
            get_hotline(),
            task_id=task_id,
            body=args["body"],
            user=g.user,
            lang=lang(),
            found=(task, case),
        )
        return json_response(s.NoteSchema().dump(note), 201)
