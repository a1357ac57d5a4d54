"""The interim reply (阶段性答复) from the task page: the handling unit tells the citizen where
the case stands, and its handling task stays open."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import ConflictError
from workflows.cases import flows, reads
from workflows.cases import service as cases
from workflows.errors import DomainError, Forbidden, FormInvalid
from workflows.users.models import Role

from .. import i18n
from ..error_messages import translated
from ..extensions import db
from ..hotline import get_hotline
from ..security import roles_required
from . import bp
from .views import visible_or_404


@bp.post("/tasks/<task_id>/interim")
@roles_required(Role.HANDLER)
def interim_reply(task_id: str):
    visible_or_404(task_id)  # another department's task: 404, as one that does not exist
    body = request.form.get("body") or ""
    try:
        flows.send_interim_reply(
            db.session, get_hotline(), task_id=task_id, body=body, user=g.user, lang=i18n.lang()
        )
    except FormInvalid as exc:
        return _again(task_id, body, exc.errors.get("body") or [str(exc)], 422)
    except ConflictError as exc:
        return _again(task_id, body, [str(exc.what_happened or exc)], 409)
    except Forbidden:
        raise
    except DomainError as exc:
        return _again(task_id, body, [translated(str(exc))], 409)
    flash(_("Interim reply sent; the task stays open."))
    return redirect(url_for("inbox.task", task_id=task_id) + "#interim", 303)


def _again(task_id: str, body: str, errors: list[str], status: int):
    """The interim reply's form again, with what was typed and why it was not sent."""
    db.session.rollback()
    found = reads.task_with_case(db.session, task_id)
    if found is None:
        abort(404)
    task, case = found
    cases.get_case(db.session, number=case.number, user=g.user)  # 404 for another department
    return render_template(
        "inbox/interim.html", task=task, case=case, body=body, errors=errors
    ), status
