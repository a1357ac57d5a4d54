"""The delivery log: every SMS, e-mail and webhook message, filtered and paginated, with the
counts by status and a retry for the failed ones. Administrators only, as every admin page
(supervisors see a case's messages on its page).

Citizens' numbers are masked here for every role (a list, docs/privacy.md); the numbers and
addresses of departments and staff are shown as they are."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.db import unit_of_work
from workflows.cases.models import Case
from workflows.errors import DomainError
from workflows.notifications.log import (
    AUDIENCES,
    CHANNELS,
    NOTICES,
    RETRYABLE,
    STATUSES,
    BadFilter,
    MessageFilter,
    counts_by_status,
    listing,
)
from workflows.notifications.models import Message

from ..deliveries import labels, notice_name, recipient
from ..error_messages import translated
from ..extensions import db
from ..hotline import get_hotline
from ..pagination import paginate
from ..sorting import DESC, Sortable, apply_sort
from . import bp
from .common import admin_only, audit


def field_errors() -> dict[str, str]:
    return {
        "status": _("Choose a status from the list."),
        "channel": _("Choose a channel from the list."),
        "notice": _("Choose a notice from the list."),
        "audience": _("Choose an audience from the list."),
        "case": _("A case number is at most 64 characters."),
        "recipient": _("Give at most 100 characters."),
        "since": _("Give a date as YYYY-MM-DD."),
        "until": _("Give a date as YYYY-MM-DD, not before the first."),
    }


def configured(channel: str) -> bool:
    """Whether ``channel`` sends (else its messages are only recorded: the demo)."""
    return get_hotline().notify.senders.configured(channel)


#: the delivery log's sortable columns; without ``sort``, the newest first. ``id`` and
#: ``status`` are read through their indexes; the others sort every matching message (fast
#: once the filters have narrowed the log: a status, a day). Recipients do not sort: a
#: citizen's number is masked here.
MESSAGE_SORTS = {
    "id": Sortable((Message.id,), first=DESC),
    "time": Sortable((Message.created_at,), first=DESC),
    "channel": Sortable((Message.channel,)),
    "notice": Sortable((Message.notice,)),
    "audience": Sortable((Message.audience,)),
    "case": Sortable((Case.number,), nullable=True),
    "status": Sortable((Message.status,)),
    "attempts": Sortable((Message.attempts,), first=DESC),
}


@bp.get("/messages")
@admin_only
def messages():
    tz = get_hotline().tz
    context = {
        "args": request.args,
        "labels": labels(),
        "choices": {
            "status": STATUSES,
            "channel": CHANNELS,
            "notice": NOTICES,
            "audience": AUDIENCES,
        },
        "notice_name": notice_name,
        # a list: no role reads citizens' numbers in full here (docs/privacy.md)
        "recipient": lambda message: recipient(message, masked=True),
        "retryable": RETRYABLE,
        "configured": configured("sms") or configured("email"),
        "sms_configured": configured("sms"),
        "mail_configured": configured("email"),
    }
    try:
        flt = MessageFilter.parse(request.args)
    except BadFilter as exc:
        error = {exc.field: field_errors().get(exc.field, exc.message)}
        counts = counts_by_status(db.session)
        return render_template(
            "admin/messages.html", page=None, errors=error, counts=counts, **context
        ), 400
    stmt, sorting = apply_sort(listing(flt, tz=tz), MESSAGE_SORTS, (Message.id,))
    page = paginate(db.session, stmt, scalars=False)
    page.sorting = sorting
    counts = counts_by_status(db.session)
    return render_template("admin/messages.html", page=page, errors={}, counts=counts, **context)


@bp.post("/messages/<int:message_id>/retry")
@admin_only
def message_retry(message_id: int):
    from workflows.notifications.pipeline import retry_message

    try:
        with unit_of_work(db.session):
            retry_message(db.session, get_hotline().runtime.outbox, message_id)
            audit("message.retry", target_type="message", target_id=message_id)
    except DomainError as exc:
        flash(_("Could not retry: %(reason)s", reason=translated(str(exc))), "error")
    else:
        flash(_("Message %(id)s is queued again: a worker sends it shortly.", id=message_id))
    back = request.form.get("back", "")
    # only a path of this page (an open redirect otherwise)
    if back.startswith("/admin/messages") and "//" not in back:
        return redirect(back)
    return redirect(url_for("admin.messages"))
