"""``/api/v1/definitions``: case type diagrams, their versions, XML, deploying and diffs
(administrators). Deploying validates first and stores nothing when anything is wrong."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g
from flask.views import MethodView
from flask_smorest import abort

from engine.definitions import (
    definition_version,
    latest_versions,
    running_per_key,
    version_numbers,
    versions_of,
)
from engine.errors import DefinitionInvalid, EngineError, NotFound
from engine.instance_moves import running_counts
from engine.models import Definition
from engine.version_diff import diff_versions
from workflows.users.models import Role

from ..audit.log import record
from ..extensions import db
from ..hotline import get_hotline
from . import schemas as s
from .auth import roles
from .blueprint import ApiBlueprint
from .idempotency import atomic
from .present import json_response

blp = ApiBlueprint(
    "api-definitions",
    __name__,
    url_prefix="/api/v1/definitions",
    description="Case type diagrams and their versions (administrators).",
)


def _version_row(key: str, version: int) -> Definition:
    if not 1 <= version <= s.MAX_PAGE:
        abort(404, message=f"{key} has no version {version}")
    row = definition_version(db.session, key=key, version=version)
    if row is None:
        abort(404, message=f"{key} has no version {version}")
    return row


def _version_data(row: Definition, running: int) -> dict[str, Any]:
    return s.VersionSchema().dump(
        {
            **{
                name: getattr(row, name)
                for name in (
                    "key",
                    "version",
                    "name",
                    "file_name",
                    "sha256",
                    "deployed_by",
                    "deployed_at",
                    "comment",
                )
            },
            "running": running,
            "user_tasks": (row.info or {}).get("user_tasks", {}),
        }
    )


@blp.route("")
class Definitions(MethodView):
    @roles(Role.ADMIN)
    @blp.response(200, s.DefinitionSchema(many=True))
    def get(self):
        """Every case type diagram with its latest version."""
        rows = db.session.execute(latest_versions()).all()
        running = running_per_key(db.session)
        items = [
            {
                "key": key,
                "name": name,
                "latest_version": version,
                "versions": versions,
                "running": running.get(key, 0),
                "deployed_by": by,
                "deployed_at": at,
            }
            for key, name, version, versions, by, at in rows
        ]
        return json_response(s.DefinitionSchema(many=True).dump(items))

    @roles(Role.ADMIN)
    @blp.arguments(s.DeployArgs)
    @blp.arguments(s.IdempotencyHeaders, location="headers")
    @blp.response(200, s.DeployedSchema)
    @atomic()
    def post(self, args: dict[str, Any], _headers):
        """Validate and deploy a BPMN document: a new version of each process in it (with
        ``comment``, why), or "unchanged" when the process is the same as the latest version's
        (only layout, formatting, attribute order or namespace prefixes differ). Problems answer 422, one line each
        (``FILE:LINE: ELEMENT_ID: message``) under ``errors.xml``; nothing is stored."""
        data = args["xml"].encode("utf-8")
        limit = int(current_app.config["MAX_BPMN_BYTES"])
        if len(data) > limit:
            abort(413, message=f"The diagram is larger than the {limit} byte limit.")
        name = args["file_name"].replace("\\", "/").split("/")[-1] or "diagram.bpmn"
        hotline = get_hotline()
        result = hotline.runtime.validate(data, name, form_exists=hotline.forms.exists)
        if not result.ok:
            abort(422, errors={"xml": [str(i) for i in result.issues]})
        try:
            outcomes = hotline.runtime.deploy(
                db.session,
                data,
                name,
                deployed_by=g.user.username,
                form_exists=hotline.forms.exists,
                comment=args["comment"],
            )
        except DefinitionInvalid as exc:
            abort(422, errors={"xml": [str(i) for i in exc.issues]})
        for o in outcomes:  # in the request's transaction (``atomic``)
            if o.created:
                record(
                    "definition.deploy",
                    target_type="definition",
                    target_id=o.key,
                    key=o.key,
                    version=o.version,
                    file=name,
                    via="api",
                    comment=args["comment"].strip(),
                )
        return json_response(
            {
                "outcomes": [
                    {
                        "key": o.key,
                        "version": o.version,
                        "created": o.created,
                        "message": o.describe(),
                    }
                    for o in outcomes
                ]
            }
        )


@blp.route("/<key>/versions")
class Versions(MethodView):
    @roles(Role.ADMIN)
    @blp.response(200, s.VersionSchema(many=True))
    def get(self, key: str):
        """Every version of one diagram, newest first, with its running cases."""
        rows = db.session.scalars(versions_of(key)).all()
        if not rows:
            abort(404, message=f"no diagram has the key {key}")
        running = running_counts(db.session, key=key)
        return json_response([_version_data(r, running.get(r.version, 0)) for r in rows])


@blp.route("/<key>/versions/<int:version>")
class Version(MethodView):
    @roles(Role.ADMIN)
    @blp.response(200, s.VersionSchema)
    def get(self, key: str, version: int):
        """One version: who deployed it, when, its user tasks and running cases."""
        row = _version_row(key, version)
        running = running_counts(db.session, key=key).get(version, 0)
        return json_response(_version_data(row, running))


@blp.route("/<key>/versions/<int:version>/xml")
class VersionXml(MethodView):
    @roles(Role.ADMIN)
    @blp.response(
        200,
        {"type": "string"},
        content_type="application/xml",
        description="the BPMN document as deployed",
    )
    def get(self, key: str, version: int):
        """The BPMN XML of one version."""
        row = _version_row(key, version)
        return Response(row.xml, mimetype="application/xml")


@blp.route("/<key>/diff")
class Diff(MethodView):
    @roles(Role.ADMIN)
    @blp.arguments(s.DiffArgs, location="query")
    @blp.response(200, s.DiffSchema)
    def get(self, args: dict[str, Any], key: str):
        """What changed between two versions (default: the last two): elements added,
        removed and changed, with each changed facet's before and after."""
        versions = version_numbers(db.session, key)
        if not versions:
            abort(404, message=f"no diagram has the key {key}")
        older = args.get("from_", versions[-2] if len(versions) > 1 else versions[-1])
        newer = args.get("to", versions[-1])
        errors = {
            name: [f"{key} has no version {value}; it has {', '.join(map(str, versions))}"]
            for name, value in (("from", older), ("to", newer))
            if value not in versions
        }
        if errors:
            abort(422, errors=errors)
        try:
            result = diff_versions(db.session, key=key, from_version=older, to_version=newer)
        except NotFound as exc:
            abort(404, message=str(exc))
        except EngineError as exc:
            abort(422, message=str(exc))

        def changes(items):
            return [
                {
                    "element_id": e.element_id,
                    "kind": e.kind,
                    "name": e.name,
                    "changes": {k: list(v) for k, v in e.changes.items()},
                }
                for e in items
            ]

        return json_response(
            {
                "key": key,
                "from_version": older,
                "to_version": newer,
                "added": changes(result.added),
                "removed": changes(result.removed),
                "changed": changes(result.changed),
            }
        )
