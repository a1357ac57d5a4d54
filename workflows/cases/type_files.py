"""Case types declared in a deployment's TOML file (``HOTLINE_CASE_TYPES``), and the start-up
check that every type's diagram is there; docs/case-types.md is the user's side of this."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from engine.xmlsafe import UnsafeXml, parse_bytes

from .enums import Urgency
from .types import (
    BUILTIN,
    LIMIT_FIELDS,
    CaseTypeError,
    CaseTypes,
    CaseTypeSpec,
    PolicyDefaults,
    by_urgency,
)

_BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

_SPEC_FIELDS = {
    "code",
    "process",
    "label_zh",
    "label_en",
    "share",
    "open311_name_zh",
    "open311_name_en",
    "open311_group_zh",
    "open311_group_en",
    "diagram",
    "policy",
    "confidential",
    "details_form",
}
#: a policy table's fields: every limit (named as its column), then the other values
_POLICY_FIELDS = set(LIMIT_FIELDS.values()) | {
    "callback_attempts",
    "warn_share",
    "callback_required",
    "review_required",
    "max_returns",
}
_REQUIRED_POLICY = ("sign", "reply", "return", "callback_required", "review_required")


def load_case_types(path: str | Path | None, *, base: CaseTypes = BUILTIN) -> CaseTypes:
    """``base`` and the types declared in the TOML file at ``path`` after them (``base`` alone
    when ``path`` is empty). CaseTypeError names the file, the declaration and the field."""
    if not path:
        return base
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CaseTypeError(f"{path}: cannot read the case types file: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CaseTypeError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(document) - {"case_type"}
    if unknown:
        raise CaseTypeError(f"{path}: {sorted(unknown)[0]}: unknown; declare [[case_type]] tables")
    tables = document.get("case_type", [])
    if not isinstance(tables, list) or not tables:
        raise CaseTypeError(f"{path}: case_type: declare at least one [[case_type]] table")
    return base.extended(_spec(path, n, table) for n, table in enumerate(tables, start=1))


def _spec(path: Path, n: int, table: dict[str, Any]) -> CaseTypeSpec:
    return spec_of_table(f"{path}: [[case_type]] #{n}", table, base=path.parent)


def spec_of_table(source: str, table: dict[str, Any], *, base: Path | None) -> CaseTypeSpec:
    """One declaration (a TOML ``[[case_type]]`` table, or a type administrators added on
    the pages, stored in the same shape) as a spec; ``base`` is where a ``diagram`` path is
    relative to (None: a declaration that may not name a file)."""
    code = table.get("code")
    where = f"{source}: case type {code!r}" if isinstance(code, str) else source

    def fail(name: str, message: str) -> CaseTypeError:
        return CaseTypeError(f"{where}: {name}: {message}")

    unknown = sorted(set(table) - _SPEC_FIELDS)
    if unknown:
        raise fail(unknown[0], f"unknown field (known: {', '.join(sorted(_SPEC_FIELDS))})")
    for name in ("code", "process", "label_zh", "label_en", "policy"):
        if name not in table:
            raise fail(name, "missing")
    values = {k: v for k, v in table.items() if k not in ("policy", "diagram")}
    if "diagram" in table:
        if base is None:
            raise fail("diagram", "not here: the diagram is deployed")
        if not (isinstance(table["diagram"], str) and table["diagram"].strip()):
            raise fail("diagram", "give the path of a BPMN file, relative to this file")
        values["diagram"] = (base / table["diagram"]).resolve()
    return CaseTypeSpec(**values, policies=_policies(table["policy"], fail), source=source)


def _policies(table: Any, fail: Any) -> dict[str, PolicyDefaults]:
    if not isinstance(table, dict):
        raise fail("policy", "give a table ([case_type.policy])")
    urgencies = {str(u) for u in Urgency} - {str(Urgency.NORMAL)}
    unknown = sorted(set(table) - _POLICY_FIELDS - urgencies)
    if unknown:
        known = ", ".join(sorted(_POLICY_FIELDS | urgencies))
        raise fail(f"policy.{unknown[0]}", f"unknown field (known: {known})")
    for name in _REQUIRED_POLICY:
        if name not in table:
            raise fail(f"policy.{name}", "missing")
    normal = PolicyDefaults(**_policy_values(table, "policy", fail))
    out = by_urgency(normal)
    for urgency in sorted(urgencies & set(table)):
        override = table[urgency]
        if not isinstance(override, dict):
            raise fail(f"policy.{urgency}", "give a table ([case_type.policy.urgent])")
        unknown = sorted(set(override) - _POLICY_FIELDS)
        if unknown:
            raise fail(f"policy.{urgency}.{unknown[0]}", "unknown field")
        out[urgency] = dataclasses.replace(
            out[urgency], **_policy_values(override, f"policy.{urgency}", fail)
        )
    return out


def _policy_values(table: dict[str, Any], prefix: str, fail: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _POLICY_FIELDS & set(table):
        value = table[name]
        attribute = "return_" if name == "return" else name
        if attribute in LIMIT_FIELDS:
            if not (isinstance(value, dict) and set(value) == {"value", "unit"}):
                raise fail(f"{prefix}.{name}", 'give { value = 1, unit = "workdays" }')
            value = (value["value"], value["unit"])
        values[attribute] = value
    return values


def check_diagrams(case_types: CaseTypes, bpmn_dir: Path) -> None:
    """Every type's process is in its ``diagram``, or in one of ``bpmn_dir``'s diagrams:
    otherwise intake would fail on the first call of that type."""
    bundled: set[str] = set()
    for path in sorted(Path(bpmn_dir).glob("*.bpmn")):
        try:
            bundled.update(_process_ids(path))
        except (OSError, UnsafeXml):
            continue  # `hotline init` names a broken file; here it only offers no process
    for spec in case_types:
        if spec.diagram is not None:
            try:
                found = _process_ids(spec.diagram)
            except (OSError, UnsafeXml) as exc:
                problem = exc.strerror if isinstance(exc, OSError) else exc.problem.message
                raise CaseTypeError(
                    f"{spec.where()}: diagram: cannot read {spec.diagram}: {problem}"
                ) from None
            if spec.process not in found:
                raise CaseTypeError(
                    f"{spec.where()}: process: {spec.diagram} has no executable process "
                    f"with id {spec.process!r} (it has {', '.join(found) or 'none'})"
                )
        elif spec.process not in bundled:
            raise CaseTypeError(
                f"{spec.where()}: process: no diagram in {bpmn_dir} has an executable "
                f"process with id {spec.process!r}; name the file in diagram"
            )


_process_cache: dict[tuple[str, int, int], list[str]] = {}


def _process_ids(path: Path) -> list[str]:
    """The ids of the executable processes in a BPMN file (read once per version of the file:
    apps are made often in tests, and the files rarely change)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _process_cache:
        root = parse_bytes(path.read_bytes()).getroot()
        _process_cache[key] = [
            p.get("id", "")
            for p in root.iter(f"{{{_BPMN_NS}}}process")
            if p.get("isExecutable", "false").lower() == "true"
        ]
    return _process_cache[key]
