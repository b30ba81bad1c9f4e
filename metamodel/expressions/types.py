"""The value types and errors of the expression language: what an expression is about.

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
- Lists: a LIST item (repeating data, e.g. ``meters``) is named only as the first argument of
  ``count(list)`` (its number of entries, 0 when it has none), ``sum(list, field)`` (the total
  of a NUMBER field over the entries, empty fields skipped, 0 when none has a value),
  ``min(list, field)`` / ``max(list, field)`` (the least or greatest value of a NUMBER, DATE or
  DATETIME field, null when no entry has one) and ``has(list)``; ``field`` is the bare code of
  one of the list's fields.
- Nothing else: no attribute access, subscripts, other calls, keyword arguments, lambdas,
  comprehensions, f-strings, ``:=``, ``**``, ``//``, ``%``, bitwise operators or unary ``+``/``~``.
- Bounded work: at most 2000 characters, 500 AST nodes and 100 levels of nesting; every
  construct costs time linear in its size, so an evaluation is bounded by the source size.

Types
-----
Item types map to NUMBER (INTEGER, DECIMAL, MONEY), STRING (STRING, TEXT, ENUM, ID_NUMBER,
PHONE), BOOLEAN, DATE and DATETIME, and LIST to LIST (only ever an argument of the list
functions); ``None`` has type NULL. Mixing types is a compile-time
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

from collections.abc import Mapping
from enum import StrEnum
from typing import Final, TypeAlias

from metamodel.specs import DataItemSpec, ItemType

EXCERPT_LENGTH: Final = 200
"""Most characters of a source (or a literal in it) quoted in a message or a log line."""

Values: TypeAlias = Mapping[str, object]
"""Item values by item code; a missing item is null; a LIST's value is a sequence of dicts."""
Fields: TypeAlias = Mapping[str, Mapping[str, ItemType]]
"""The fields of each LIST item in scope, by list code, then field code."""


class ExprType(StrEnum):
    """The value types of the expression language."""

    NUMBER = "NUMBER"
    STRING = "STRING"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    DATETIME = "DATETIME"
    NULL = "NULL"
    LIST = "LIST"


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
    ItemType.LIST: ExprType.LIST,
}


def expr_type_of(item_type: ItemType) -> ExprType:
    """Return the expression type of the values of a data item of type `item_type`."""
    return _ITEM_TYPES[item_type]


def list_fields(items: Mapping[str, DataItemSpec]) -> dict[str, dict[str, ItemType]]:
    """The fields of the LIST items among `items`, as the checker's `fields` takes them."""
    return {
        code: {f.code: f.type for f in item.fields}
        for code, item in items.items()
        if item.type is ItemType.LIST
    }


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


ORDERED: Final = frozenset({ExprType.NUMBER, ExprType.STRING, ExprType.DATE, ExprType.DATETIME})
"""The types that `<`, `min` and `max` order."""
