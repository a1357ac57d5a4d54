"""Thin views: the notifications page, marking read, and the poll of the bell and live lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from workflows.cases.models import Case
from workflows.notifications import inapp
from workflows.notifications import live as tokens
from workflows.notifications.models import Notification
from workflows.notifications.notices import NOTICE_NAMES, Notice

from ..calls import board as call_board
from ..calls import callbacks as call_callbacks
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from ..inbox.views import WORKERS
from ..pagination import count_rows, paginate
from ..security import login_required
from ..sms.views import READERS as SMS_READERS
from ..sorting import DESC, DIRECTIONS, Sortable, apply_sort
from ..supervision.views import SUPERVISORS, escalated_cases
from . import bp

T = TypeVar("T")
FILTERS = ("all", "unread")
#: the most live lists one page may ask about in one poll
MAX_VIEWS = 8


def _versions() -> dict[str, tuple[frozenset[str] | None, Callable[[], str]]]:
    """Live list -> (roles that may see it, or None for everyone; its token for ``g.user``)."""
    session = db.session
    return {
        "tasks": (
            frozenset(str(r) for r in WORKERS),
            lambda: tokens.tasks_version(session, user=g.user),
        ),
        "overdue": (
            frozenset(str(r) for r in SUPERVISORS),
            lambda: tokens.overdue_version(session, now=get_hotline().clock.now()),
        ),
        "escalated": (
            frozenset(str(r) for r in SUPERVISORS),
            lambda: _count(escalated_cases(session, g.user, get_hotline().clock.now())),
        ),
        "sms_replies": (
            frozenset(str(r) for r in SMS_READERS),
            lambda: tokens.sms_replies_version(session),
        ),
        "notifications": (None, lambda: tokens.notifications_version(session, user=g.user)),
        "call_board": (frozenset(str(r) for r in call_board.BOARD_ROLES), call_board.board_version),
        "call_callbacks": (
            frozenset(str(r) for r in call_callbacks.READERS),
            call_callbacks.live_version,
        ),
        "agent_state": (
            frozenset(str(r) for r in call_board.OPERATORS),
            lambda: call_board.state_version(g.user),
        ),
    }


def _count(stmt) -> str:
    """A list's size as its token (the count its page runs anyway)."""
    return str(count_rows(db.session, stmt)[0])


def bell_count() -> int:
    """The signed-in person's unread count (capped), read once per request."""
    if "bell_count" not in g:
        g.bell_count = (
            _quietly(lambda: inapp.unread_count(db.session, user_id=g.user.id), 0)
            if g.get("user")
            else 0
        )
    return g.bell_count


def live_version(view: str) -> str:
    """A live list's token when its page is rendered: the first poll compares with it, so a
    change between the page and that poll is not missed."""
    may, token = _versions()[view]
    return _quietly(token, "") if g.get("user") and (may is None or g.user.role in may) else ""


def _quietly(read: Callable[[], T], default: T) -> T:
    """The bell must never break the page it is on: the error page of a failed database
    transaction renders without it (the page's own error is what is logged and shown)."""
    try:
        return read()
    except SQLAlchemyError as exc:
        current_app.logger.warning("the bell was left out of the page: %s", exc)
        return default


def notice_name(kind: str) -> str:
    try:
        names = NOTICE_NAMES[Notice(kind)]
    except ValueError:  # a row from before notices went to people: its kind as stored
        return kind
    return names[0] if lang() == "zh" else names[1]


@bp.app_context_processor
def bell_helpers() -> dict[str, object]:
    return {
        "bell_count": bell_count,
        "bell_label": lambda: _bell_label(bell_count()),
        "live_version": live_version,
        "live_interval": lambda: current_app.config["LIVE_POLL_SECONDS"],
    }


# -- the page -------------------------------------------------------------------------------


#: the notifications' sortable columns (one person's: any column at once); without ``sort``,
#: the newest first
NOTIFICATION_SORTS = {
    "received": Sortable((Notification.created_at,), first=DESC),
    "kind": Sortable((Notification.kind,)),
    "case": Sortable((Case.number,), nullable=True),
    "read": Sortable((Notification.read_at,), first=DESC, nullable=True),
}


@bp.get("/notifications")
@login_required
def index():
    shown = request.args.get("filter") or "all"
    problems = []
    if shown not in FILTERS:
        problems.append(_("Show: unknown value %(value)s, showing all.", value=shown))
        shown = "all"
    stmt = inapp.listing(user_id=g.user.id, unread_only=shown == "unread")
    stmt, sorting = apply_sort(stmt, NOTIFICATION_SORTS, (Notification.id,))
    page = paginate(db.session, stmt, scalars=False)
    page.sorting = sorting
    return render_template(
        "notifications/index.html",
        page=page,
        shown=shown,
        problems=problems,
        notice_name=notice_name,
    )


def _back():
    """Back to the list as it was (its filter, order and page), never elsewhere."""
    shown = request.form.get("filter")
    page = request.form.get("page", type=int)
    sort, direction = request.form.get("sort"), request.form.get("dir")
    return redirect(
        url_for(
            "notifications.index",
            filter=shown if shown in FILTERS and shown != "all" else None,
            page=page if page and page > 1 else None,
            sort=sort if sort in NOTIFICATION_SORTS else None,
            dir=direction if sort in NOTIFICATION_SORTS and direction in DIRECTIONS else None,
        ),
        303,
    )


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    now = get_hotline().clock.now()
    if not inapp.mark_read(db.session, user_id=g.user.id, notification_id=notification_id, now=now):
        abort(404)
    return _back()


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    inapp.mark_all_read(db.session, user_id=g.user.id, now=get_hotline().clock.now())
    return _back()


@bp.get("/notifications/<int:notification_id>/open")
@login_required
def open_one(notification_id: int):
    """Follow a notification to its case, marking it read on the way."""
    session = db.session
    row = inapp.own(session, user_id=g.user.id, notification_id=notification_id)
    if row is None:
        abort(404)
    number = inapp.case_number(session, case_id=row.case_id) if row.case_id else None
    inapp.mark_read(
        session, user_id=g.user.id, notification_id=notification_id, now=get_hotline().clock.now()
    )
    if number is None:
        return redirect(url_for("notifications.index"), 303)
    return redirect(url_for("cases.show", number=number), 303)


# -- the poll -------------------------------------------------------------------------------


@bp.get("/live")
@login_required
def poll():
    """``?views=tasks,overdue``: the unread count and each named list's token, as JSON."""
    asked = [v for v in (request.args.get("views") or "").split(",") if v]
    known = _versions()
    unknown = [v for v in asked if v not in known]
    if unknown or len(asked) > MAX_VIEWS:
        message = (
            _("views: unknown value %(value)s.", value=unknown[0])
            if unknown
            else _("views: at most %(n)s lists.", n=MAX_VIEWS)
        )
        return jsonify(error=message, field="views"), 400
    refused = [v for v in asked if known[v][0] is not None and g.user.role not in known[v][0]]
    if refused:
        return jsonify(error=_("views: %(value)s is not yours.", value=refused[0])), 403
    count = bell_count()
    return jsonify(
        unread=count,
        unread_label=_bell_label(count),
        versions={v: known[v][1]() for v in dict.fromkeys(asked)},
    )


def _bell_label(count: int) -> str:
    return f"{inapp.BELL_CAP - 1}+" if count >= inapp.BELL_CAP else str(count)
