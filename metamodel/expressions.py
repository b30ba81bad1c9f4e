"""The safe expression language of transition conditions and fee formulas.

An expression is a subset of Python's expression syntax, parsed with
``ast.parse(source, mode="eval")``, type-checked against the declared data items when it is
compiled (at publish time), and compiled once into nested closures that are evaluated per case.
It is pure: no clock, no I/O, no names outside the data items, no float. Administrators
read ``docs/expressions.md``, whose examples ``tests/metamodel/test_expressions_doc.py`` runs.

Language
--------
- Literals: whole numbers (``160``), decimal numbers (``270.00``, read from the source text
  as an exact ``Decimal``, never through float; at most 28 significant digits), strings
  (``"KV10"``), ``True``, ``False``, ``None``.
- Names: the codes of data items (``capacity_kva``); nothing else is a name.
- ``and``, ``or``, ``not`` on BOOLEAN operands only.
- Comparisons ``== != < <= > >=`` on two operands of the same type, chains allowed
  (``0 < x <= 100``); ordering (``<`` …) is defined for NUMBER, STRING, DATE and DATETIME but
  not for BOOLEAN nor for ENUM items. ``x in [...]`` / ``x not in (...)`` against a literal list
  or tuple whose elements have the type of ``x``. ``is`` is not supported (use ``== None``).
- Arithmetic ``+ - * /`` and unary ``-`` on NUMBER only, in ``Decimal`` with a context of
  28 significant digits (ROUND_HALF_EVEN beyond that); ints and Decimals mix exactly.
- ``a if cond else b`` (both branches of one type, ``cond`` BOOLEAN).
- Functions: ``min(a, b, ...)`` and ``max(...)`` (two or more operands of one ordered type),
  ``abs(x)``, ``round(x, n)`` (ROUND_HALF_UP to ``n`` decimal places, ``n`` a literal whole
  number 0..6, default 0), ``has(item)`` (the item has a value), ``coalesce(a, b, ...)`` (the
  first operand that is not null), ``lookup(table, key1[, key2])`` where ``table`` is a dict
  literal of literals (``{"KV10": 270.00, "KV35": 250.00}``), nested one level for two keys
  (``{"KV10": {"RESIDENT": 0.5, ...}, ...}``); table keys are string, number or boolean
  literals of one type matching the key's type.
- Nothing else: no attribute access, subscripts, other calls, keyword arguments, lambdas,
  comprehensions, f-strings, ``:=``, ``**``, ``//``, ``%``, bitwise operators or unary ``+``/``~``.
- Bounded work: at most 2000 characters, 500 AST nodes and 100 levels of nesting; every
  construct costs time linear in its size, so an evaluation is bounded by the source size.

Types
-----
Item types map to NUMBER (INTEGER, DECIMAL, MONEY), STRING (STRING, TEXT, ENUM, ID_NUMBER,
PHONE), BOOLEAN, DATE and DATETIME; ``None`` has type NULL. Mixing types is a compile-time
error, with two conveniences: a DATE (DATETIME) operand may be compared with a string literal
of that shape (``"2026-01-01"``; ``"2026-01-01T08:00:00+08:00"``, which must carry a UTC
offset since DATETIME values are timezone-aware), the literal being converted when compiling;
and a string literal compared with an ENUM item (or in its ``in`` list, or a lookup table keyed
by it) must be one of the item's option values when ``enum_values`` gives them.

Null semantics
--------------
- A missing item (absent from the values, or ``None``) is null (``None``).
- Arithmetic, unary minus, ``abs``, ``round``, ``min`` and ``max`` with a null operand give
  null; ``lookup`` with a null key or a key not in the table gives null.
- A comparison (``<``, ``==``, ``in``, …) with a null operand is False, except that comparing
  with the literal ``None`` tests presence: ``x == None`` is True when ``x`` is missing and
  ``x != None`` is True when it has a value. So ``x != 5`` is False for a missing ``x``
  while ``not (x == 5)`` is True, as in SQL; say what you mean with ``has(x)``.
- ``and``, ``or``, ``not`` and the condition of ``a if c else b`` treat null as False.
- ``has(x)`` is True when ``x`` has a value; ``coalesce(x, 0)`` replaces null.
- The result of a BOOLEAN expression is always ``True`` or ``False`` (a null condition is
  False); a NUMBER result is a ``Decimal`` or ``None`` (for a fee formula, ``None`` means
  the amount cannot be computed); other results are their value or ``None``.

Errors
------
Every syntax, safety and type problem is an ``ExpressionError`` raised by
``compile_expression`` (``check`` lists them all). When evaluating, division by zero raises
``ExpressionError`` (a fee must never silently become zero or absent), as does an item value
of the wrong Python type (a NUMBER must be ``int`` or a finite ``Decimal``; floats are refused)
or a result beyond the decimal context (overflow, more digits than ``round`` can keep).
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from enum import StrEnum
from typing import Any, Final, TypeAlias

from metamodel.specs import ItemType

MAX_SOURCE_LENGTH: Final = 2000
"""Longest accepted source, in characters."""

EXCERPT_LENGTH: Final = 200
"""Most characters of a source (or a literal in it) quoted in a message or a log line."""

MAX_NODES: Final = 500
"""Most AST nodes (expressions and their parts, not operator tokens) in one expression."""

MAX_DEPTH: Final = 100
"""Deepest nesting of AST nodes, which bounds the recursion of compiling and evaluating."""

PRECISION: Final = 28
"""Significant digits of decimal arithmetic."""

MAX_ROUND_PLACES: Final = 6
"""Most decimal places `round(x, n)` accepts."""

FUNCTIONS: Final = ("abs", "coalesce", "has", "lookup", "max", "min", "round")
"""The functions an expression may call, in alphabetical order."""

_CONTEXT: Final = Context(
    prec=PRECISION, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)
_ROUND_CONTEXT: Final = Context(
    prec=PRECISION, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow]
)

Values: TypeAlias = Mapping[str, object]
_Fn: TypeAlias = Callable[[Values], object]
_EMPTY: Final[Values] = {}


class ExprType(StrEnum):
    """The value types of the expression language."""

    NUMBER = "NUMBER"
    STRING = "STRING"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    DATETIME = "DATETIME"
    NULL = "NULL"


_ITEM_TYPES: Final[Mapping[ItemType, ExprType]] = {
    ItemType.INTEGER: ExprType.NUMBER,
    ItemType.DECIMAL: ExprType.NUMBER,
    ItemType.MONEY: ExprType.NUMBER,
    ItemType.STRING: ExprType.STRING,
    ItemType.TEXT: ExprType.STRING,
    ItemType.ENUM: ExprType.STRING,
    ItemType.ID_NUMBER: ExprType.STRING,
    ItemType.PHONE: ExprType.STRING,
    ItemType.BOOLEAN: ExprType.BOOLEAN,
    ItemType.DATE: ExprType.DATE,
    ItemType.DATETIME: ExprType.DATETIME,
}


def expr_type_of(item_type: ItemType) -> ExprType:
    """Return the expression type of the values of a data item of type `item_type`."""
    return _ITEM_TYPES[item_type]


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """`text` cut to `limit` characters, an ellipsis marking the cut: messages stay one line long.

    A message quotes the formula it is about; quoting a 30 KB formula whole makes a 30 KB
    problem, log line or terminal line, and hides the message behind it.
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ExpressionError(Exception):
    """A problem with an expression: `message` in plain English, `position` a 0-based offset."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} (at position {self.position})"


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled, type-checked expression, ready to be evaluated many times."""

    source: str
    result_type: ExprType
    variables: frozenset[str]
    _run: _Fn = field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, object]) -> object:
        """Evaluate for these item values (item code -> value; a missing item is null)."""
        return self._run(values)


def compile_expression(
    source: str,
    variables: Mapping[str, ItemType],
    *,
    enum_values: Mapping[str, frozenset[str]] | None = None,
) -> Expression:
    """Parse, check and compile `source` over the items `variables`; raise ExpressionError."""
    expression, errors = _compile(source, variables, enum_values or {})
    if expression is None:
        raise errors[0]
    return expression


def check(
    source: str,
    variables: Mapping[str, ItemType],
    *,
    expected: ExprType | None = None,
    enum_values: Mapping[str, frozenset[str]] | None = None,
) -> list[str]:
    """Every problem of `source` as a message (with its position), or [] when it is fine."""
    expression, errors = _compile(source, variables, enum_values or {})
    problems = [str(error) for error in errors]
    if expression is not None and expected is not None and expression.result_type != expected:
        problems.append(
            f"expected a {expected} expression, but this one gives {expression.result_type}"
        )
    return problems


# ---------------------------------------------------------------------------------------------
# Compilation


@dataclass(slots=True)
class _Node:
    """A compiled sub-expression: its static type (None after a reported error) and closure."""

    type: ExprType | None
    fn: _Fn
    const: bool = False
    value: object = None
    enum_item: str | None = None
    """The ENUM item this node reads directly, for checking literals against its options."""


def _constant_fn(value: object) -> _Fn:
    def constant(values: Values) -> object:
        return value

    return constant


def _never(values: Values) -> object:  # pragma: no cover - only in expressions that failed
    raise AssertionError("an expression with errors was evaluated")


_UNKNOWN: Final = _Node(None, _never)

_ARITHMETIC: Final[Mapping[type[ast.operator], tuple[str, Callable[[Any, Any], Decimal]]]] = {
    ast.Add: ("+", _CONTEXT.add),
    ast.Sub: ("-", _CONTEXT.subtract),
    ast.Mult: ("*", _CONTEXT.multiply),
    ast.Div: ("/", _CONTEXT.divide),
}

_REFUSED_OPERATORS: Final[Mapping[type[ast.AST], str]] = {
    ast.Pow: "the power operator '**' is not allowed",
    ast.FloorDiv: "'//' is not allowed (use '/' and round())",
    ast.Mod: "'%' is not allowed",
    ast.MatMult: "'@' is not allowed",
    ast.LShift: "the bitwise operator '<<' is not allowed",
    ast.RShift: "the bitwise operator '>>' is not allowed",
    ast.BitOr: "the bitwise operator '|' is not allowed",
    ast.BitXor: "the bitwise operator '^' is not allowed",
    ast.BitAnd: "the bitwise operator '&' is not allowed",
    ast.Invert: "the bitwise operator '~' is not allowed",
    ast.UAdd: "unary '+' is not allowed",
}

_COMPARISONS: Final[Mapping[type[ast.cmpop], tuple[str, Callable[[Any, Any], Any]]]] = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
}

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

_ORDERED: Final = frozenset({ExprType.NUMBER, ExprType.STRING, ExprType.DATE, ExprType.DATETIME})
_KEY_TYPES: Final = frozenset({ExprType.NUMBER, ExprType.STRING, ExprType.BOOLEAN})
_TOKEN_NODES: Final = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
_DATE_SHAPE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_SHAPE: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})"
)
_NEWLINE: Final = re.compile(r"\r\n|\r|\n")


def _compile(
    source: str, variables: Mapping[str, ItemType], enum_values: Mapping[str, frozenset[str]]
) -> tuple[Expression | None, list[ExpressionError]]:
    if len(source) > MAX_SOURCE_LENGTH:
        message = f"expression is too long ({len(source)} characters, at most {MAX_SOURCE_LENGTH})"
        return None, [ExpressionError(message, MAX_SOURCE_LENGTH)]
    # Leading and trailing blank lines and indents (a YAML block, a pasted formula) are not
    # part of the expression; Python's parser would take the indent for a block.
    text = source.lstrip().rstrip()
    shift = len(source) - len(source.lstrip())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        return None, [
            ExpressionError(f"syntax error: {exc.msg}", _syntax_position(text, exc, shift))
        ]
    except (ValueError, RecursionError, MemoryError) as exc:  # pragma: no cover - parser limits
        return None, [ExpressionError(f"syntax error: {exc}", None)]
    size_error = _size_error(tree.body)
    if size_error is not None:
        return None, [ExpressionError(size_error, shift)]
    compiler = _Compiler(text, shift, variables, enum_values)
    node = compiler.compile(tree.body)
    if compiler.errors or node.type is None:
        return None, compiler.errors
    expression = Expression(
        source=source,
        result_type=node.type,
        variables=frozenset(compiler.used),
        _run=_runner(node),
    )
    return expression, []


def _syntax_position(text: str, exc: SyntaxError, shift: int) -> int | None:
    if not exc.lineno:
        return shift if text.strip() else None
    starts = _line_starts(text)
    if exc.lineno > len(starts):
        return len(text) + shift
    offset = max((exc.offset or 1) - 1, 0)
    return min(starts[exc.lineno - 1] + offset, len(text)) + shift


def _line_starts(text: str) -> list[int]:
    return [0, *(match.end() for match in _NEWLINE.finditer(text))]


def _size_error(body: ast.expr) -> str | None:
    count = deepest = 0
    stack: list[tuple[ast.AST, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        deepest = max(deepest, depth)
        if count > MAX_NODES:
            return f"expression is too complex (more than {MAX_NODES} parts)"
        stack.extend(
            (child, depth + 1)
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, _TOKEN_NODES)
        )
    if deepest > MAX_DEPTH:
        return f"expression is nested too deeply (more than {MAX_DEPTH} levels)"
    return None


def _runner(node: _Node) -> _Fn:
    fn = node.fn
    if node.const:
        value = _normalise(node.type, node.value)
        return _constant_fn(value)
    if node.type is ExprType.BOOLEAN:

        def run_boolean(values: Values) -> object:
            try:
                return fn(values) is True
            except (ArithmeticError, TypeError, ValueError) as exc:
                raise _runtime_error(exc) from exc

        return run_boolean
    if node.type is ExprType.NUMBER:

        def run_number(values: Values) -> object:
            try:
                result = fn(values)
            except (ArithmeticError, TypeError, ValueError) as exc:
                raise _runtime_error(exc) from exc
            return Decimal(result) if type(result) is int else result

        return run_number

    def run(values: Values) -> object:
        try:
            return fn(values)
        except (ArithmeticError, TypeError, ValueError) as exc:
            raise _runtime_error(exc) from exc

    return run


def _normalise(type_: ExprType | None, value: object) -> object:
    if type_ is ExprType.BOOLEAN:
        return value is True
    if type_ is ExprType.NUMBER and type(value) is int:
        return Decimal(value)
    return value


def _runtime_error(exc: Exception) -> ExpressionError:
    if isinstance(exc, Overflow):
        return ExpressionError("a number became too large")
    if isinstance(exc, InvalidOperation):
        return ExpressionError(f"a number does not fit in {PRECISION} significant digits")
    return ExpressionError(f"cannot evaluate: {exc}")


_ACCEPTED: Final[Mapping[ExprType, type]] = {
    ExprType.STRING: str,
    ExprType.BOOLEAN: bool,
    ExprType.DATE: date,
    ExprType.DATETIME: datetime,
}


def _loader(name: str, type_: ExprType, position: int | None) -> _Fn:
    """Build a closure that reads item `name` from the values and checks its Python type."""

    def wrong(value: object) -> object:
        if type_ is ExprType.NUMBER:
            if isinstance(value, int) and not isinstance(value, bool):
                return int(value)
            if isinstance(value, Decimal) and value.is_finite():
                return value
        elif type_ is ExprType.STRING:
            if isinstance(value, str):
                return str.__str__(value)  # a plain str: an enum member hashes by its name
        elif type_ is ExprType.DATE:
            if isinstance(value, date) and not isinstance(value, datetime):
                return value
        elif type_ is ExprType.DATETIME:
            if isinstance(value, datetime) and value.tzinfo is not None:
                return value
            if isinstance(value, datetime):
                raise ExpressionError(
                    f"item '{name}' holds a datetime without a timezone", position
                )
        kind = type(value).__name__
        if isinstance(value, Decimal):
            kind = f"non-finite Decimal {value}"
        raise ExpressionError(f"item '{name}' should hold a {type_} value, not {kind}", position)

    if type_ is ExprType.NUMBER:

        def load_number(values: Values) -> object:
            value = values.get(name)
            kind = type(value)
            if value is None or kind is int:
                return value
            if kind is Decimal and value.is_finite():  # type: ignore[attr-defined]
                return value
            return wrong(value)

        return load_number
    if type_ is ExprType.DATETIME:

        def load_datetime(values: Values) -> object:
            value = values.get(name)
            if value is None or (type(value) is datetime and value.tzinfo is not None):
                return value
            return wrong(value)

        return load_datetime
    accepted = _ACCEPTED[type_]

    def load(values: Values) -> object:
        value = values.get(name)
        if value is None or type(value) is accepted:
            return value
        return wrong(value)

    return load


class _Compiler:
    """Type-checks an AST and builds its closures, collecting every error it finds."""

    def __init__(
        self,
        text: str,
        shift: int,
        variables: Mapping[str, ItemType],
        enum_values: Mapping[str, frozenset[str]],
    ) -> None:
        self.text = text
        self.shift = shift
        self.starts = _line_starts(text)
        self.variables = variables
        self.enum_values = enum_values
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

    def fail(self, node: ast.AST, message: str) -> _Node:
        """Record an error at `node` and return a node of unknown type."""
        self.errors.append(ExpressionError(message, self.position(node)))
        return _UNKNOWN

    def snippet(self, node: ast.AST) -> str:
        """Return the source text of `node`, shortened and quoted for messages."""
        segment = self.segment(node) or type(node).__name__
        segment = " ".join(segment.split())
        if len(segment) > 40:
            segment = segment[:37] + "..."
        return segment if segment[:1] in ("'", '"') else f"'{segment}'"

    def fold(self, node: ast.AST, type_: ExprType, fn: _Fn, children: Sequence[_Node]) -> _Node:
        """Make a node for `fn`, computed now when every child is a constant."""
        if not all(child.const for child in children):
            return _Node(type_, fn)
        try:
            value = fn(_EMPTY)
        except ExpressionError as exc:
            self.errors.append(exc)
            return _UNKNOWN
        except (ArithmeticError, TypeError, ValueError) as exc:
            return self.fail(node, _runtime_error(exc).message)
        return _Node(type_, _constant_fn(value), const=True, value=value)

    # -- dispatch -------------------------------------------------------------------------

    def compile(self, node: ast.expr) -> _Node:
        """Compile one expression node."""
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.BoolOp):
            return self.boolean(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.arithmetic(node)
        if isinstance(node, ast.IfExp):
            return self.conditional(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            return self.fail(node, f"attribute access ('.{node.attr}') is not allowed")
        message = _REFUSED_NODES.get(type(node), f"{type(node).__name__} is not allowed")
        return self.fail(node, message)

    # -- leaves ---------------------------------------------------------------------------

    def constant(self, node: ast.Constant) -> _Node:
        """Compile a literal; decimal literals are read from the source text, never via float."""
        value = node.value
        if value is None:
            return _Node(ExprType.NULL, _constant_fn(None), const=True, value=None)
        if isinstance(value, bool):
            return _Node(ExprType.BOOLEAN, _constant_fn(value), const=True, value=value)
        if isinstance(value, str):
            return _Node(ExprType.STRING, _constant_fn(value), const=True, value=value)
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
            return _Node(ExprType.NUMBER, _constant_fn(number), const=True, value=number)
        kind = "complex number" if isinstance(value, complex) else type(value).__name__
        return self.fail(node, f"{kind} literals are not allowed")

    def name(self, node: ast.Name) -> _Node:
        """Compile a reference to a data item."""
        item_type = self.variables.get(node.id)
        if item_type is None:
            return self.fail(node, self.unknown_item(node.id))
        self.used.add(node.id)
        type_ = expr_type_of(item_type)
        enum_item = node.id if item_type is ItemType.ENUM else None
        return _Node(type_, _loader(node.id, type_, self.position(node)), enum_item=enum_item)

    def unknown_item(self, name: str) -> str:
        """Return the message for a name that is not a data item, with a suggestion."""
        close = difflib.get_close_matches(name, list(self.variables), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown item '{name}'{hint}"

    def literal(self, node: ast.expr, what: str) -> _Node:
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

    def coerce(self, node: _Node, target: ExprType | None, at: ast.AST) -> _Node:
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
        return _Node(target, _constant_fn(converted), const=True, value=converted)

    def check_option(self, item: _Node, literal: _Node, at: ast.AST) -> bool:
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

    def unify(self, nodes: list[_Node], asts: Sequence[ast.expr], what: str) -> ExprType | None:
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

    def expect(self, node: _Node, wanted: ExprType, at: ast.expr, what: str) -> bool:
        """Whether `node` has type `wanted`; records an error otherwise (unknown passes)."""
        if node.type is None or node.type is wanted:
            return True
        self.fail(at, f"{what} needs a {wanted}, but {self.snippet(at)} is {node.type}")
        return False

    # -- operators ------------------------------------------------------------------------

    def boolean(self, node: ast.BoolOp) -> _Node:
        """`and` / `or`: null counts as False; the result is always True or False."""
        word = "and" if isinstance(node.op, ast.And) else "or"
        operands = [self.compile(value) for value in node.values]
        ok = True
        for operand, value in zip(operands, node.values, strict=True):
            ok = self.expect(operand, ExprType.BOOLEAN, value, f"'{word}'") and ok
        if not ok or any(operand.type is None for operand in operands):
            return _UNKNOWN
        fns = tuple(operand.fn for operand in operands)
        fn: _Fn
        if word == "and":
            if len(fns) == 2:
                first, second = fns

                def and2(values: Values) -> object:
                    return first(values) is True and second(values) is True

                fn = and2
            else:

                def and_n(values: Values) -> object:
                    return all(f(values) is True for f in fns)

                fn = and_n
        elif len(fns) == 2:
            first, second = fns

            def or2(values: Values) -> object:
                return first(values) is True or second(values) is True

            fn = or2
        else:

            def or_n(values: Values) -> object:
                return any(f(values) is True for f in fns)

            fn = or_n
        return self.fold(node, ExprType.BOOLEAN, fn, operands)

    def unary(self, node: ast.UnaryOp) -> _Node:
        """`not x` (null counts as False) and `-x` (null stays null)."""
        if type(node.op) in _REFUSED_OPERATORS:
            return self.fail(node, _REFUSED_OPERATORS[type(node.op)])
        operand = self.compile(node.operand)
        inner = operand.fn
        if isinstance(node.op, ast.Not):
            if not self.expect(operand, ExprType.BOOLEAN, node.operand, "'not'"):
                return _UNKNOWN

            def negation(values: Values) -> object:
                return inner(values) is not True

            return self.fold(node, ExprType.BOOLEAN, negation, [operand])
        if not self.expect(operand, ExprType.NUMBER, node.operand, "unary '-'"):
            return _UNKNOWN
        minus = _CONTEXT.minus

        def negative(values: Values) -> object:
            value = inner(values)
            return None if value is None else minus(value)  # type: ignore[arg-type]

        return self.fold(node, ExprType.NUMBER, negative, [operand])

    def arithmetic(self, node: ast.BinOp) -> _Node:
        """`+ - * /` on numbers in the decimal context; null in, null out."""
        if type(node.op) not in _ARITHMETIC:
            message = _REFUSED_OPERATORS.get(type(node.op), "this operator is not allowed")
            return self.fail(node, message)
        symbol, op = _ARITHMETIC[type(node.op)]
        left = self.compile(node.left)
        right = self.compile(node.right)
        ok = self.expect(left, ExprType.NUMBER, node.left, f"'{symbol}'")
        ok = self.expect(right, ExprType.NUMBER, node.right, f"'{symbol}'") and ok
        if not ok or left.type is None or right.type is None:
            return _UNKNOWN
        if symbol == "/":
            if right.const and not right.value:
                return self.fail(node, f"division by zero in {self.snippet(node)}")
            op = self.division(node, op)
        lf, rf = left.fn, right.fn
        fn: _Fn
        if right.const:
            constant = right.value

            def arith_constant(values: Values) -> object:
                value = lf(values)
                return None if value is None else op(value, constant)

            fn = arith_constant
        else:

            def arith(values: Values) -> object:
                first = lf(values)
                if first is None:
                    return None
                second = rf(values)
                return None if second is None else op(first, second)

            fn = arith
        return self.fold(node, ExprType.NUMBER, fn, [left, right])

    def division(
        self, node: ast.BinOp, divide: Callable[[Any, Any], Decimal]
    ) -> Callable[[Any, Any], Decimal]:
        """`divide`, raising ExpressionError (at the division) on division by zero."""
        message = f"division by zero in {self.snippet(node)}"
        position = self.position(node)

        def checked(first: object, second: object) -> Decimal:
            if not second:
                raise ExpressionError(message, position)
            return divide(first, second)

        return checked

    def compare(self, node: ast.Compare) -> _Node:
        """Comparisons, chained or not, and `in` / `not in`; null compares False."""
        if any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            if len(node.ops) != 1:
                return self.fail(node, "'in' cannot be chained with other comparisons")
            return self.membership(node)
        for op in node.ops:
            if isinstance(op, ast.Is | ast.IsNot):
                word = "is" if isinstance(op, ast.Is) else "is not"
                return self.fail(
                    node, f"'{word}' is not supported; use '== None', '!= None' or has(item)"
                )
        asts = [node.left, *node.comparators]
        operands = [self.compile(part) for part in asts]
        tests: list[Callable[[object, object], object]] = []
        ok = True
        for index, op in enumerate(node.ops):
            symbol, function = _COMPARISONS[type(op)]
            test = self.comparison(symbol, function, operands, asts, index)
            if test is None:
                ok = False
            else:
                tests.append(test)
        if not ok:
            return _UNKNOWN
        fns = [operand.fn for operand in operands]
        fn: _Fn
        if len(tests) == 1:
            fn = self.single_comparison(operands[0], operands[1], tests[0], node.ops[0])
        else:
            first, rest = fns[0], tuple(zip(tests, fns[1:], strict=True))

            def chain(values: Values) -> object:
                left = first(values)
                for test, right_fn in rest:
                    right = right_fn(values)
                    if not test(left, right):
                        return False
                    left = right
                return True

            fn = chain
        return self.fold(node, ExprType.BOOLEAN, fn, operands)

    def comparison(
        self,
        symbol: str,
        function: Callable[[object, object], object],
        operands: list[_Node],
        asts: list[ast.expr],
        index: int,
    ) -> Callable[[object, object], object] | None:
        """Type-check operands `index` and `index + 1`; their test, or None after an error."""
        left, right = operands[index], operands[index + 1]
        if left.type is None or right.type is None:
            return None
        for mine, other, at in ((index, right, asts[index]), (index + 1, left, asts[index + 1])):
            if other.type in (ExprType.DATE, ExprType.DATETIME):
                operands[mine] = self.coerce(operands[mine], other.type, at)
        left, right = operands[index], operands[index + 1]
        if left.type is None or right.type is None:
            return None
        at = asts[index + 1]
        if ExprType.NULL in (left.type, right.type):
            if symbol not in ("==", "!="):
                self.fail(at, f"None cannot be compared with '{symbol}'; use '== None' or has()")
                return None
            if symbol == "==":
                return _equals_null
            return _differs_from_null
        if left.type is not right.type:
            self.fail(
                at,
                f"cannot compare {left.type} {self.snippet(asts[index])} with"
                f" {right.type} {self.snippet(asts[index + 1])} using '{symbol}'",
            )
            return None
        if symbol not in ("==", "!="):
            if left.type not in _ORDERED:
                self.fail(at, f"{left.type} values cannot be ordered with '{symbol}'")
                return None
            enum_item = left.enum_item or right.enum_item
            if enum_item is not None:
                self.fail(
                    at, f"the options of ENUM item '{enum_item}' cannot be ordered with '{symbol}'"
                )
                return None
        if not (self.check_option(left, right, at) and self.check_option(right, left, asts[index])):
            return None

        def test(first: object, second: object) -> object:
            return first is not None and second is not None and function(first, second)

        return test

    def single_comparison(
        self,
        left: _Node,
        right: _Node,
        test: Callable[[object, object], object],
        op: ast.cmpop,
    ) -> _Fn:
        """Build the closure of one comparison, specialised for presence tests and constants."""
        lf, rf = left.fn, right.fn
        if test is _equals_null or test is _differs_from_null:
            inner = rf if left.type is ExprType.NULL else lf
            if test is _equals_null:

                def is_null(values: Values) -> object:
                    return inner(values) is None

                return is_null

            def is_present(values: Values) -> object:
                return inner(values) is not None

            return is_present
        function = _COMPARISONS[type(op)][1]
        if right.const and not left.const:
            constant = right.value

            def compare_constant(values: Values) -> object:
                value = lf(values)
                return value is not None and function(value, constant)

            return compare_constant

        def compare(values: Values) -> object:
            first = lf(values)
            if first is None:
                return False
            second = rf(values)
            return second is not None and function(first, second)

        return compare

    def membership(self, node: ast.Compare) -> _Node:
        """`x in [literals]` / `x not in (...)`: False when `x` is null."""
        negate = isinstance(node.ops[0], ast.NotIn)
        word = "not in" if negate else "in"
        left = self.compile(node.left)
        container = node.comparators[0]
        if not isinstance(container, ast.List | ast.Tuple):
            return self.fail(
                container,
                f'the right side of \'{word}\' must be a literal list or tuple, e.g. ["A", "B"]',
            )
        members: set[object] = set()
        ok = left.type is not None
        for element in container.elts:
            item = self.literal(element, f"the elements of an '{word}' list")
            if item.type is None:
                ok = False
                continue
            if left.type is None:
                continue
            if item.type is ExprType.NULL:
                ok = False
                self.fail(element, f"None cannot be in an '{word}' list; use '== None' or has()")
                continue
            item = self.coerce(item, left.type, element)
            if item.type is None:
                ok = False
                continue
            if item.type is not left.type:
                ok = False
                self.fail(
                    element,
                    f"the '{word}' list holds {item.type} {self.snippet(element)} but"
                    f" {self.snippet(node.left)} is {left.type}",
                )
                continue
            if not self.check_option(left, item, element):
                ok = False
                continue
            members.add(item.value)
        if not ok:
            return _UNKNOWN
        frozen = frozenset(members)
        inner = left.fn
        if negate:

            def not_member(values: Values) -> object:
                value = inner(values)
                return value is not None and value not in frozen

            return self.fold(node, ExprType.BOOLEAN, not_member, [left])

        def member(values: Values) -> object:
            value = inner(values)
            return value is not None and value in frozen

        return self.fold(node, ExprType.BOOLEAN, member, [left])

    def conditional(self, node: ast.IfExp) -> _Node:
        """Compile `a if cond else b`; a null condition counts as False."""
        test = self.compile(node.test)
        body = self.compile(node.body)
        orelse = self.compile(node.orelse)
        ok = self.expect(test, ExprType.BOOLEAN, node.test, "the condition of 'if'")
        branches = [body, orelse]
        type_ = self.unify(branches, [node.body, node.orelse], "'a if c else b'")
        if not ok or type_ is None or test.type is None:
            return _UNKNOWN
        body, orelse = branches
        if test.const:
            chosen = body if test.value is True else orelse
            return _Node(type_, chosen.fn, chosen.const, chosen.value)
        tf, bf, of = test.fn, body.fn, orelse.fn

        def choose(values: Values) -> object:
            return bf(values) if tf(values) is True else of(values)

        return _Node(type_, choose)

    # -- functions ------------------------------------------------------------------------

    def call(self, node: ast.Call) -> _Node:
        """One of the whitelisted functions."""
        if isinstance(node.func, ast.Attribute):
            return self.fail(node.func, f"attribute access ('.{node.func.attr}') is not allowed")
        if not isinstance(node.func, ast.Name):
            return self.fail(
                node.func, "only the functions " + ", ".join(FUNCTIONS) + " can be called"
            )
        name = node.func.id
        if name not in FUNCTIONS:
            listed = ", ".join(FUNCTIONS)
            return self.fail(node.func, f"unknown function '{name}' (the functions are {listed})")
        if node.keywords:
            return self.fail(node, f"{name}() takes no keyword arguments")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                return self.fail(arg, "'*' unpacking is not allowed")
        if name == "has":
            return self.has(node)
        if name == "lookup":
            return self.lookup(node)
        if name == "round":
            return self.round(node)
        if name == "abs":
            return self.absolute(node)
        if name == "coalesce":
            return self.coalesce(node)
        return self.extreme(node, name)

    def arity(self, node: ast.Call, name: str, low: int, high: int | None) -> bool:
        """Whether the call has between `low` and `high` arguments; records an error if not."""
        count = len(node.args)
        if count >= low and (high is None or count <= high):
            return True
        if high is None:
            wanted = f"at least {low} arguments"
        elif low == high:
            wanted = f"{low} argument" + ("s" if low != 1 else "")
        else:
            wanted = f"{low} to {high} arguments"
        self.fail(node, f"{name}() takes {wanted}, not {count}")
        return False

    def has(self, node: ast.Call) -> _Node:
        """`has(item)`: the item has a value."""
        if not self.arity(node, "has", 1, 1):
            return _UNKNOWN
        arg = node.args[0]
        if not isinstance(arg, ast.Name):
            return self.fail(arg, "has() takes an item name, e.g. has(capacity_kva)")
        if arg.id not in self.variables:
            return self.fail(arg, self.unknown_item(arg.id))
        self.used.add(arg.id)
        name = arg.id

        def present(values: Values) -> object:
            return values.get(name) is not None

        return _Node(ExprType.BOOLEAN, present)

    def absolute(self, node: ast.Call) -> _Node:
        """`abs(x)`."""
        if not self.arity(node, "abs", 1, 1):
            return _UNKNOWN
        operand = self.compile(node.args[0])
        if not self.expect(operand, ExprType.NUMBER, node.args[0], "abs()") or operand.type is None:
            return _UNKNOWN
        inner, absolute = operand.fn, _CONTEXT.abs

        def absolute_value(values: Values) -> object:
            value = inner(values)
            return None if value is None else absolute(value)  # type: ignore[arg-type]

        return self.fold(node, ExprType.NUMBER, absolute_value, [operand])

    def round(self, node: ast.Call) -> _Node:
        """`round(x, n)`: ROUND_HALF_UP to `n` places, `n` a literal 0..6."""
        if not self.arity(node, "round", 1, 2):
            return _UNKNOWN
        operand = self.compile(node.args[0])
        places = 0
        if len(node.args) == 2:
            arg = node.args[1]
            if not (
                isinstance(arg, ast.Constant)
                and type(arg.value) is int
                and 0 <= arg.value <= MAX_ROUND_PLACES
            ):
                return self.fail(
                    arg,
                    f"the places of round() must be a literal whole number from 0 to"
                    f" {MAX_ROUND_PLACES}, not {self.snippet(arg)}",
                )
            places = arg.value
        if (
            not self.expect(operand, ExprType.NUMBER, node.args[0], "round()")
            or operand.type is None
        ):
            return _UNKNOWN
        inner, quantize, exponent = operand.fn, _ROUND_CONTEXT.quantize, Decimal(1).scaleb(-places)

        def rounded(values: Values) -> object:
            value = inner(values)
            return None if value is None else quantize(value, exponent)  # type: ignore[arg-type]

        return self.fold(node, ExprType.NUMBER, rounded, [operand])

    def coalesce(self, node: ast.Call) -> _Node:
        """`coalesce(a, b, ...)`: the first operand that is not null."""
        if not self.arity(node, "coalesce", 2, None):
            return _UNKNOWN
        operands = [self.compile(arg) for arg in node.args]
        type_ = self.unify(operands, node.args, "coalesce()")
        if type_ is None:
            return _UNKNOWN
        enum_item = next((o for o in operands if o.enum_item is not None), None)
        if enum_item is not None and not all(
            self.check_option(enum_item, operand, arg)
            for operand, arg in zip(operands, node.args, strict=True)
        ):
            return _UNKNOWN
        fns = tuple(operand.fn for operand in operands)
        if len(fns) == 2:
            first, second = fns

            def coalesce2(values: Values) -> object:
                value = first(values)
                return second(values) if value is None else value

            return self.fold(node, type_, coalesce2, operands)

        def coalesce_n(values: Values) -> object:
            for f in fns:
                value = f(values)
                if value is not None:
                    return value
            return None

        return self.fold(node, type_, coalesce_n, operands)

    def extreme(self, node: ast.Call, name: str) -> _Node:
        """`min(...)` / `max(...)` of two or more values of one ordered type; null if any is."""
        if not self.arity(node, name, 2, None):
            return _UNKNOWN
        operands = [self.compile(arg) for arg in node.args]
        for operand, arg in zip(operands, node.args, strict=True):
            if operand.type is ExprType.NULL:
                return self.fail(arg, f"None cannot be an argument of {name}()")
        type_ = self.unify(operands, node.args, f"{name}()")
        if type_ is None:
            return _UNKNOWN
        if type_ not in _ORDERED:
            return self.fail(node, f"{name}() needs values that can be ordered, not {type_}")
        enum_item = next((o.enum_item for o in operands if o.enum_item is not None), None)
        if enum_item is not None:  # as '<' refuses: options have no order, only spellings
            return self.fail(node, f"the options of ENUM item '{enum_item}' cannot be ordered")
        fns = tuple(operand.fn for operand in operands)
        pick: Callable[[list[object]], object] = min if name == "min" else max  # type: ignore[assignment]

        def extreme_value(values: Values) -> object:
            found = []
            for f in fns:
                value = f(values)
                if value is None:
                    return None
                found.append(value)
            return pick(found)

        return self.fold(node, type_, extreme_value, operands)

    def lookup(self, node: ast.Call) -> _Node:
        """`lookup(table, key1[, key2])`: the table's value for the keys, or null."""
        if not self.arity(node, "lookup", 2, 3):
            return _UNKNOWN
        table_ast, key_asts = node.args[0], node.args[1:]
        if not isinstance(table_ast, ast.Dict):
            return self.fail(
                table_ast, 'the first argument of lookup() must be a dict literal, e.g. {"A": 1}'
            )
        keys = [self.compile(key) for key in key_asts]
        parsed = self.table(table_ast, len(key_asts))
        if parsed is None or any(key.type is None for key in keys):
            return _UNKNOWN
        table, key_types, value_type = parsed
        ok = True
        for level, (key, key_ast) in enumerate(zip(keys, key_asts, strict=True)):
            key_type = key_types[level]
            if key_type is not None and key.type is not key_type:
                ok = False
                self.fail(
                    key_ast,
                    f"lookup() key {self.snippet(key_ast)} is {key.type} but the table's keys"
                    f" at level {level + 1} are {key_type}",
                )
            elif key.enum_item is not None:
                ok = self.check_table_options(key, table, level, table_ast) and ok
        if not ok:
            return _UNKNOWN
        if len(keys) == 1:
            first = keys[0].fn

            def lookup1(values: Values) -> object:
                key = first(values)
                return None if key is None else table.get(key)

            return self.fold(node, value_type, lookup1, keys)
        first, second = keys[0].fn, keys[1].fn

        def lookup2(values: Values) -> object:
            key = first(values)
            if key is None:
                return None
            inner = table.get(key)
            if inner is None:
                return None
            key = second(values)
            return None if key is None else inner.get(key)  # type: ignore[attr-defined]

        return self.fold(node, value_type, lookup2, keys)

    def check_table_options(
        self, key: _Node, table: dict[object, object], level: int, at: ast.AST
    ) -> bool:
        """Whether every key at `level` of the table is an option of the ENUM item `key`."""
        assert key.enum_item is not None
        options = self.enum_values.get(key.enum_item)
        if options is None:
            return True
        found: set[object] = set(table) if level == 0 else set()
        if level == 1:
            for inner in table.values():
                found.update(inner)  # type: ignore[arg-type]
        wrong = sorted(str(value) for value in found if value not in options)
        if not wrong:
            return True
        listed = ", ".join(sorted(options))
        self.fail(
            at,
            f"lookup() table key '{wrong[0]}' is not an option of item '{key.enum_item}'"
            f" (options: {listed})",
        )
        return False

    def table(
        self, node: ast.Dict, depth: int
    ) -> tuple[dict[object, object], list[ExprType | None], ExprType] | None:
        """Read a lookup table literal `depth` keys deep: (table, key types, value type)."""
        key_types: list[ExprType | None] = [None] * depth
        value_types: set[ExprType] = set()
        ok = True

        def read(current: ast.Dict, level: int) -> dict[object, object]:
            nonlocal ok
            result: dict[object, object] = {}
            if not current.keys:
                ok = False
                self.fail(current, "a lookup() table cannot be empty")
            for key_ast, value_ast in zip(current.keys, current.values, strict=True):
                if key_ast is None:
                    ok = False
                    self.fail(value_ast, "'**' unpacking is not allowed in a lookup() table")
                    continue
                key = self.literal(key_ast, "lookup() table keys")
                if key.type is None:
                    ok = False
                    continue
                if key.type not in _KEY_TYPES:
                    ok = False
                    self.fail(key_ast, f"lookup() table keys cannot be {key.type}")
                    continue
                expected = key_types[level]
                if expected is None:
                    key_types[level] = key.type
                elif key.type is not expected:
                    ok = False
                    self.fail(key_ast, f"lookup() table keys mix {expected} and {key.type}")
                    continue
                if key.value in result:
                    ok = False
                    self.fail(key_ast, f"duplicate key {self.snippet(key_ast)} in a lookup() table")
                    continue
                if level + 1 < depth:
                    if not isinstance(value_ast, ast.Dict):
                        ok = False
                        self.fail(
                            value_ast,
                            f"lookup() with {depth} keys needs a table of tables;"
                            f" {self.snippet(value_ast)} is not a dict",
                        )
                        continue
                    result[key.value] = read(value_ast, level + 1)
                    continue
                if isinstance(value_ast, ast.Dict):
                    ok = False
                    self.fail(
                        value_ast,
                        f"the lookup() table is nested deeper than its {depth} key"
                        + ("s" if depth > 1 else ""),
                    )
                    continue
                value = self.literal(value_ast, "lookup() table values")
                if value.type is None:
                    ok = False
                    continue
                value_types.add(value.type)
                result[key.value] = value.value
            return result

        table = read(node, 0)
        if not ok:
            return None
        real = value_types - {ExprType.NULL}
        if len(real) > 1:
            listed = " and ".join(sorted(str(t) for t in real))
            self.fail(node, f"lookup() table values mix {listed}")
            return None
        value_type = next(iter(real)) if real else ExprType.NULL
        return table, key_types, value_type


def _equals_null(first: object, second: object) -> object:
    return first is None and second is None


def _differs_from_null(first: object, second: object) -> object:
    return first is not None or second is not None


def _digits(number: int | Decimal) -> int:
    if isinstance(number, int):
        return len(str(abs(number)))
    return len(number.as_tuple().digits)


def _exponent(number: int | Decimal) -> int:
    if isinstance(number, int):
        return 0
    return number.adjusted()
