"""human tasks say what they are: human_tasks.kind (a hotline step), filled for existing rows

Revision ID: c4e8a2f61b97
Revises: 5d1e9b7c3a40
Create Date: 2026-12-04 07:40:00

Existing rows get the step their definition's diagram names for their element (the
``step`` extension property); a definition that names no step at all was deployed before
tasks named their steps, and each of its tasks whose id was one of the bundled diagrams'
(which then were the steps) takes that id, as the runtime reads such definitions
(``workflows.cases.steps.step_of``). The XML is read here rather than through the app's
code, so that this migration keeps doing what it did when the code moves on.
"""

import sqlalchemy as sa
from alembic import op
from lxml import etree

# revision identifiers, used by Alembic.
revision = "c4e8a2f61b97"
down_revision = "5d1e9b7c3a40"
branch_labels = None
depends_on = None

SPIFF_PROPERTY = "{http://spiffworkflow.org/bpmn/schema/1.0/core}property"
#: the bundled diagrams' user task ids when this migration was written (each was its step)
LEGACY_STEP_IDS = (
    "dispatch",
    "redispatch",
    "sign_for",
    "review_return",
    "handle",
    "review_extension",
    "review_suspension",
    "resume",
    "review_reply",
    "callback",
    "supervise",
)


def upgrade():
    # plain ALTERs (not a batch): SQLite adds a nullable column without copying the table
    op.add_column("human_tasks", sa.Column("kind", sa.String(length=64), nullable=True))
    backfill(op.get_bind())
    op.drop_index("ix_human_tasks_ready_group", table_name="human_tasks")
    op.create_index(
        "ix_human_tasks_ready_group",
        "human_tasks",
        ["state", "lane", "candidate_group", "kind", "instance_id"],
        unique=False,
    )


def backfill(conn) -> None:
    update = sa.text(
        "UPDATE human_tasks SET kind = :step WHERE element_id = :element AND kind IS NULL"
        " AND instance_id IN (SELECT id FROM process_instances WHERE definition_id = :definition)"
    )
    for definition_id, xml in conn.execute(sa.text("SELECT id, xml FROM bpmn_definitions")):
        rows = [
            {"step": step, "element": element, "definition": definition_id}
            for element, step in steps_in(xml).items()
        ]
        if rows:
            conn.execute(update, rows)


def steps_in(xml: str) -> dict[str, str]:
    """element id -> step for one stored (already validated) definition."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(xml.encode("utf-8"), parser)
    named = {}
    for prop in root.iter(SPIFF_PROPERTY):
        if prop.get("name") != "step":
            continue
        element = prop.getparent().getparent().getparent()  # properties, extensionElements
        if element.get("id"):
            named[element.get("id")] = prop.get("value") or ""
    if named:
        return named
    return {element: element for element in LEGACY_STEP_IDS}


def downgrade():
    op.drop_index("ix_human_tasks_ready_group", table_name="human_tasks")
    op.create_index(
        "ix_human_tasks_ready_group",
        "human_tasks",
        ["state", "lane", "candidate_group", "element_id", "instance_id"],
        unique=False,
    )
    with op.batch_alter_table("human_tasks") as batch_op:
        batch_op.drop_column("kind")
