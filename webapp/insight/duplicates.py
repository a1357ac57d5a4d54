"""Duplicate suggestions on the intake page (live, as the operator types) and the dispatch
task page, with the one-click merges (workflows/insight/duplicates.py)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.db import unit_of_work
from engine.errors import NotFound
from workflows.calls import links as call_links
from workflows.cases import flows
from workflows.cases.service import get_case
from workflows.errors import DomainError, Forbidden, FormInvalid
from workflows.insight import duplicates as service
from workflows.users.models import Role

from .. import attachments, i18n
from ..calls import pop as screen_pop
from ..error_messages import translated
from ..extensions import db
from ..hotline import get_hotline
from ..inbox.labels import labels
from ..security import roles_required

bp = Blueprint("duplicates", __name__)
bp.context_processor(labels)
#: who merges cases (webapp/api/cases.py MERGERS)
MERGERS = (Role.DISPATCHER, Role.SUPERVISOR)
#: the queue's rows that get the marker at most (~5-8 ms a row at a million cases)
MARK_ROWS = 50
REASONS = {
    "description": lambda s: _("similar description (%(score)s)", score=f"{s.score:.2f}"),
    "address": lambda s: _("same address"),
    "caller": lambda s: _("same caller"),
}


def days() -> int:
    return int(current_app.config.get("DUPLICATE_DAYS") or service.DEFAULT_DAYS)


def suggestions(draft: service.Draft) -> list[service.Suggestion]:
    return service.suggest(
        db.session, draft=draft, user=g.user, now=get_hotline().clock.now(), days=days()
    )


def reasons(suggestion: service.Suggestion) -> list[str]:
    return [REASONS[r](suggestion) for r in suggestion.reasons]


@bp.app_context_processor
def _helpers():
    return {
        "duplicate_reasons": reasons,
        "duplicates_of": _duplicates_of,
        "duplicate_marks": _marks,
        "duplicate_mark_rows": MARK_ROWS,
    }


def _duplicates_of(case) -> list[service.Suggestion]:
    """The task page's list (template global)."""
    return suggestions(service.Draft.of(case))


def _marks(items) -> set[int]:
    """The cases of a queue's page that have candidates (dispatchers and supervisors)."""
    if g.user.role not in MERGERS:
        return set()
    cache = g.setdefault("duplicate_marks", {})
    key = id(items)
    if key not in cache:
        # the first MARK_ROWS rows: a page of 200 would wait a second and a half
        cases = [case for _task, case in items][:MARK_ROWS]
        cache[key] = service.marked(
            db.session, cases=cases, user=g.user, now=get_hotline().clock.now(), days=days()
        )
    return cache[key]


@bp.get("/intake/duplicates")
@roles_required(Role.OPERATOR)
def intake_list():
    """The intake page's panel: the open cases like the call being typed."""
    form = request.args
    draft = service.Draft(
        description=form.get("description", ""),
        address=form.get("address", ""),
        phone=form.get("caller_phone", ""),
        confidential=form.get("confidential") in ("true", "on", "1"),
    )
    return render_template("insight/_duplicates_intake.html", duplicates=suggestions(draft))


@bp.post("/intake/merge")
@roles_required(Role.OPERATOR)
def intake_merge():
    """Record the call being typed as a case and merge it into the chosen open case, in one
    transaction; on a refusal the intake page again, with what was typed and why."""
    from ..intake import views as intake

    lang = i18n.lang()
    form = intake._intake_form(lang)
    values, details = intake.intake_values(form, request.form, lang)
    master = (request.form.get("master") or "").strip()
    link = {
        "call_id": (request.form.get("call_id") or "").strip(),
        "callback": (request.form.get("callback") or "").strip(),
    }
    errors: dict[str, list[str]] = {}
    files = attachments.uploads()

    def files_to_master(_case, master) -> None:
        # the call's photos go where the matter is followed: the merged record is never
        # dispatched, so the master's handlers would not see them on it
        if files:
            attachments.attach(master, files, source="intake")

    try:
        if files:  # checked first: a refused file records nothing
            attachments.service.check(files, limits=attachments.limits())
        case, found = service.record_and_merge(
            db.session,
            get_hotline(),
            data=values,
            master_number=master,
            user=g.user,
            lang=lang,
            record=lambda: intake._record(values, link, lang=lang, files=False),
            then=files_to_master,
        )
    except FormInvalid as exc:
        errors = exc.errors
    except (DomainError, Forbidden) as exc:
        errors = {"_schema": [_("Not merged: %(reason)s", reason=translated(str(exc)))]}
    except call_links.CallLinkInvalid as exc:
        # nothing was recorded; sent again, the case is recorded without that link
        errors = {exc.field: [screen_pop.refusal(exc)]}
        link[exc.field] = ""
    else:
        flash(
            _(
                "Case %(number)s recorded and merged into %(master)s.",
                number=case.number,
                master=found.number,
            )
        )
        return redirect(url_for("intake.new"), 303)
    popped = intake._popped(link)
    return render_template(
        "intake/new.html",
        form=form,
        values=values,
        errors=errors,
        general_errors=intake.general_errors(intake.with_details(form, details), errors),
        details=details,
        earlier=intake._earlier(values.get("caller_phone", "")),
        suggested=intake._suggested(values),
        link=link,
        **popped["context"],
    ), 422


@bp.post("/cases/<number>/merge-duplicate")
@roles_required(*MERGERS)
def merge(number: str):
    """The task page's merge: this case into the chosen open case."""
    master = (request.form.get("master") or "").strip()
    task = (request.form.get("task") or "").strip()
    back = url_for("inbox.task", task_id=task) if task else ""
    session = db.session
    try:
        get_case(session, number=number, user=g.user)
        get_case(session, number=master, user=g.user)
    except NotFound:
        flash(_("Not merged: case %(number)s does not exist.", number=master or number), "error")
        return redirect(back or url_for("inbox.queues"), 303)
    try:
        with unit_of_work(session):
            flows.merge_case(
                session,
                get_hotline(),
                duplicate_number=number,
                master_number=master,
                user=g.user,
                reason="duplicate suggested",
            )
    except (DomainError, Forbidden) as exc:
        flash(_("Not merged: %(reason)s", reason=translated(str(exc))), "error")
        return redirect(back or url_for("inbox.queues"), 303)
    flash(_("Case %(number)s merged into %(master)s.", number=number, master=master))
    return redirect(url_for("inbox.queues"), 303)


def prune_job(app) -> service.PruneJob:
    """The worker's hourly pruning of the duplicate keys older than the window, on this app's
    database and clock (webapp/scheduler.py)."""
    from sqlalchemy.orm import Session

    with app.app_context():
        engine, clock = db.engine, get_hotline().clock
    days = int(app.config.get("DUPLICATE_DAYS") or service.DEFAULT_DAYS)
    return service.PruneJob(lambda: Session(engine), clock=clock, days=days)
