"""The functions over LIST items: `count(list)`, `sum(list, field)`, `min`/`max(list, field)`.

A LIST item is never a value of its own in an expression (no comparison or arithmetic takes
one): it is named only as the first argument of these functions, whose second argument is the
bare code of one of its fields. Each walks the entries once, so its cost is linear in the list,
which the codec caps (`list_values.MAX_ENTRIES`). Empty fields are skipped, as a missing item is
null elsewhere; a list that has no entries counts 0 and sums to 0, and has no least or greatest
value (null).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from metamodel.expressions.runtime import CONTEXT, UNKNOWN, Node
from metamodel.expressions.types import ExpressionError, ExprType, Values, expr_type_of
from metamodel.specs import ItemType

if TYPE_CHECKING:
    from metamodel.expressions.checker import Compiler

_EXTREME_TYPES: Final = frozenset({ExprType.NUMBER, ExprType.DATE, ExprType.DATETIME})
"""The field types `min(list, field)` and `max(list, field)` order."""


def is_list_call(compiler: Compiler, node: ast.Call) -> bool:
    """Whether a call's first argument names a LIST item (so `min`/`max` mean the list forms)."""
    first = node.args[0] if node.args else None
    return isinstance(first, ast.Name) and compiler.variables.get(first.id) is ItemType.LIST


def _list_name(compiler: Compiler, node: ast.Call, name: str) -> str | None:
    """The LIST item a list function's first argument names, or None after an error."""
    arg = node.args[0]
    if not isinstance(arg, ast.Name):
        compiler.fail(arg, f"{name}() takes a list item's name first, e.g. {name}(meters, ...)")
        return None
    item_type = compiler.variables.get(arg.id)
    if item_type is None:
        compiler.fail(arg, compiler.unknown_item(arg.id))
        return None
    if item_type is not ItemType.LIST:
        compiler.fail(arg, f"{name}() needs a LIST item, but '{arg.id}' is {item_type}")
        return None
    compiler.used.add(arg.id)
    return arg.id


def _field(compiler: Compiler, node: ast.Call, list_code: str) -> tuple[str, ExprType] | None:
    """The field a list function's second argument names, and its type; None after an error."""
    arg = node.args[1]
    fields = compiler.fields.get(list_code, {})
    if not isinstance(arg, ast.Name) or arg.id not in fields:
        listed = ", ".join(fields) or "none"
        shown = arg.id if isinstance(arg, ast.Name) else compiler.snippet(arg).strip("'")
        compiler.fail(arg, f"'{shown}' is not a field of list '{list_code}' (fields: {listed})")
        return None
    return arg.id, expr_type_of(fields[arg.id])


def _arity(compiler: Compiler, node: ast.Call, name: str, wanted: int) -> bool:
    """Whether the call has `wanted` arguments; records an error if not."""
    if len(node.args) == wanted:
        return True
    shown = f"{wanted} argument" + ("s" if wanted != 1 else "")
    compiler.fail(node, f"{name}() takes {shown}, not {len(node.args)}")
    return False


def _entries(name: str, value: object) -> Sequence[Mapping[str, object]]:
    """A list item's value as its entries (none when missing); anything else is an error."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return value
    raise ExpressionError(f"item '{name}' should hold a list of entries")


def count(compiler: Compiler, node: ast.Call) -> Node:
    """`count(list)`: how many entries the list has."""
    if not _arity(compiler, node, "count", 1):
        return UNKNOWN
    list_code = _list_name(compiler, node, "count")
    if list_code is None:
        return UNKNOWN

    def counted(values: Values) -> object:
        return len(_entries(list_code, values.get(list_code)))

    return Node(ExprType.NUMBER, counted)


def _numbers(list_code: str, field: str, values: Values) -> list[int | Decimal]:
    found: list[int | Decimal] = []
    for entry in _entries(list_code, values.get(list_code)):
        value = entry.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise ExpressionError(f"field '{field}' of '{list_code}' should hold numbers")
        found.append(value)
    return found


def total(compiler: Compiler, node: ast.Call) -> Node:
    """`sum(list, field)`: the total of a NUMBER field over the entries (0 when none has one)."""
    if not _arity(compiler, node, "sum", 2):
        return UNKNOWN
    list_code = _list_name(compiler, node, "sum")
    if list_code is None:
        return UNKNOWN
    found = _field(compiler, node, list_code)
    if found is None:
        return UNKNOWN
    field, field_type = found
    if field_type is not ExprType.NUMBER:
        return compiler.fail(
            node.args[1], f"sum() adds up numbers, but field '{field}' is {field_type}"
        )
    add = CONTEXT.add

    def summed(values: Values) -> object:
        result: int | Decimal = 0
        for number in _numbers(list_code, field, values):
            result = add(result, number)
        return result

    return Node(ExprType.NUMBER, summed)


def extreme(compiler: Compiler, node: ast.Call, name: str) -> Node:
    """`min(list, field)` / `max(list, field)`: the least or greatest value of a field, or null."""
    if not _arity(compiler, node, name, 2):
        return UNKNOWN
    list_code = _list_name(compiler, node, name)
    if list_code is None:
        return UNKNOWN
    found = _field(compiler, node, list_code)
    if found is None:
        return UNKNOWN
    field, field_type = found
    if field_type not in _EXTREME_TYPES:
        return compiler.fail(
            node.args[1], f"{name}() orders numbers, dates or times, but '{field}' is {field_type}"
        )
    accepted: tuple[type, ...] = {
        ExprType.NUMBER: (int, Decimal),
        ExprType.DATE: (date,),
        ExprType.DATETIME: (datetime,),
    }[field_type]
    pick = min if name == "min" else max

    def extreme_value(values: Values) -> object:
        found: list[object] = []
        for entry in _entries(list_code, values.get(list_code)):
            value = entry.get(field)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, accepted):
                raise ExpressionError(f"field '{field}' of '{list_code}' holds a wrong value")
            found.append(value)
        return pick(found) if found else None  # type: ignore[type-var]

    return Node(field_type, extreme_value)
