"""Thin views of the SMS replies queue: the open (or handled) replies, and marking one handled."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.db import end_read, unit_of_work
from engine.errors import NotFound
from workflows.cases.confidentiality import LIST_FULL_ROLES, mask_phone, mask_text
from workflows.cases.models import Case
from workflows.notifications import sms_replies
from workflows.notifications.models import SmsInbound
from workflows.users.models import Role, User

from .. import identity
from ..audit.log import record
from ..extensions import db
from ..hotline import get_hotline
from ..pagination import paginate
from ..security import roles_required
from ..sorting import DESC, DIRECTIONS, Sortable, apply_sort
from . import bp

#: who reads and handles citizens' SMS replies: the callback agents, and the supervisors
READERS = (Role.CALLBACK, Role.SUPERVISOR, Role.LEAD, Role.ADMIN)
NOTE_MAX = 500
#: the list's tabs: waiting for a person, or handled (by a person or by the hotline itself)
SHOWS = ("open", "done")
#: the replies' sortable columns (a few hundred open at most; the handled ones through their
#: status index); without ``sort``, the newest first
REPLY_SORTS = {
    "received": Sortable((SmsInbound.received_at,), first=DESC),
    "from": Sortable((SmsInbound.from_phone,)),
    "kind": Sortable((SmsInbound.kind,)),
    "case": Sortable(
        (
            select(Case.number)
            .where(Case.id == SmsInbound.case_id)
            .correlate_except(Case)
            .scalar_subquery(),
        ),
        nullable=True,
    ),
    "handled": Sortable((SmsInbound.handled_at,), first=DESC, nullable=True),
}
#: the open replies have no one who handled them yet
OPEN_REPLY_SORTS = {k: v for k, v in REPLY_SORTS.items() if k != "handled"}


def _shown(row: SmsInbound, full: bool) -> dict[str, Any]:
    """The reply as this viewer may see it: callback agents in full (they call back), the
    others masked, as lists are (docs/privacy.md)."""
    if full:
        return {"phone": row.from_phone, "text": row.text}
    return {
        "phone": mask_phone(row.from_phone),
        "text": mask_text(row.text, phone=row.from_phone),
    }


def _render(status: int = 200, errors: dict[int, list[str]] | None = None, notes=None):
    session = db.session
    show = request.args.get("show", "open")
    if show not in SHOWS:
        show = "open"
    sorts = REPLY_SORTS if show == "done" else OPEN_REPLY_SORTS
    stmt, sorting = apply_sort(sms_replies.replies(status=show), sorts, (SmsInbound.id,))
    page = paginate(session, stmt)
    page.sorting = sorting
    case_ids = {r.case_id for r in page.items if r.case_id}
    numbers = (
        dict(session.execute(select(Case.id, Case.number).where(Case.id.in_(case_ids))).all())
        if case_ids
        else {}
    )
    handlers = {r.handled_by for r in page.items if r.handled_by}
    names = (
        dict(
            session.execute(
                select(User.username, User.display_name).where(User.username.in_(handlers))
            ).all()
        )
        if handlers
        else {}
    )
    full = g.user.role in {str(r) for r in LIST_FULL_ROLES}
    if full and page.items:
        identity.audit_shown("list", in_full=len(page.items), rows=len(page.items), case=None)
    return (
        render_template(
            "sms/replies.html",
            page=page,
            show=show,
            shown={r.id: _shown(r, full) for r in page.items},
            numbers=numbers,
            names=names,
            open_count=sms_replies.count_open(session),
            errors=errors or {},
            notes=notes or {},
            note_max=NOTE_MAX,
        ),
        status,
    )


@bp.get("/sms/replies")
@roles_required(*READERS)
def replies():
    return _render()


@bp.post("/sms/replies/<int:reply_id>/handle")
@roles_required(*READERS)
def handle(reply_id: int):
    note = (request.form.get("note") or "").strip()
    if len(note) > NOTE_MAX:
        message = _("At most %(max)s characters; this has %(n)s.", max=NOTE_MAX, n=len(note))
        return _render(400, errors={reply_id: [message]}, notes={reply_id: note})
    session = db.session
    end_read(session)
    try:
        with unit_of_work(session):
            row = sms_replies.mark_handled(
                session, get_hotline(), reply_id=reply_id, user=g.user, note=note
            )
            number = session.scalar(select(Case.number).where(Case.id == row.case_id))
            record(
                "sms.handle",
                target_type="sms_inbound",
                target_id=row.id,
                case_number=number or "",
                kind=row.kind,
                note=note,
            )
    except NotFound:
        abort(404)
    except sms_replies.AlreadyHandled as exc:
        flash(_("Already handled by %(user)s.", user=exc.row.handled_by), "error")
        return redirect(url_for("sms.replies"), 303)
    flash(_("Marked handled."), "success")
    return redirect(url_for("sms.replies", **_page_args()), 303)


def _page_args() -> dict[str, str]:
    """The page and order the list was on (from the form), to go back to."""
    page = request.form.get("page") or ""
    args = {"page": page} if page.isdigit() and page != "1" else {}
    sort, direction = request.form.get("sort") or "", request.form.get("dir") or ""
    if sort in REPLY_SORTS:
        args["sort"] = sort
        if direction in DIRECTIONS:
            args["dir"] = direction
    return args
