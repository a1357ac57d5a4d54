"""Glue between the CLI/pages and the engine: deploying files, loading demo data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from engine.db import unit_of_work
from engine.definitions import (
    DeployGuard,
    definition_version,
    digests_deployed_by,
    stored_semantic_digest,
    version_numbers,
)
from engine.errors import DefinitionInvalid, NotFound
from engine.models import Definition
from engine.xmlsafe import UnsafeXml, read_limited
from workflows.audit.service import CLI_ACTOR, Actor
from workflows.forms import FormRegistry

from .audit.log import record
from .extensions import db
from .hotline import get_hotline
from .i18n import local_time
from .people import person

#: who ``hotline init`` deploys as: the versions it made are the bundled files' own
INIT_ACTOR = "hotline init"


def deploy_file(
    path: Path, *, deployed_by: str, comment: str = "", guard: DeployGuard | None = None
) -> list[str]:
    """Validate and deploy one file; one line per process deployed, left unchanged or skipped
    (``guard``: see :data:`engine.definitions.DeployGuard`)."""
    from flask import current_app

    from engine.errors import Issue

    hotline = get_hotline()
    try:
        data = read_limited(path, current_app.config["MAX_BPMN_BYTES"])
    except UnsafeXml as exc:
        raise DefinitionInvalid([Issue(str(path), None, None, exc.problem.message)]) from None
    except OSError as exc:
        raise DefinitionInvalid(
            [Issue(str(path), None, None, f"cannot read file: {exc.strerror}")]
        ) from None
    with unit_of_work(db.session):
        outcomes = hotline.runtime.deploy(
            db.session,
            data,
            str(path),
            deployed_by=deployed_by,
            form_exists=hotline.forms.exists,
            comment=comment,
            guard=guard,
        )
        for o in outcomes:
            if o.created:
                record(
                    "definition.deploy",
                    target_type="definition",
                    target_id=o.key,
                    actor=Actor(CLI_ACTOR),
                    key=o.key,
                    version=o.version,
                    file=path.name,
                    deployed_by=deployed_by,
                    comment=comment,
                )
    return [
        f"skipped {o.key} from {path}: {o.skipped}" if o.skipped else o.describe() for o in outcomes
    ]


def deploy_directory(
    directory: Path, *, deployed_by: str, comment: str = "", guard: DeployGuard | None = None
) -> Iterator[str]:
    """Deploy every ``*.bpmn`` in ``directory`` (sorted), stopping at the first invalid one."""
    files = sorted(directory.glob("*.bpmn"))
    if not files:
        yield f"no diagrams in {directory}"
    for path in files:
        yield from deploy_file(path, deployed_by=deployed_by, comment=comment, guard=guard)


def init_guard() -> DeployGuard:
    """What keeps ``hotline init`` from replacing a designer's work: init deploys a changed
    file over the latest version only when that version is init's own (deployed by init, or
    the same process as a version init deployed, as after a designer rolled back). Otherwise
    it skips the process and says whose version it kept."""

    def guard(latest: Definition, digest: str) -> str | None:
        if latest.deployed_by == INIT_ACTOR:
            return None
        mine = digests_deployed_by(db.session, key=latest.key, deployed_by=INIT_ACTOR)
        if stored_semantic_digest(latest) in mine:
            return None
        said = f' ("{latest.comment}")' if latest.comment else ""
        return (
            f"version {latest.version} was deployed by {person(latest.deployed_by)} "
            f"at {local_time(latest.deployed_at)}{said}, not by hotline init, and the file "
            "differs from it; init never deploys over a version made elsewhere "
            f"(`hotline init --force` deploys the file anyway; `hotline export {latest.key} "
            "--out DIR` writes that version to files)"
        )

    return guard


# -- export: a deployed version back to files ------------------------------------------------


def forms_of_definition(definition: Definition, forms: FormRegistry) -> dict[str, str]:
    """form key -> the form's JSON text, for each form the user tasks of ``definition`` name,
    in the version the definition pinned (``workflows.forms.store.forms_of_definition``: the
    one place that chooses them). Raises :class:`NotFound` naming the version, task and form
    of one that exists nowhere."""
    from workflows.forms import store as form_store

    found = {
        f.key: f.text for f in form_store.forms_of_definition(db.session, forms, definition.info)
    }
    tasks = (definition.info or {}).get("user_tasks", {})
    for element_id, task in sorted(tasks.items()):
        form_key = task.get("form_key")
        if form_key and form_key not in found:
            where = f"{definition.key} version {definition.version}, task {element_id}"
            raise NotFound(f"{where}: form {form_key} is stored nowhere")
    return found


def export_definition(key: str, out_dir: Path, *, version: int | None = None) -> list[str]:
    """Write version ``version`` (default: the latest) of ``key`` to ``out_dir``: the diagram
    under the name it was deployed with, and its forms as ``forms/<form key>.json``; one line
    per file written. Raises :class:`NotFound` naming the key or version that is not there."""
    versions = version_numbers(db.session, key)
    if not versions:
        raise NotFound(f"no definition with key {key!r} is deployed")
    wanted = versions[-1] if version is None else version
    if wanted not in versions:
        raise NotFound(f"{key} has no version {wanted}; it has {', '.join(map(str, versions))}")
    row = definition_version(db.session, key=key, version=wanted)
    forms = forms_of_definition(row, get_hotline().forms)
    name = Path(row.file_name).name
    if not name or name.startswith("."):
        name = f"{key}.bpmn"
    files = {
        out_dir / name: row.xml,
        **{out_dir / "forms" / f"{k}.json": v for k, v in forms.items()},
    }
    lines = []
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        lines.append(f"wrote {path}")
    lines.append(f"{key} version {wanted}: the diagram and {len(forms)} form(s) in {out_dir}")
    return lines


def try_in_app(data: bytes, file_name: str, *, cases: int, seed: int, seconds: float):
    """A try run of a draft (``workflows.tryrun``) with this app's reference data, forms, case
    types, clock, expression budget and connector hosts; the modeler and ``hotline try``
    share it. Raises DefinitionInvalid for a draft that would not deploy."""
    from flask import current_app

    from workflows.tryrun.driver import Limits
    from workflows.tryrun.service import try_draft

    from .hotline import connector_hosts

    hotline = get_hotline()
    return try_draft(
        db.session,
        data,
        file_name,
        forms_dir=Path(current_app.config["FORMS_DIR"]),
        now=hotline.clock.now(),
        tz=hotline.tz,
        cases=cases,
        seed=seed,
        case_types=hotline.case_types,
        limits=Limits(seconds=seconds),
        budget=hotline.runtime.evaluator.budget,
        connector_hosts=connector_hosts(current_app.config),
    )
