"""Build tests/webapp/fixtures/upgrade/<rev>.sql: a database made by the first released hotline.

The first released schema is Alembic revision 32768b86181d (the engine tables of b72060f9ff99
plus the hotline domain), the head of commit 858512f, the first landed code whose ``hotline
init`` seeds the reference data and whose demo loads cases. This script runs that code, not
today's: it checks the commit out into a temporary git worktree, runs its ``hotline init`` and its
demo (a smaller one) on a fixed clock into a SQLite file, adds what the demo leaves empty (a case
note), and dumps every table as portable INSERT statements (TRUE/FALSE, quoted text, NULL) that
SQLite and PostgreSQL both load, in foreign-key order, rows by primary key.

Usage: python scripts/make_upgrade_fixture.py [--commit 858512f] [--cases 40]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
COMMIT = "858512f"
REVISION = "32768b86181d"
OUT = ROOT / "tests" / "webapp" / "fixtures" / "upgrade"

#: run inside the old checkout, with its own modules first on sys.path
OLD_CODE = """
import sys
from datetime import UTC, datetime

from engine.clock import ManualClock
from webapp import create_app
from webapp.cli import cli

url, cases = sys.argv[1], int(sys.argv[2])
clock = ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
app = create_app({"DATABASE_URL": url}, clock=clock)
result = app.test_cli_runner().invoke(cli, ["init"])
print(result.output)
assert result.exit_code == 0, result.output
with app.app_context():
    from sqlalchemy import select

    from webapp.demo import load
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.cases.flows import add_note
    from workflows.cases.models import Case
    from workflows.users.models import User

    for line in load(cases=cases, days=7, seed=7):
        print(line)
    db.session.rollback()  # a snapshot older than the simulated cases
    supervisor = db.session.scalars(select(User).where(User.username == "sup1")).one()
    number = db.session.scalars(select(Case.number).order_by(Case.id)).first()
    add_note(db.session, get_hotline(), number=number, user=supervisor, body="old note")
    db.session.remove()
"""


def literal(value, type_) -> str:
    if value is None:
        return "NULL"
    if isinstance(type_, sa.Boolean):
        return "TRUE" if value else "FALSE"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, bytes):
        raise ValueError("binary columns are not expected at this revision")
    return "'" + str(value).replace("'", "''") + "'"


def dump(url: str) -> str:
    """Every table's rows (but alembic_version) as INSERTs, parents before children."""
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    lines = [
        f"-- hotline database at Alembic revision {REVISION}, made by commit {COMMIT}",
        "-- (scripts/make_upgrade_fixture.py); load after upgrading an empty database to it",
    ]
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            names = [c.name for c in table.columns]
            order = list(table.primary_key.columns) or list(table.columns)
            # the stored text (JSON as written, date-times as SQLite holds them), not Python
            # values that would need writing back
            columns = ", ".join(f'"{name}"' for name in names)
            keys = ", ".join(f'"{c.name}"' for c in order)
            query = f'SELECT {columns} FROM "{table.name}" ORDER BY {keys}'
            rows = conn.execute(sa.text(query)).all()
            for row in rows:
                values = ", ".join(
                    literal(v, c.type) for v, c in zip(row, table.columns, strict=True)
                )
                lines.append(f'INSERT INTO "{table.name}" ({", ".join(names)}) VALUES ({values});')
    engine.dispose()
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", default=COMMIT)
    parser.add_argument("--cases", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hotline-old-") as tmp:
        checkout = Path(tmp) / "checkout"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(checkout), args.commit],
            cwd=ROOT,
            check=True,
        )
        try:
            url = f"sqlite:///{Path(tmp) / 'old.db'}"
            subprocess.run(
                [sys.executable, "-c", OLD_CODE, url, str(args.cases)],
                cwd=checkout,
                env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"},
                check=True,
            )
            OUT.mkdir(parents=True, exist_ok=True)
            target = OUT / f"{REVISION}.sql"
            target.write_text(dump(url))
            print(f"wrote {target}")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT)


if __name__ == "__main__":
    main()
