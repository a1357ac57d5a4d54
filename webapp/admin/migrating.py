"""Moving running cases of a case type from one version to another: preview, then run."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine import instance_moves
from engine.models import Definition

from ..extensions import db
from ..hotline import get_hotline
from ..pagination import Page, csv_response, page_within, wants_csv
from . import bp
from .common import admin_only, audit


def _choice(raw: str | None, versions: list[int], default: int) -> int | None:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value in versions else None


def _pair(key: str, source) -> tuple[list[int], int | None, int | None]:
    versions = list(
        db.session.scalars(
            select(Definition.version).where(Definition.key == key).order_by(Definition.version)
        )
    )
    if not versions:
        abort(404)
    older = _choice(source.get("from"), versions, versions[-2] if len(versions) > 1 else 0)
    newer = _choice(source.get("to"), versions, versions[-1])
    return versions, older, newer


def _refusal(key: str, versions, older, newer):
    status = 400
    if len(versions) < 2:
        message = _("%(key)s has one version only: there is nothing to migrate to.", key=key)
        status = 200
    elif older is None or newer is None:
        message = _("Choose two versions of %(key)s that exist.", key=key)
    else:
        message = _("Choose two different versions.")
    return render_template(
        "admin/migrate.html",
        key=key,
        versions=versions,
        older=older,
        newer=newer,
        preview=None,
        page=None,
        error=message,
    ), status


@bp.get("/definitions/<key>/migrate")
@admin_only
def migration_preview(key: str):
    versions, older, newer = _pair(key, request.args)
    if older is None or newer is None or older == newer or older == 0:
        return _refusal(key, versions, older, newer)
    preview = instance_moves.preview(
        db.session, get_hotline().runtime, key=key, from_version=older, to_version=newer
    )
    if wants_csv():
        return csv_response(
            f"{key}-v{older}-to-v{newer}.csv",
            ["instance", "case", "movable", "waiting_at", "reasons", "notes"],
            (
                [
                    p.instance_id,
                    p.business_key or "",
                    "yes" if p.movable else "no",
                    "; ".join(p.waiting),
                    "; ".join(p.reasons),
                    "; ".join(p.notes),
                ]
                for p in preview.instances
            ),
        )
    number, per_page = page_within(len(preview.instances))
    start = (number - 1) * per_page
    page = Page(
        preview.instances[start : start + per_page], number, per_page, len(preview.instances)
    )
    return render_template(
        "admin/migrate.html",
        key=key,
        versions=versions,
        older=older,
        newer=newer,
        preview=preview,
        page=page,
        error=None,
    )


@bp.post("/definitions/<key>/migrate")
@admin_only
def migration_run(key: str):
    versions, older, newer = _pair(key, request.form)
    if older is None or newer is None or older == newer or older == 0:
        return _refusal(key, versions, older, newer)
    actor = g.user.username
    instance_ids = None
    if request.form.get("scope") != "all":
        try:
            instance_ids = sorted({int(v) for v in request.form.getlist("instance")})
        except ValueError:
            instance_ids = []
        if not instance_ids:
            flash(_("Tick the cases to move, or choose to move every movable case."), "error")
            return redirect(
                url_for("admin.migration_preview", key=key, **{"from": older, "to": newer})
            )
    result = instance_moves.move(
        db.session,
        get_hotline().runtime,
        key=key,
        from_version=older,
        to_version=newer,
        instance_ids=instance_ids,
        actor=actor,
    )
    # the moves commit one by one (a refused case stays): the row records what was done
    audit(
        "definition.migrate",
        target_type="definition",
        target_id=key,
        key=key,
        from_version=older,
        to_version=newer,
        migrated=[p.instance_id for p in result.migrated],
        refused=[p.instance_id for p in result.refused],
    )
    flash(
        _(
            "%(moved)s cases moved from version %(old)s to version %(new)s; %(left)s left where "
            "they were.",
            moved=len(result.migrated),
            old=older,
            new=newer,
            left=len(result.refused),
        ),
        "error" if result.refused else "message",
    )
    return render_template(
        "admin/migrate_result.html", key=key, result=result, older=older, newer=newer
    )
