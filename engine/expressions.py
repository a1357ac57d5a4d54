"""The restricted evaluator for gateway conditions, timer values and scripts.

SpiffWorkflow's default environment runs Python ``eval``/``exec`` with full builtins, so a
condition could import ``os`` or open files. Here expressions are parsed with :mod:`ast`, checked
against a whitelist of node types, names and attributes, and evaluated by ``simpleeval`` (a
well-kept library for exactly this); scripts are a small statement language (assignments, ``if``,
expression statements) on top of it. Nothing reaches a builtin that is not in the whitelist.

The same checks run at deploy time (:func:`check_expression`, :func:`check_script`) so that a
diagram that tries ``__import__('os')`` is refused before it is stored.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable, Mapping, MutableMapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import simpleeval

from .errors import ExpressionError

#: Functions every expression may call, besides those the domain registers.
SAFE_BUILTINS: dict[str, Callable[..., Any]] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "round": round,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "sum": sum,
    "sorted": sorted,
    "any": any,
    "all": all,
    "list": list,
    "dict": dict,
}

_DATE_ATTRS = {"year", "month", "day", "weekday", "isoweekday", "isoformat"}
_TIME_ATTRS = {"hour", "minute", "second"}

#: Attributes allowed per type (simpleeval's opt-in type safety, widened for dates).
ALLOWED_ATTRS: dict[Any, set[str]] = {
    **{k: set(v) for k, v in simpleeval.BASIC_ALLOWED_ATTRS.items()},
    datetime: _DATE_ATTRS | _TIME_ATTRS | {"date", "time", "timestamp"},
    date: set(_DATE_ATTRS),
    time: _TIME_ATTRS | {"isoformat"},
    timedelta: {"days", "seconds", "total_seconds"},
}
ALLOWED_ATTRS[str] -= {"format", "format_map", "maketrans", "translate", "encode"}

_EXPRESSION_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.Expr,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Store,
    ast.UnaryOp,
    ast.BinOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.keyword,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.ListComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.comprehension,
    ast.JoinedStr,
    ast.FormattedValue,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
)
_STATEMENT_NODES: tuple[type[ast.AST], ...] = (
    ast.Module,
    ast.Assign,
    ast.AugAssign,
    ast.If,
    ast.Pass,
)

MAX_SOURCE_LENGTH = 10_000


def _describe(node: ast.AST) -> str:
    return type(node).__name__


def _static_check(tree: ast.AST, source: str, functions: Mapping[str, Any] | None) -> None:
    allowed = _EXPRESSION_NODES + (_STATEMENT_NODES if isinstance(tree, ast.Module) else ())
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            kind = "statement" if isinstance(node, ast.stmt) else "construct"
            raise ExpressionError(f"{_describe(node)} {kind} is not allowed in {source!r}")
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise ExpressionError(f"name {node.id!r} is not allowed in {source!r}")
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_") or node.attr in simpleeval.DISALLOW_METHODS:
                raise ExpressionError(f"attribute {node.attr!r} is not allowed in {source!r}")
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                if functions is not None and node.func.id not in functions:
                    known = ", ".join(sorted(functions))
                    raise ExpressionError(
                        f"function {node.func.id!r} is not allowed in {source!r} (allowed: {known})"
                    )
            elif not isinstance(node.func, ast.Attribute):
                raise ExpressionError(f"only named functions may be called in {source!r}")
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                _check_target(target, source)
        elif isinstance(node, ast.AugAssign):
            _check_target(node.target, source)


def _check_target(target: ast.AST, source: str) -> None:
    if isinstance(target, ast.Name):
        return
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name | ast.Subscript):
        return
    if isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
        return
    raise ExpressionError(f"cannot assign to {_describe(target)} in {source!r}")


@lru_cache(maxsize=4096)
def _parse(source: str, mode: str) -> ast.AST:
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_SOURCE_LENGTH} characters")
    try:
        return ast.parse(source.strip(), mode=mode)
    except SyntaxError as exc:
        raise ExpressionError(f"does not parse: {exc.msg} in {source!r}") from None


def check_expression(source: str, functions: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`ExpressionError` unless ``source`` is an allowed expression."""
    if source is None or not source.strip():
        raise ExpressionError("expression is empty")
    _static_check(_parse(source, "eval"), source, functions)


def check_script(source: str, functions: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`ExpressionError` unless ``source`` is an allowed script."""
    if source is None:
        return
    _static_check(_parse(source, "exec"), source, functions)


_DATA_TYPES = (str, int, float, bool, type(None), list, dict, datetime, date, time, timedelta)


class _Evaluator(simpleeval.EvalWithCompoundTypes):
    """simpleeval with dotted access into dicts (``case.urgency``) and our attribute whitelist."""

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        attr = node.attr
        if attr.startswith("_") or attr in simpleeval.DISALLOW_METHODS:
            raise simpleeval.FeatureNotAvailable(f"attribute {attr!r} is not allowed")
        value = self._eval(node.value)
        if isinstance(value, dict) and attr in value:
            return value[attr]
        allowed = ALLOWED_ATTRS.get(type(value))
        if allowed is None or attr not in allowed:
            raise simpleeval.FeatureNotAvailable(
                f"attribute {attr!r} is not allowed on {type(value).__name__}"
            )
        return getattr(value, attr)


class Evaluator:
    """Evaluates expressions and runs scripts against a mapping of names (task data).

    ``functions`` are the whitelisted callables (the safe builtins plus what the caller adds,
    such as the calendar's ``workdays``). One instance may be shared by threads.
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.functions: dict[str, Callable[..., Any]] = {**SAFE_BUILTINS, **(functions or {})}
        self._local = threading.local()
        self._checked: set[tuple[str, str]] = set()

    def _simple(self) -> _Evaluator:
        ev = getattr(self._local, "ev", None)
        if ev is None:
            ev = _Evaluator(functions=dict(self.functions), names={})
            ev.functions.update(self.functions)
            self._local.ev = ev
        return ev

    def check_expression(self, source: str) -> None:
        check_expression(source, self.functions)

    def check_script(self, source: str) -> None:
        check_script(source, self.functions)

    def _checked_tree(self, source: str, mode: str) -> ast.AST:
        tree = _parse(source, mode)
        if (source, mode) not in self._checked:
            _static_check(tree, source, self.functions)
            self._checked.add((source, mode))
        return tree

    def evaluate(self, source: str, names: Mapping[str, Any]) -> Any:
        """Evaluate one expression; raise :class:`ExpressionError` with a readable reason."""
        tree = self._checked_tree(source, "eval")
        ev = self._simple()
        ev.names = names
        try:
            return ev.eval(source, previously_parsed=tree.body)
        except ExpressionError:
            raise
        except simpleeval.NameNotDefined as exc:
            raise ExpressionError(f"name {exc.name!r} is not defined in {source!r}") from None
        except simpleeval.InvalidExpression as exc:
            raise ExpressionError(f"{exc} in {source!r}") from None
        except Exception as exc:  # the expression itself failed: say how
            raise ExpressionError(f"{type(exc).__name__}: {exc} in {source!r}") from None
        finally:
            ev.names = {}

    def execute(self, source: str, names: MutableMapping[str, Any]) -> None:
        """Run a script: assignments write into ``names`` (the task data)."""
        tree = self._checked_tree(source, "exec")
        ev = self._simple()
        ev.names = names
        try:
            for stmt in tree.body:  # type: ignore[attr-defined]
                self._run(stmt, ev, names, source)
        except ExpressionError:
            raise
        except simpleeval.NameNotDefined as exc:
            raise ExpressionError(f"name {exc.name!r} is not defined in {source!r}") from None
        except simpleeval.InvalidExpression as exc:
            raise ExpressionError(f"{exc} in {source!r}") from None
        except Exception as exc:
            raise ExpressionError(f"{type(exc).__name__}: {exc} in {source!r}") from None
        finally:
            ev.names = {}

    def _run(self, stmt: ast.stmt, ev: _Evaluator, names: MutableMapping[str, Any], src: str):
        if isinstance(stmt, ast.Expr):
            ev._eval(stmt.value)
        elif isinstance(stmt, ast.Assign):
            value = _as_data(ev._eval(stmt.value), src)
            for target in stmt.targets:
                self._assign(target, value, ev, names)
        elif isinstance(stmt, ast.AugAssign):
            current = ev._eval(_as_load(stmt.target))
            op = ev.operators[type(stmt.op)]
            self._assign(stmt.target, _as_data(op(current, ev._eval(stmt.value)), src), ev, names)
        elif isinstance(stmt, ast.If):
            for inner in stmt.body if ev._eval(stmt.test) else stmt.orelse:
                self._run(inner, ev, names, src)
        elif isinstance(stmt, ast.Pass):
            pass
        else:  # _static_check already refused it; keep the guard for safety
            raise ExpressionError(f"{_describe(stmt)} is not allowed in {src!r}")

    def _assign(self, target: ast.AST, value: Any, ev: _Evaluator, names: MutableMapping) -> None:
        if isinstance(target, ast.Name):
            if target.id in self.functions:
                raise ExpressionError(f"cannot assign to {target.id!r}: it names a function")
            names[target.id] = value
        elif isinstance(target, ast.Tuple):
            values = list(value)
            if len(values) != len(target.elts):
                raise ExpressionError("wrong number of values to unpack")
            for elt, item in zip(target.elts, values, strict=True):
                self._assign(elt, item, ev, names)
        else:  # Subscript
            container = ev._eval(target.value)  # type: ignore[attr-defined]
            if not isinstance(container, dict | list):
                raise ExpressionError("only dicts and lists can be assigned into")
            container[ev._eval(target.slice)] = value  # type: ignore[attr-defined]


def _as_load(target: ast.AST) -> ast.AST:
    node = ast.parse(ast.unparse(target), mode="eval").body
    return node


def _as_data(value: Any, source: str) -> Any:
    if isinstance(value, list | tuple):
        return [_as_data(v, source) for v in value]
    if isinstance(value, dict):
        return {k: _as_data(v, source) for k, v in value.items()}
    if isinstance(value, _DATA_TYPES):
        return value
    raise ExpressionError(
        f"a script may only store data (text, numbers, lists, dicts, dates), "
        f"not {type(value).__name__}, in {source!r}"
    )
