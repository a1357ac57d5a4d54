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
import re
import threading
import time as _time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
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
# bytes are not data here, and ``(1).to_bytes(10**9)`` would build a gigabyte
ALLOWED_ATTRS[int] -= {"to_bytes", "from_bytes"}
ALLOWED_ATTRS[bool] -= {"to_bytes", "from_bytes"}
ALLOWED_ATTRS[float] -= {"fromhex"}

#: every method name some allowed type has: calling anything else can only fail at run time
_METHODS = frozenset().union(*ALLOWED_ATTRS.values())

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


@dataclass(frozen=True)
class Budget:
    """What one evaluation (an expression, or a whole script) may spend while it runs.

    ``time_ms`` is wall time on the process's monotonic clock (checked every few steps);
    ``steps`` counts evaluated syntax nodes, comprehension items included; ``size`` bounds any one
    value built (characters of a string, items of a list or dict, decimal digits of an int) and
    ``total`` the sum of all sizes built in the evaluation. Sizes are checked *before* a value is
    built wherever Python lets us estimate it.
    """

    time_ms: int = 200
    steps: int = 100_000
    size: int = 100_000
    total: int = 1_000_000


DEFAULT_BUDGET = Budget()


class BudgetExceeded(ExpressionError):
    """An expression ran past its :class:`Budget`; ``budget`` names which one, ``spent`` how far."""

    def __init__(self, budget: str, limit: int, spent: int, detail: str = "") -> None:
        self.budget = budget
        self.limit = limit
        self.spent = spent
        what = f" ({detail})" if detail else ""
        super().__init__(f"exceeds the {budget} budget of {limit}{what}")


def _describe(node: ast.AST) -> str:
    return type(node).__name__


def _static_check(tree: ast.AST, source: str, functions: Mapping[str, Any] | None) -> None:
    allowed = _EXPRESSION_NODES + (_STATEMENT_NODES if isinstance(tree, ast.Module) else ())
    unknown_methods: list[str] = []  # reported last: a forbidden function inside says more
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
            elif node.func.attr not in _METHODS:
                unknown_methods.append(node.func.attr)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                _check_target(target, source)
        elif isinstance(node, ast.AugAssign):
            _check_target(node.target, source)
    if unknown_methods:
        raise ExpressionError(f"method {unknown_methods[0]!r} is not allowed in {source!r}")


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


def check_expression(
    source: str, functions: Mapping[str, Any] | None = None, budget: Budget = DEFAULT_BUDGET
) -> None:
    """Raise :class:`ExpressionError` unless ``source`` is an allowed expression."""
    if source is None or not source.strip():
        raise ExpressionError("expression is empty")
    _check(_parse(source, "eval"), source, functions, budget)


def check_script(
    source: str, functions: Mapping[str, Any] | None = None, budget: Budget = DEFAULT_BUDGET
) -> None:
    """Raise :class:`ExpressionError` unless ``source`` is an allowed script."""
    if source is None:
        return
    _check(_parse(source, "exec"), source, functions, budget)


def _check(tree: ast.AST, source: str, functions: Mapping[str, Any] | None, budget: Budget):
    """The one check deploy and run time share: the whitelist, then the statically obvious
    excess (``9**9**9``): every part that reads no name is evaluated under the budget."""
    _static_check(tree, source, functions)
    _fold(tree, source, budget)


def _fold(node: ast.AST, source: str, budget: Budget) -> None:
    if (
        isinstance(node, ast.expr)
        and not isinstance(node, ast.Constant | ast.Name)
        and not any(isinstance(n, ast.Name | ast.Lambda) for n in ast.walk(node))
    ):
        ev = _Evaluator(functions={}, names={}, budget=budget)
        try:
            ev.run(source, lambda: ev._eval(node))
        except BudgetExceeded:
            raise
        except Exception:  # noqa: S110 - only the budget is decided here; the rest at run time
            pass
        return
    for child in ast.iter_child_nodes(node):
        _fold(child, source, budget)


_DATA_TYPES = (str, int, float, bool, type(None), list, dict, datetime, date, time, timedelta)


def _digits(n: int) -> int:
    return n.bit_length() * 30103 // 100000 + 1


def _size(value: Any) -> int:
    """The size the budget counts: characters, items, or decimal digits of an int."""
    if isinstance(value, str | list | tuple | dict | set | frozenset | bytes):
        return len(value)
    if isinstance(value, int):
        return _digits(value)
    return 1


def _text_size(value: Any, limit: int) -> int:
    """Roughly how long ``str(value)`` would be, walking containers; stops past ``limit``."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + 2 * len(item)
            stack.extend(item)
        elif isinstance(item, int):
            total += _digits(item)
        else:
            total += 32
    return total


_WIDTH = re.compile(r"\d+")

#: nodes whose result is a newly built value (counted against the size budgets)
_BUILDING = (
    ast.BinOp,
    ast.Call,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.ListComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.JoinedStr,
)


class _Evaluator(simpleeval.EvalWithCompoundTypes):
    """simpleeval with dotted access into dicts (``case.urgency``), our attribute whitelist and
    a :class:`Budget` enforced while it runs."""

    def __init__(self, *args: Any, budget: Budget = DEFAULT_BUDGET, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget
        self.steps = 0
        self.built = 0
        self._deadline = 0.0
        self.operators = {
            **self.operators,
            ast.Pow: self._pow,
            ast.Mult: self._mult,
            ast.Add: self._add,
            ast.LShift: self._lshift,
            ast.Mod: self._mod,
        }

    # -- the budget ---------------------------------------------------------------------

    def run(self, source: str, thunk: Callable[[], Any]) -> Any:
        """Run ``thunk`` as one evaluation of ``source``: counters start from zero."""
        self.expr = source
        self.steps = 0
        self.built = 0
        self._max_count = 0
        self._deadline = _time.monotonic() + self.budget.time_ms / 1000
        return thunk()

    def eval(self, expr: str, previously_parsed: Any = None) -> Any:
        return self.run(expr, lambda: self._eval(previously_parsed or self.parse(expr)))

    def _exceeded(self, budget: str, limit: int, spent: int, detail: str = "") -> BudgetExceeded:
        exc = BudgetExceeded(budget, limit, spent, detail)
        exc.args = (f"{exc.args[0]} in {self.expr!r}",)
        return exc

    def _eval(self, node: ast.AST) -> Any:
        self.steps += 1
        if self.steps > self.budget.steps:
            raise self._exceeded("steps", self.budget.steps, self.steps, "evaluated nodes")
        if not self.steps & 63 and _time.monotonic() > self._deadline:
            raise self._exceeded("time", self.budget.time_ms, self.steps, "milliseconds")
        result = super()._eval(node)
        if isinstance(node, _BUILDING):
            self._grow(_size(result), "result")
        return result

    def _room(self, size: int, what: str) -> None:
        """Refuse to build a value of ``size`` (checked before building it)."""
        if size > self.budget.size:
            raise self._exceeded("size", self.budget.size, size, what)
        if self.built + size > self.budget.total:
            raise self._exceeded("total size", self.budget.total, self.built + size, what)

    def _grow(self, size: int, what: str) -> None:
        self._room(size, what)
        self.built += size

    def _text(self, value: Any, what: str) -> None:
        if not isinstance(value, str | int | float | bool | type(None)):
            self._room(_text_size(value, self.budget.size), what)

    # -- operators that build: estimate first -------------------------------------------

    def _pow(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
            self._room(b * a.bit_length() * 30103 // 100000, "power")
        return a**b

    def _mult(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int):
            self._room(_digits(a) + _digits(b), "product")
        elif isinstance(b, int) and hasattr(a, "__len__"):
            self._room(len(a) * max(b, 0), "repetition")
        elif isinstance(a, int) and hasattr(b, "__len__"):
            self._room(len(b) * max(a, 0), "repetition")
        return a * b

    def _add(self, a: Any, b: Any) -> Any:
        if hasattr(a, "__len__") and hasattr(b, "__len__"):
            self._room(len(a) + len(b), "concatenation")
        return a + b

    def _lshift(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int) and b > 0:
            self._room(_digits(a) + b * 30103 // 100000, "shift")
        return simpleeval.safe_lshift(a, b)

    def _mod(self, a: Any, b: Any) -> Any:
        if isinstance(a, str):
            widest = max((int(w) for w in _WIDTH.findall(a)), default=0)
            if "*" in a:  # '%*d' % (width, value): the widths come from the arguments
                stars = b if isinstance(b, tuple) else (b,)
                widest = max([widest, *(w for w in stars if isinstance(w, int))])
            self._room(len(a) + widest, "% formatting")
            self._text(b, "% formatting")
        return a % b

    def _eval_formattedvalue(self, node: ast.FormattedValue) -> Any:
        value = self._eval(node.value)
        if node.format_spec:
            spec = self._eval(node.format_spec)
            widest = max((int(w) for w in _WIDTH.findall(spec)), default=0)
            self._room(widest, "f-string format")
            self._text(value, "f-string")
            return ("{:" + spec + "}").format(value)
        self._text(value, "f-string")
        return value

    def _eval_call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Attribute):
            func = self._eval(node.func)
        else:
            func = self.functions.get(node.func.id)  # type: ignore[attr-defined]
            if func is None:
                raise simpleeval.FunctionNotDefined(node.func.id, self.expr)  # type: ignore[attr-defined]
            if func in simpleeval.DISALLOW_FUNCTIONS:
                raise simpleeval.FeatureNotAvailable("This function is forbidden")
        args = [self._eval(a) for a in node.args]
        kwargs = dict(self._eval(k) for k in node.keywords)
        self._before_call(func, args, kwargs)
        return func(*args, **kwargs)

    def _before_call(self, func: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
        """Estimate what a call will build, for every callable that can grow a value."""
        owner = getattr(func, "__self__", None)
        name = getattr(func, "__name__", "")
        if func is str or func is repr:
            if args:
                self._text(args[0], "str()")
        elif func is round:
            ndigits = args[1] if len(args) > 1 else kwargs.get("ndigits")
            if isinstance(ndigits, int) and ndigits < 0:  # round(5, -n) computes 10 ** n
                self._room(-ndigits, "round()")
        elif func is sum:
            start = args[1] if len(args) > 1 else kwargs.get("start", 0)
            if not isinstance(start, int | float):
                raise ExpressionError(f"sum() adds numbers only in {self.expr!r}")
        elif isinstance(owner, str):
            if name in ("ljust", "rjust", "center", "zfill") and args:
                self._room(max(len(owner), int(args[0])), f"str.{name}")
            elif name == "join" and args:
                items = args[0] = list(args[0])
                self._room(
                    sum(len(i) if isinstance(i, str) else 0 for i in items)
                    + len(owner) * max(len(items) - 1, 0),
                    "str.join",
                )
            elif name == "replace" and len(args) >= 2:
                old, new = args[0], args[1]
                count = owner.count(old) if old else len(owner) + 1
                if len(args) > 2 and int(args[2]) >= 0:
                    count = min(count, int(args[2]))
                self._room(len(owner) + count * max(len(new) - len(old), 0), "str.replace")
            elif name == "expandtabs":
                tab = args[0] if args else kwargs.get("tabsize", 8)
                self._room(len(owner) + owner.count("\t") * max(int(tab), 0), "str.expandtabs")
        elif isinstance(owner, list | set | dict):
            if name in ("extend", "update", "union", "symmetric_difference"):
                extra = sum(len(a) if hasattr(a, "__len__") else 0 for a in args)
                self._grow(len(owner) + extra, f"{type(owner).__name__}.{name}")
            elif name in ("append", "add", "insert", "setdefault"):
                self._grow(len(owner) + 1, f"{type(owner).__name__}.{name}")

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

    def __init__(
        self,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        budget: Budget = DEFAULT_BUDGET,
    ) -> None:
        self.functions: dict[str, Callable[..., Any]] = {**SAFE_BUILTINS, **(functions or {})}
        self.budget = budget
        self._local = threading.local()
        self._checked: set[tuple[str, str]] = set()

    def _simple(self) -> _Evaluator:
        ev = getattr(self._local, "ev", None)
        if ev is None:
            ev = _Evaluator(functions=dict(self.functions), names={}, budget=self.budget)
            ev.functions.update(self.functions)
            self._local.ev = ev
        return ev

    def check_expression(self, source: str) -> None:
        check_expression(source, self.functions, self.budget)

    def check_script(self, source: str) -> None:
        check_script(source, self.functions, self.budget)

    def _checked_tree(self, source: str, mode: str) -> ast.AST:
        tree = _parse(source, mode)
        if (source, mode) not in self._checked:
            _check(tree, source, self.functions, self.budget)
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
            ev.run(source, lambda: [self._run(s, ev, names, source) for s in tree.body])  # type: ignore[attr-defined]
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
            result = op(current, ev._eval(stmt.value))
            ev._grow(_size(result), "augmented assignment")
            self._assign(stmt.target, _as_data(result, src), ev, names)
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
