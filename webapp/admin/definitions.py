"""Case types and their definition versions: list, view, upload, edit in the modeler, diff.

Deploying always validates first and stores nothing when a problem is found; the located
issues (file, line, element id, message) go back to the page, which marks the elements on the
diagram. Every deploy from a page says why (a comment, stored with the version). A document
whose process is the same as the latest version's (only layout or formatting differ) is
reported as unchanged; the modeler shows that, and the diff, before it deploys (``preview``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from engine.db import unit_of_work
from engine.definitions import (
    DeployOutcome,
    definition_version,
    latest_versions,
    running_per_key,
    version_numbers,
    versions_of,
)
from engine.errors import ConflictError, DefinitionInvalid, Issue
from engine.instance_moves import running_counts
from engine.models import COMMENT_MAX, Definition
from engine.version_diff import DeployPreview, diff_versions, preview_deploy

from ..extensions import db
from ..hotline import get_hotline
from ..i18n import local_time
from ..pagination import wants_csv
from ..people import person
from ..sorting import DESC, Sortable
from . import bp
from .common import admin_only, audit, listing


def _max_bytes() -> int:
    return int(current_app.config["MAX_BPMN_BYTES"])


def _file_name(raw: str | None, default: str = "diagram.bpmn") -> str:
    """The base name of an uploaded file, without path or control characters."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:200] or default


def _definition(key: str, version: int) -> Definition:
    row = definition_version(db.session, key=key, version=version)
    if row is None:
        abort(404)
    return row


def _versions(key: str) -> list[int]:
    return version_numbers(db.session, key)


# -- lists ------------------------------------------------------------------------------------


def _latest_sorts(stmt) -> dict[str, Sortable]:
    """The case types list's sortable columns (a handful of keys; the running counts come
    from the engine and do not sort); without ``sort``, by key."""
    cols = stmt.selected_columns
    return {
        "key": Sortable((cols.key,)),
        "name": Sortable((cols.name,)),
        "version": Sortable((cols.version,), first=DESC),
        "versions": Sortable((cols.versions,), first=DESC),
        "deployed_at": Sortable((cols.deployed_at,), first=DESC),
    }


#: a key's versions' sortable columns; without ``sort``, the newest first
VERSION_SORTS = {
    "version": Sortable((Definition.version,), first=DESC),
    "name": Sortable((Definition.name,)),
    "file": Sortable((Definition.file_name,)),
    "deployed_by": Sortable((Definition.deployed_by,)),
    "deployed_at": Sortable((Definition.deployed_at,), first=DESC),
}


@bp.get("/definitions")
@admin_only
def definitions():
    running = running_per_key(db.session)
    stmt = latest_versions()
    page = listing(
        stmt,
        filename="case-types.csv",
        header=[
            "key",
            "name",
            "latest_version",
            "versions",
            "running",
            "deployed_by",
            "deployed_at",
        ],
        row=lambda r: [
            r.key,
            r.name,
            r.version,
            r.versions,
            running.get(r.key, 0),
            r.deployed_by,
            r.deployed_at.isoformat(),
        ],
        scalars=False,
        sorts=_latest_sorts(stmt),
        tie_breaker=(Definition.key,),
    )
    if wants_csv():
        return page
    return render_template("admin/definitions.html", page=page, running=running)


@bp.get("/definitions/<key>")
@admin_only
def definition(key: str):
    running = running_counts(db.session, key=key)
    page = listing(
        versions_of(key),
        filename=f"{key}-versions.csv",
        header=[
            "key",
            "version",
            "name",
            "file_name",
            "deployed_by",
            "deployed_at",
            "comment",
            "running",
        ],
        row=lambda d: [
            d.key,
            d.version,
            d.name,
            d.file_name,
            d.deployed_by,
            d.deployed_at.isoformat(),
            d.comment,
            running.get(d.version, 0),
        ],
        sorts=VERSION_SORTS,
        tie_breaker=(Definition.version,),
    )
    if wants_csv():
        return page
    if page.total == 0:
        abort(404)
    versions = _versions(key)
    return render_template(
        "admin/definition.html", key=key, page=page, running=running, versions=versions
    )


# -- one version ------------------------------------------------------------------------------


@bp.get("/definitions/<key>/<int:version>")
@admin_only
def version(key: str, version: int):
    row = _definition(key, version)
    running = running_counts(db.session, key=key).get(version, 0)
    tasks = sorted((row.info or {}).get("user_tasks", {}).items())
    pins = (row.info or {}).get("form_versions", {})
    return render_template(
        "admin/version.html",
        row=row,
        running=running,
        tasks=tasks,
        versions=_versions(key),
        pins=pins,
    )


@bp.get("/definitions/<key>/<int:version>/xml")
@admin_only
def version_xml(key: str, version: int):
    row = _definition(key, version)
    headers = {"Cache-Control": "no-store"}
    if request.args.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="{key}-v{version}.bpmn"'
    return Response(row.xml, mimetype="application/xml", headers=headers)


@bp.get("/definitions/<key>/<int:version>/edit")
@admin_only
def edit(key: str, version: int):
    row = _definition(key, version)
    return render_template("admin/modeler.html", row=row, max_bytes=_max_bytes())


# -- deploying --------------------------------------------------------------------------------


@bp.route("/definitions/upload", methods=["GET", "POST"])
@admin_only
def upload():
    if request.method == "GET":
        return render_template("admin/upload.html", errors=[], issues=[])
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return render_template(
            "admin/upload.html", errors=[_("Choose a BPMN file to upload.")], issues=[]
        ), 400
    limit = _max_bytes()
    data = sent.stream.read(limit + 1)
    name = _file_name(sent.filename)
    comment = request.form.get("comment", "")
    if len(data) > limit:
        message = _("The file is larger than the %(mb).1f MB limit.", mb=limit / 1048576)
        return render_template("admin/upload.html", errors=[message], issues=[], name=name), 413
    deployed = _deploy(data, name, comment)
    if deployed.comment_problem:
        return render_template(
            "admin/upload.html",
            errors=[deployed.comment_problem],
            issues=[],
            name=name,
            comment=comment,
        ), 400
    if deployed.issues:
        return render_template(
            "admin/upload.html", errors=[], issues=deployed.issues, name=name, comment=comment
        ), 400
    if deployed.conflict:
        return render_template(
            "admin/upload.html", errors=[deployed.conflict], issues=[], name=name, comment=comment
        ), 409
    for item in deployed.outcomes:
        flash(_describe(item))
    return redirect(url_for("admin.definition", key=deployed.outcomes[0].key))


@bp.post("/definitions/validate")
@admin_only
def validate_json():
    xml, name, problem = _posted_xml()
    if problem is not None:
        return problem
    hotline = get_hotline()
    result = hotline.runtime.validate(xml, name, form_exists=hotline.forms.exists)
    return jsonify(
        ok=result.ok,
        issues=[_issue_json(i) for i in result.issues],
        processes=sorted(result.processes),
    )


@bp.post("/definitions/preview")
@admin_only
def preview_json():
    """What deploying the posted diagram would do, per process: a new version (with the diff
    against the latest) or unchanged. Validates first; stores nothing."""
    xml, name, problem = _posted_xml()
    if problem is not None:
        return problem
    hotline = get_hotline()
    result = hotline.runtime.validate(xml, name, form_exists=hotline.forms.exists)
    if not result.ok:
        return jsonify(ok=False, issues=[_issue_json(i) for i in result.issues])
    previews = preview_deploy(db.session, result.tree.getroot(), sorted(result.processes))
    return jsonify(ok=True, issues=[], processes=[_preview_json(p) for p in previews])


def _preview_json(p: DeployPreview) -> dict[str, Any]:
    latest = p.latest
    if latest is None:
        message = _("%(key)s is new: it will be version 1.", key=p.key)
    elif p.unchanged:
        message = _(
            "%(key)s is the same process as version %(version)s (only layout or formatting "
            "differ): deploying it changes nothing.",
            key=p.key,
            version=latest.version,
        )
    else:
        message = _(
            "%(key)s will be version %(next)s. Changes against version %(version)s:",
            key=p.key,
            next=latest.version + 1,
            version=latest.version,
        )
    return {
        "key": p.key,
        "unchanged": p.unchanged,
        "message": message,
        "latest": None
        if latest is None
        else {
            "version": latest.version,
            "deployed_by": person(latest.deployed_by),
            "deployed_at": local_time(latest.deployed_at),
            "comment": latest.comment,
            "url": url_for("admin.version", key=p.key, version=latest.version),
        },
        "added": [_element_json(e) for e in p.diff.added] if p.diff else [],
        "removed": [_element_json(e) for e in p.diff.removed] if p.diff else [],
        "changed": [_element_json(e) for e in p.diff.changed] if p.diff else [],
    }


def _element_json(e) -> dict[str, Any]:
    return {
        "element_id": e.element_id,
        "kind": e.kind,
        "name": e.name,
        "changes": [[facet, old, new] for facet, (old, new) in e.changes.items()],
    }


@bp.post("/definitions/deploy")
@admin_only
def deploy_json():
    xml, name, problem = _posted_xml()
    if problem is not None:
        return problem
    body = request.get_json(silent=True)
    comment = body.get("comment") if isinstance(body.get("comment"), str) else ""
    deployed = _deploy(xml, name, comment)
    if deployed.comment_problem:
        return jsonify(ok=False, issues=[], field="comment", message=deployed.comment_problem), 400
    if deployed.conflict:
        return jsonify(ok=False, issues=[], message=deployed.conflict), 409
    if deployed.issues:
        return jsonify(ok=False, issues=[_issue_json(i) for i in deployed.issues]), 400
    return jsonify(
        ok=True,
        issues=[],
        outcomes=[
            {
                "key": o.key,
                "version": o.version,
                "created": o.created,
                "message": _describe(o),
                "url": url_for("admin.version", key=o.key, version=o.version),
            }
            for o in deployed.outcomes
        ],
    )


@dataclass
class _Deployed:
    outcomes: list[DeployOutcome] = field(default_factory=list)
    #: validation problems: nothing was stored
    issues: list[Issue] = field(default_factory=list)
    #: a concurrent deployment won: nothing was stored
    conflict: str | None = None
    #: the document is valid but the comment cannot be taken: nothing was stored
    comment_problem: str | None = None


def _comment_problem(comment: str) -> str | None:
    """Why a deploy comment cannot be taken (None when it can)."""
    if not comment.strip():
        return _("Deploy comment: say what this version changes and why; it is required.")
    if len(comment.strip()) > COMMENT_MAX:
        return _("Deploy comment: at most %(n)s characters.", n=COMMENT_MAX)
    return None


def _deploy(data: bytes, name: str, comment: str) -> _Deployed:
    """Validate, then deploy; nothing is stored unless the whole document is valid."""
    hotline = get_hotline()
    actor = g.user.username
    result = hotline.runtime.validate(data, name, form_exists=hotline.forms.exists)
    if not result.ok:
        return _Deployed(issues=result.issues)
    problem = _comment_problem(comment)
    if problem:
        return _Deployed(comment_problem=problem)
    try:
        with unit_of_work(db.session):
            outcomes = hotline.runtime.deploy(
                db.session,
                data,
                name,
                deployed_by=actor,
                form_exists=hotline.forms.exists,
                comment=comment,
            )
            for o in outcomes:
                audit(
                    "definition.deploy",
                    target_type="definition",
                    target_id=o.key,
                    key=o.key,
                    version=o.version,
                    created=o.created,
                    file=name,
                    comment=comment.strip(),
                )
    except DefinitionInvalid as exc:
        return _Deployed(issues=exc.issues)
    except ConflictError as exc:
        return _Deployed(conflict=str(exc))
    return _Deployed(outcomes=outcomes)


def _describe(outcome) -> str:
    if outcome.created:
        return _("Deployed %(key)s version %(version)s.", key=outcome.key, version=outcome.version)
    if outcome.identical:
        return _(
            "%(key)s is unchanged (identical to version %(version)s): nothing was deployed.",
            key=outcome.key,
            version=outcome.version,
        )
    return _(
        "%(key)s is unchanged (the same process as version %(version)s; only layout or "
        "formatting differ): nothing was deployed.",
        key=outcome.key,
        version=outcome.version,
    )


def _posted_xml() -> tuple[bytes, str, Any]:
    """(xml bytes, file name, None) from a JSON body, or (b"", "", an error response)."""
    limit = _max_bytes()
    if request.content_length is not None and request.content_length > 2 * limit + 4096:
        message = _("The diagram is larger than the %(mb).1f MB limit.", mb=limit / 1048576)
        return b"", "", (jsonify(ok=False, issues=[], message=message), 413)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        message = _('Send a JSON object with the diagram as "xml".')
        return b"", "", (jsonify(ok=False, issues=[], message=message), 400)
    data = body["xml"].encode("utf-8")
    name = _file_name(body.get("file_name") if isinstance(body.get("file_name"), str) else None)
    if len(data) > limit:
        message = _("The diagram is larger than the %(mb).1f MB limit.", mb=limit / 1048576)
        return b"", "", (jsonify(ok=False, issues=[], message=message), 413)
    return data, name, None


def _issue_json(issue: Issue) -> dict[str, Any]:
    return {
        "file": issue.file,
        "line": issue.line,
        "element": issue.element,
        "message": issue.message,
        "text": str(issue),
    }


# -- diff -------------------------------------------------------------------------------------


def _version_arg(name: str, versions: list[int], default: int | None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value in versions else None


@bp.get("/definitions/<key>/diff")
@admin_only
def diff(key: str):
    versions = _versions(key)
    if not versions:
        abort(404)
    older = _version_arg("from", versions, versions[-2] if len(versions) > 1 else versions[-1])
    newer = _version_arg("to", versions, versions[-1])
    if older is None or newer is None:
        message = _("Choose two versions of %(key)s that exist.", key=key)
        return render_template(
            "admin/diff.html",
            key=key,
            versions=versions,
            diff=None,
            error=message,
            older=older,
            newer=newer,
        ), 400
    result = diff_versions(db.session, key=key, from_version=older, to_version=newer)
    old_markers = {e.element_id: "removed" for e in result.removed}
    new_markers = {e.element_id: "added" for e in result.added}
    for e in result.changed:
        old_markers[e.element_id] = new_markers[e.element_id] = "changed"
    return render_template(
        "admin/diff.html",
        key=key,
        versions=versions,
        diff=result,
        error=None,
        older=older,
        newer=newer,
        old_markers=old_markers,
        new_markers=new_markers,
    )
