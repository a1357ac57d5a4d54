"""Imports point one way: webapp -> workflows -> engine. Read from the source, not imported."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, forbidden: set[str]) -> list[str]:
    return sorted(
        f"{path} imports {', '.join(sorted(names & forbidden))}"
        for path, names in imported_modules(package).items()
        if names & forbidden
    )


def test_engine_imports_no_flask_no_domain_no_webapp():
    assert offenders("engine", {"flask", "flask_sqlalchemy", "workflows", "webapp"}) == []


def test_workflows_does_not_import_webapp():
    assert offenders("workflows", {"webapp", "flask", "flask_sqlalchemy"}) == []


def test_the_check_sees_imports(tmp_path, monkeypatch):
    # The scanner must actually find an import, or the two tests above could never fail.
    assert "sqlalchemy" in set().union(*imported_modules("engine").values())


def private_uses(folder: Path) -> list[str]:
    """Names with a leading underscore taken from another module of the package."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(folder.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                found += [f"{where} imports {a.name}" for a in node.names if a.name.startswith("_")]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id == "runtime"
            ):
                found.append(f"{where}:{node.lineno} uses runtime.{node.attr}")
    return found


def test_engine_modules_use_each_others_public_names_only(tmp_path):
    # Moving instances once imported the runtime's _Loaded and called runtime._save.
    assert private_uses(ROOT / "engine") == []
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "m.py").write_text("from .runtime import _Loaded\nruntime._save(1)\n")
    assert private_uses(tmp_path / "probe") == [
        "probe/m.py imports _Loaded",
        "probe/m.py:2 uses runtime._save",
    ]
