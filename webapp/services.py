"""Glue between the CLI/pages and the engine: deploying files, loading demo data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from engine.db import unit_of_work
from engine.errors import DefinitionInvalid
from engine.xmlsafe import UnsafeXml, read_limited
from workflows.audit.service import CLI_ACTOR, Actor

from .audit.log import record
from .extensions import db
from .hotline import get_hotline


def deploy_file(path: Path, *, deployed_by: str) -> list[str]:
    """Validate and deploy one file; one line per process deployed or left unchanged."""
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
            db.session, data, str(path), deployed_by=deployed_by, form_exists=hotline.forms.exists
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
                )
    return [o.describe() for o in outcomes]


def deploy_directory(directory: Path, *, deployed_by: str) -> Iterator[str]:
    """Deploy every ``*.bpmn`` in ``directory`` (sorted), stopping at the first invalid one."""
    files = sorted(directory.glob("*.bpmn"))
    if not files:
        yield f"no diagrams in {directory}"
    for path in files:
        yield from deploy_file(path, deployed_by=deployed_by)
