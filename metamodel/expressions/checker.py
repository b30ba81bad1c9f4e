"""Compiling an expression: type-checking its AST against the data items, building its closures.

``compile_expression`` is the one way to an ``Expression``; ``check`` lists every problem of a
source (at publish time). The language itself is described in ``metamodel.expressions.types``.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Final

from metamodel.expressions import functions, operators, parser
from metamodel.expressions.runtime import (
    EMPTY,
    PRECISION,
    UNKNOWN,
    Expression,
    Fn,
    Node,
    constant_fn,
    loader,
    runner,
    runtime_error,
)
from metamodel.expressions.types import (
    ExpressionError,
    ExprType,
    Fields,
    excerpt,
    expr_type_of,
)
from metamodel.specs import ItemType

_REFUSED_NODES: Final[Mapping[type[ast.AST], str]] = {
    ast.Subscript: "subscripts (x[...]) are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "assignment expressions (':=') are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.Set: "set literals are not allowed",
    ast.List: "a list is only allowed on the right of 'in'",
    ast.Tuple: "a tuple is only allowed on the right of 'in'",
    ast.Dict: "a dict is only allowed as the table of lookup()",
    ast.Slice: "slices are not allowed",
}

_DATE_SHAPE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_SHAPE: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})"
)


def compile_expression(
    source: str,
    variables: Mapping[str, ItemType],
    *,
    enum_values: Mapping[str, frozenset[str]] | None = None,
    fields: Fields | None = None,
) -> Expression:
    """Parse, check and compile `source` over the items `variables`; raise ExpressionError.

    `fields` gives the fields of the LIST items among `variables` (see `types.list_fields`).
    """
    expression, errors = _compile(source, variables, enum_values or {}, fields or {})
    if expression is None:
        raise errors[0]
    return expression


def check(
    source: str,
    variables: Mapping[str, ItemType],
    *,
    expected: ExprType | None = None,
    enum_values: Mapping[str, frozenset[str]] | None = None,
    fields: Fields | None = None,
) -> list[str]:
    """Every problem of `source` as a message (with its position), or [] when it is fine."""
    expression, errors = _compile(source, variables, enum_values or {}, fields or {})
    problems = [str(error) for error in errors]
    if expression is not None and expected is not None and expression.result_type != expected:
        problems.append(
            f"expected a {expected} expression, but this one gives {expression.result_type}"
        )
    return problems


def _compile(
    source: str,
    variables: Mapping[str, ItemType],
    enum_values: Mapping[str, frozenset[str]],
    fields: Fields,
) -> tuple[Expression | None, list[ExpressionError]]:
    try:
        parsed = parser.parse(source)
    except ExpressionError as error:
        return None, [error]
    compiler = Compiler(parsed.text, parsed.shift, variables, enum_values, fields)
    node = compiler.compile(parsed.body)
    if compiler.errors or node.type is None:
        return None, compiler.errors
    expression = Expression(
        source=source,
        result_type=node.type,
        variables=frozenset(compiler.used),
        _run=runner(node),
    )
    return expression, []


class Compiler:
    """Type-checks an AST and builds its closures, collecting every error it finds."""

    def __init__(
        self,
        text: str,
        shift: int,
        variables: Mapping[str, ItemType],
        enum_values: Mapping[str, frozenset[str]],
        fields: Fields | None = None,
    ) -> None:
        self.text = text
        self.shift = shift
        self.starts = parser.line_starts(text)
        self.variables = variables
        self.enum_values = enum_values
        self.fields: Fields = fields or {}
        self.errors: list[ExpressionError] = []
        self.used: set[str] = set()

    # -- reporting ------------------------------------------------------------------------

    def position(self, node: ast.AST) -> int | None:
        """Return the 0-based character offset of `node` in the original source."""
        offset = self.offset(getattr(node, "lineno", None), getattr(node, "col_offset", None))
        return None if offset is None else offset + self.shift

    def offset(self, lineno: int | None, col: int | None) -> int | None:
        """Return the character offset in `text` of a (line, UTF-8 byte column) pair."""
        if lineno is None or col is None or not 0 < lineno <= len(self.starts):
            return None
        line_start = self.starts[lineno - 1]
        line_end = self.starts[lineno] if lineno < len(self.starts) else len(self.text)
        line = self.text[line_start:line_end]
        if line.isascii():
            return line_start + col
        return line_start + len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))

    def segment(self, node: ast.AST) -> str | None:
        """Return the source text of `node`, or None when its position is unknown."""
        start = self.offset(getattr(node, "lineno", None), getattr(node, "col_offset", None))
        end = self.offset(getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None))
        return None if start is None or end is None else self.text[start:end]

    def fail(self, node: ast.AST, message: str) -> Node:
        """Record an error at `node` and return a node of unknown type."""
        self.errors.append(ExpressionError(message, self.position(node)))
        return UNKNOWN

    def snippet(self, node: ast.AST) -> str:
        """Return the source text of `node`, shortened and quoted for messages."""
        segment = self.segment(node) or type(node).__name__
        segment = " ".join(segment.split())
        if len(segment) > 40:
            segment = segment[:37] + "..."
        return segment if segment[:1] in ("'", '"') else f"'{segment}'"

    def fold(self, node: ast.AST, type_: ExprType, fn: Fn, children: Sequence[Node]) -> Node:
        """Make a node for `fn`, computed now when every child is a constant."""
        if not all(child.const for child in children):
            return Node(type_, fn)
        try:
            value = fn(EMPTY)
        except ExpressionError as exc:
            self.errors.append(exc)
            return UNKNOWN
        except (ArithmeticError, TypeError, ValueError) as exc:
            return self.fail(node, runtime_error(exc).message)
        return Node(type_, constant_fn(value), const=True, value=value)

    # -- dispatch -------------------------------------------------------------------------

    def compile(self, node: ast.expr) -> Node:
        """Compile one expression node."""
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Compare):
            return operators.compare(self, node)
        if isinstance(node, ast.BoolOp):
            return operators.boolean(self, node)
        if isinstance(node, ast.UnaryOp):
            return operators.unary(self, node)
        if isinstance(node, ast.BinOp):
            return operators.arithmetic(self, node)
        if isinstance(node, ast.IfExp):
            return operators.conditional(self, node)
        if isinstance(node, ast.Call):
            return functions.call(self, node)
        if isinstance(node, ast.Attribute):
            return self.fail(node, f"attribute access ('.{node.attr}') is not allowed")
        message = _REFUSED_NODES.get(type(node), f"{type(node).__name__} is not allowed")
        return self.fail(node, message)

    # -- leaves ---------------------------------------------------------------------------

    def constant(self, node: ast.Constant) -> Node:
        """Compile a literal; decimal literals are read from the source text, never via float."""
        value = node.value
        if value is None:
            return Node(ExprType.NULL, constant_fn(None), const=True, value=None)
        if isinstance(value, bool):
            return Node(ExprType.BOOLEAN, constant_fn(value), const=True, value=value)
        if isinstance(value, str):
            return Node(ExprType.STRING, constant_fn(value), const=True, value=value)
        if isinstance(value, int | float):
            number: int | Decimal
            literal = str(value)
            if isinstance(value, int):
                number = value
            else:
                literal = self.segment(node) or literal
                try:
                    number = Decimal(literal)
                except InvalidOperation:  # pragma: no cover - the parser accepted it
                    return self.fail(node, f"cannot read the number {literal}")
            if _digits(number) > PRECISION or abs(_exponent(number)) > 2 * PRECISION:
                return self.fail(
                    node,
                    f"the number {literal} has more than {PRECISION} significant digits"
                    " or is out of range",
                )
            return Node(ExprType.NUMBER, constant_fn(number), const=True, value=number)
        kind = "complex number" if isinstance(value, complex) else type(value).__name__
        return self.fail(node, f"{kind} literals are not allowed")

    def name(self, node: ast.Name) -> Node:
        """Compile a reference to a data item."""
        item_type = self.variables.get(node.id)
        if item_type is None:
            return self.fail(node, self.unknown_item(node.id))
        if item_type is ItemType.LIST:
            return self.fail(
                node,
                f"item '{node.id}' is a list of entries: use count({node.id}),"
                f" sum({node.id}, field), min({node.id}, field) or max({node.id}, field)",
            )
        self.used.add(node.id)
        type_ = expr_type_of(item_type)
        enum_item = node.id if item_type is ItemType.ENUM else None
        return Node(type_, loader(node.id, type_, self.position(node)), enum_item=enum_item)

    def unknown_item(self, name: str) -> str:
        """Return the message for a name that is not a data item, with a suggestion."""
        close = difflib.get_close_matches(name, list(self.variables), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown item '{name}'{hint}"

    def literal(self, node: ast.expr, what: str) -> Node:
        """Compile a literal (a constant or a negated number) of a list or lookup table."""
        is_literal = isinstance(node, ast.Constant) or (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
        )
        if not is_literal:
            return self.fail(node, f"{what} must be literals, not {self.snippet(node)}")
        return self.compile(node)

    # -- type rules -----------------------------------------------------------------------

    def coerce(self, node: Node, target: ExprType | None, at: ast.AST) -> Node:
        """Convert a string constant to a DATE or DATETIME constant when one is wanted."""
        if not (node.const and node.type is ExprType.STRING and isinstance(node.value, str)):
            return node
        text = node.value
        converted: date | None = None
        if target is ExprType.DATE:
            if _DATE_SHAPE.fullmatch(text):
                with contextlib.suppress(ValueError):
                    converted = date.fromisoformat(text)
            if converted is None:
                return self.fail(at, f"'{excerpt(text)}' is not a date (expected YYYY-MM-DD)")
        elif target is ExprType.DATETIME:
            if _DATETIME_SHAPE.fullmatch(text):
                with contextlib.suppress(ValueError):
                    converted = datetime.fromisoformat(text)
            if converted is None:
                return self.fail(
                    at,
                    f"'{excerpt(text)}' is not a date and time with a UTC offset"
                    " (expected e.g. 2026-01-01T08:00:00+08:00)",
                )
        else:
            return node
        return Node(target, constant_fn(converted), const=True, value=converted)

    def check_option(self, item: Node, literal: Node, at: ast.AST) -> bool:
        """Whether a string literal used with an ENUM item is one of its options."""
        if item.enum_item is None or not (literal.const and isinstance(literal.value, str)):
            return True
        options = self.enum_values.get(item.enum_item)
        if options is None or literal.value in options:
            return True
        listed = ", ".join(sorted(options))
        self.fail(
            at,
            f"'{literal.value}' is not an option of item '{item.enum_item}' (options: {listed})",
        )
        return False

    def unify(self, nodes: list[Node], asts: Sequence[ast.expr], what: str) -> ExprType | None:
        """Return the common type of `nodes` (coercing date literals in place) or None."""
        types = {node.type for node in nodes}
        if None in types:
            return None
        concrete = types - {ExprType.NULL, ExprType.STRING}
        if len(concrete) == 1 and ExprType.STRING in types:
            target = next(iter(concrete))
            if target in (ExprType.DATE, ExprType.DATETIME):
                for index, node in enumerate(nodes):
                    nodes[index] = self.coerce(node, target, asts[index])
                if any(node.type is None for node in nodes):
                    return None
                types = {node.type for node in nodes}
        real = types - {ExprType.NULL}
        if len(real) > 1:
            listed = " and ".join(sorted(str(t) for t in real))
            self.fail(asts[0], f"{what} mixes {listed}")
            return None
        return next(iter(real)) if real else ExprType.NULL

    def expect(self, node: Node, wanted: ExprType, at: ast.expr, what: str) -> bool:
        """Whether `node` has type `wanted`; records an error otherwise (unknown passes)."""
        if node.type is None or node.type is wanted:
            return True
        self.fail(at, f"{what} needs a {wanted}, but {self.snippet(at)} is {node.type}")
        return False


def _digits(number: int | Decimal) -> int:
    if isinstance(number, int):
        return len(str(abs(number)))
    return len(number.as_tuple().digits)


def _exponent(number: int | Decimal) -> int:
    if isinstance(number, int):
        return 0
    return number.adjusted()
