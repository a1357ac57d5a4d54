"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine.models import Base
from webapp.extensions import db
from workflows.cases.phone_search import include_name


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_tasks_stored_before_steps_get_their_steps(app, clock):
    """Migration c4e8a2f61b97 fills ``human_tasks.kind``: from the diagram's step properties,
    or, for a definition deployed before tasks named their steps, from the bundled ids."""
    from pathlib import Path

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import insert, select

    from engine.models import Definition, HumanTask, ProcessInstance
    from tests.diagrams import renamed, without_steps

    bundled = (Path(__file__).resolve().parents[2] / "bpmn" / "complaint.bpmn").read_bytes()
    redrawn, ids = renamed(bundled)
    directory = app.extensions["migrate"].directory
    now = clock.now()
    with app.app_context():
        downgrade(directory=directory, revision="5d1e9b7c3a40")
        for version, xml, tasks in [
            (1, without_steps(bundled), ["dispatch", "sign_for", "note"]),
            (2, redrawn, [ids["dispatch"], ids["sign_for"]]),
        ]:
            definition = db.session.execute(
                insert(Definition.__table__)
                .values(
                    key="complaint",
                    version=version,
                    name="c",
                    file_name="c.bpmn",
                    xml=xml.decode(),
                    sha256=str(version),
                    deployed_by="t",
                    deployed_at=now,
                    info={},
                )
                .returning(Definition.__table__.c.id)
            ).scalar_one()
            instance = db.session.execute(
                insert(ProcessInstance.__table__)
                .values(
                    definition_id=definition,
                    key="complaint",
                    status="running",
                    state="{}",
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
                .returning(ProcessInstance.__table__.c.id)
            ).scalar_one()
            db.session.execute(
                insert(HumanTask.__table__),
                [
                    {
                        "instance_id": instance,
                        "task_id": f"{version}-{element}",
                        "element_id": element,
                        "name": element,
                        "state": "ready",
                        "created_at": now,
                    }
                    for element in tasks
                ],
            )
        db.session.commit()
        upgrade(directory=directory)
        kinds = dict(db.session.execute(select(HumanTask.task_id, HumanTask.kind)).all())
    assert kinds == {
        "1-dispatch": "dispatch",
        "1-sign_for": "sign_for",
        "1-note": None,
        f"2-{ids['dispatch']}": "dispatch",
        f"2-{ids['sign_for']}": "sign_for",
    }


def test_policy_rows_gain_a_category_and_lose_theirs_going_back(hotline_app):
    """Migration d3f7a1c9e240: the rows there were become the default rows (category ""),
    and going back removes the category rows the old (case type, urgency) key cannot hold."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import func, select, text

    from workflows.policy.models import DeadlinePolicy

    directory = hotline_app.extensions["migrate"].directory
    with hotline_app.app_context():
        total = db.session.scalar(select(func.count()).select_from(DeadlinePolicy))
        db.session.commit()  # no read transaction left open across the migration
        downgrade(directory=directory, revision="9a4e2c7d1b36")
        columns = db.session.execute(text("SELECT * FROM deadline_policies")).keys()
        assert "category" not in columns
        kept = db.session.scalar(text("SELECT count(*) FROM deadline_policies"))
        assert kept == total - 1  # the demo's 消费维权 row is gone
        db.session.commit()
        upgrade(directory=directory)
        categories = db.session.scalars(select(DeadlinePolicy.category)).all()
    assert len(categories) == kept and set(categories) == {""}


def test_stored_phones_are_made_canonical_and_stay_searchable(hotline_app):
    app = hotline_app
    """Migration 3f7b1c9d2e58 rewrites callers' phones in their one stored form, through the
    table, so the phone index (FTS5 on SQLite, trigrams on PostgreSQL) finds the new form."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select, update

    from tests.webapp.test_intake import open_case
    from webapp.hotline import get_hotline
    from workflows.cases.models import Case
    from workflows.cases.search import CaseFilters, search_cases
    from workflows.users.service import by_username

    directory = app.extensions["migrate"].directory
    written = {
        "a": "+86 139 0223 1234",
        "b": "139-0223-1234",
        "c": "13902231234",
        "d": "0750-1234567",
        "e": "0086 138 0013 8000",
    }
    numbers = {key: open_case(app) for key in written}
    with app.app_context():
        downgrade(directory=directory, revision="9a4e2c7d1b36")
        for key, phone in written.items():  # as an older hotline stored them
            db.session.execute(
                update(Case).where(Case.number == numbers[key]).values(caller_phone=phone)
            )
        db.session.commit()
        upgrade(directory=directory)
        stored = dict(db.session.execute(select(Case.number, Case.caller_phone)).all())
        assert {key: stored[numbers[key]] for key in written} == {
            "a": "13902231234",
            "b": "13902231234",
            "c": "13902231234",
            "d": "07501234567",
            "e": "13800138000",
        }
        supervisor = by_username(db.session, "sup1")
        found = db.session.scalars(
            search_cases(
                db.session, supervisor, CaseFilters(phone="0223 1234"), tz=get_hotline().tz
            )
        ).all()
        assert sorted(case.number for case in found) == sorted(numbers[k] for k in ("a", "b", "c"))
