"""The partial index the overdue list reads on PostgreSQL holds every open status: a status
missing from it would not lose cases, but would send that side of the list back to reading
every open case (docs/architecture.md, "Queries at city scale")."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from workflows.cases.models import OVERDUE_REPLY_WHERE

MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "webapp/migrations/versions/f2a7c4e9b813_cases_overdue_reply_index.py"
)


def test_the_migrated_index_names_the_open_statuses_of_the_models():
    spec = importlib.util.spec_from_file_location("overdue_reply_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.WHERE == OVERDUE_REPLY_WHERE
