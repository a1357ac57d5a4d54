"""The small, safe subset of FEEL that form-js ``conditional.hide`` expressions may use here.

Tokenized and parsed by hand into a tiny tree, then walked; nothing is ever handed to
``eval``. Supported: field names, string / number / ``true`` / ``false`` / ``null`` literals,
comparisons (``=``, ``!=``, ``<``, ``>``, ``<=``, ``>=``), ``and``, ``or``, ``not(...)`` and
parentheses. Semantics follow FEEL where it matters for hiding fields:

- ``x = null`` is true when ``x`` is absent or empty; values of different types are never
  equal (``"1" = 1`` is false), so ``!=`` between them is true;
- ``<``, ``>``, ``<=``, ``>=`` compare two numbers or two strings; anything else gives null;
- ``and`` / ``or`` use FEEL's three-valued logic; non-boolean operands count as null;
- a field is hidden only when its expression gives exactly ``true`` (null shows it, as in
  form-js).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 2000
MAX_DEPTH = 32

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?|\.\d+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<op><=|>=|!=|=|<|>|\(|\)|-)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>[^"])
    """,
    re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")
_ESCAPES = {'"': '"', "\\": "\\", "'": "'", "n": "\n", "r": "\r", "t": "\t", "/": "/"}
_CONSTANTS = {"true": True, "false": False, "null": None}
_COMPARISONS = ("=", "!=", "<", ">", "<=", ">=")


class FeelError(ValueError):
    """The expression does not parse, or uses FEEL beyond the supported subset."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Logic:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


Node = Literal | Name | Not | Logic | Compare


def _unescape(body: str, pos: int) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("u") and len(code) == 5:
            return chr(int(code[1:], 16))
        if code in _ESCAPES:
            return _ESCAPES[code]
        raise FeelError(f"unknown escape \\{code} in the string at position {pos + 1}")

    return _ESCAPE.sub(one, body)


def _tokenize(source: str, start: int) -> list[_Token]:
    tokens: list[_Token] = []
    pos = start
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:  # only a '"' that no closing '"' follows
            raise FeelError(f"unterminated string at position {pos + 1}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, match.group(), pos))
        pos = match.end()
    return tokens


class _Parser:
    """or := and ("or" and)*; and := cmp ("and" cmp)*; cmp := operand [op operand];
    operand := "not" "(" or ")" | "(" or ")" | literal | "-" number | name."""

    def __init__(self, source: str, start: int = 0) -> None:
        self.tokens = _tokenize(source, start)
        self.i = 0
        self.depth = 0

    def parse(self) -> Node:
        if not self.tokens:
            raise FeelError("the expression is empty")
        node = self._or()
        if self.i < len(self.tokens):
            self._fail(self.tokens[self.i])
        return node

    def _peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take(self) -> _Token:
        token = self._peek()
        if token is None:
            raise FeelError("the expression ends too early")
        self.i += 1
        return token

    def _fail(self, token: _Token) -> None:
        raise FeelError(f"unexpected {token.text!r} at position {token.pos + 1}")

    def _is(self, kind: str, text: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == kind and token.text == text

    def _or(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FeelError(f"the expression nests deeper than {MAX_DEPTH} levels")
        node = self._and()
        while self._is("name", "or"):
            self.i += 1
            node = Logic("or", node, self._and())
        self.depth -= 1
        return node

    def _and(self) -> Node:
        node = self._comparison()
        while self._is("name", "and"):
            self.i += 1
            node = Logic("and", node, self._comparison())
        return node

    def _comparison(self) -> Node:
        left = self._operand()
        token = self._peek()
        if token is not None and token.kind == "op" and token.text in _COMPARISONS:
            self.i += 1
            node = Compare(token.text, left, self._operand())
            after = self._peek()
            if after is not None and after.kind == "op" and after.text in _COMPARISONS:
                raise FeelError(f"chained comparison at position {after.pos + 1}: use 'and'")
            return node
        return left

    def _operand(self) -> Node:
        token = self._take()
        if token.kind == "name" and token.text == "not":
            if not self._is("op", "("):
                raise FeelError(f"'not' must be called as not(...) at position {token.pos + 1}")
            return Not(self._group())
        if token.kind == "op" and token.text == "(":
            self.i -= 1
            return self._group()
        if token.kind == "number":
            return Literal(_number(token.text))
        if token.kind == "op" and token.text == "-":
            number = self._take()
            if number.kind != "number":
                self._fail(number)
            return Literal(-_number(number.text))
        if token.kind == "string":
            return Literal(_unescape(token.text[1:-1], token.pos))
        if token.kind == "name" and token.text in _CONSTANTS:
            return Literal(_CONSTANTS[token.text])
        if token.kind == "name" and token.text not in ("and", "or"):
            after = self._peek()
            if after is not None and after.kind == "op" and after.text == "(":
                raise FeelError(
                    f"function {token.text}() at position {token.pos + 1} is not supported"
                )
            return Name(token.text)
        self._fail(token)
        raise AssertionError("unreachable")

    def _group(self) -> Node:
        self._take()  # "("
        node = self._or()
        closing = self._take()
        if closing.kind != "op" or closing.text != ")":
            self._fail(closing)
        return node


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _compare(op: str, left: Any, right: Any) -> bool | None:
    kl, kr = _kind(left), _kind(right)
    if op in ("=", "!="):
        equal = kl == kr if "null" in (kl, kr) else kl == kr and left == right
        return equal if op == "=" else not equal
    if kl != kr or kl not in ("number", "string"):
        return None
    if op == "<":
        return left < right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    return left >= right


def evaluate(node: Node, values: Mapping[str, Any]) -> Any:
    """The value of ``node`` with field names looked up in ``values`` (absent: null)."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        value = values.get(node.name)
        return None if value == "" or value == [] else value
    if isinstance(node, Not):
        operand = evaluate(node.operand, values)
        return not operand if isinstance(operand, bool) else None
    if isinstance(node, Compare):
        return _compare(node.op, evaluate(node.left, values), evaluate(node.right, values))
    left, right = evaluate(node.left, values), evaluate(node.right, values)
    if node.op == "and":
        if left is False or right is False:
            return False
        return True if left is True and right is True else None
    if left is True or right is True:
        return True
    return False if left is False and right is False else None


def _names(node: Node) -> set[str]:
    if isinstance(node, Name):
        return {node.name}
    if isinstance(node, Not):
        return _names(node.operand)
    if isinstance(node, Logic | Compare):
        return _names(node.left) | _names(node.right)
    return set()


@dataclass(frozen=True)
class Condition:
    """A parsed ``conditional.hide`` expression and the field names it reads."""

    source: str
    tree: Node
    names: frozenset[str]

    @classmethod
    def parse(cls, source: str) -> Condition:
        """Parse ``=expression``; raise :class:`FeelError` saying what is wrong."""
        if not isinstance(source, str) or not source.startswith("="):
            raise FeelError("a condition must be a FEEL expression starting with '='")
        if len(source) > MAX_LENGTH:
            raise FeelError(f"the expression is longer than {MAX_LENGTH} characters")
        tree = _Parser(source, start=1).parse()
        return cls(source, tree, frozenset(_names(tree)))

    def is_true(self, values: Mapping[str, Any]) -> bool:
        """Whether the expression gives exactly ``true`` for these field values."""
        return evaluate(self.tree, values) is True
