"""Type rules and closures of the functions an expression may call (`min`, `lookup`, ...)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from metamodel.expressions import dates, lists
from metamodel.expressions.runtime import CONTEXT, ROUND_CONTEXT, UNKNOWN, Node
from metamodel.expressions.types import ORDERED, ExprType, Values

if TYPE_CHECKING:
    from metamodel.expressions.checker import Compiler

FUNCTIONS: Final = (
    "abs",
    *dates.NAMES,
    "coalesce",
    "count",
    "has",
    "lookup",
    "max",
    "min",
    "round",
    "sum",
    "today",
)
"""The functions an expression may call, in alphabetical order."""

MAX_ROUND_PLACES: Final = 6
"""Most decimal places `round(x, n)` accepts."""

_KEY_TYPES: Final = frozenset({ExprType.NUMBER, ExprType.STRING, ExprType.BOOLEAN})


def call(compiler: Compiler, node: ast.Call) -> Node:
    """One of the whitelisted functions."""
    if isinstance(node.func, ast.Attribute):
        return compiler.fail(node.func, f"attribute access ('.{node.func.attr}') is not allowed")
    if not isinstance(node.func, ast.Name):
        return compiler.fail(
            node.func, "only the functions " + ", ".join(FUNCTIONS) + " can be called"
        )
    name = node.func.id
    if name not in FUNCTIONS:
        listed = ", ".join(FUNCTIONS)
        return compiler.fail(node.func, f"unknown function '{name}' (the functions are {listed})")
    if node.keywords:
        return compiler.fail(node, f"{name}() takes no keyword arguments")
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            return compiler.fail(arg, "'*' unpacking is not allowed")
    if name == "has":
        return has(compiler, node)
    if name == "today":
        return dates.today(compiler, node)
    if name == "lookup":
        return lookup(compiler, node)
    if name == "round":
        return round_to_places(compiler, node)
    if name == "abs":
        return absolute(compiler, node)
    if name == "coalesce":
        return coalesce(compiler, node)
    if name in dates.NAMES:
        return dates.call(compiler, node, name)
    if name == "count":
        return lists.count(compiler, node)
    if name == "sum":
        return lists.total(compiler, node)
    if lists.is_list_call(compiler, node):
        return lists.extreme(compiler, node, name)
    return extreme(compiler, node, name)


def arity(compiler: Compiler, node: ast.Call, name: str, low: int, high: int | None) -> bool:
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
    compiler.fail(node, f"{name}() takes {wanted}, not {count}")
    return False


def has(compiler: Compiler, node: ast.Call) -> Node:
    """`has(item)`: the item has a value."""
    if not arity(compiler, node, "has", 1, 1):
        return UNKNOWN
    arg = node.args[0]
    if not isinstance(arg, ast.Name):
        return compiler.fail(arg, "has() takes an item name, e.g. has(capacity_kva)")
    if arg.id not in compiler.variables:
        return compiler.fail(arg, compiler.unknown_item(arg.id))
    compiler.used.add(arg.id)
    name = arg.id

    def present(values: Values) -> object:
        return values.get(name) is not None

    return Node(ExprType.BOOLEAN, present)


def absolute(compiler: Compiler, node: ast.Call) -> Node:
    """`abs(x)`."""
    if not arity(compiler, node, "abs", 1, 1):
        return UNKNOWN
    operand = compiler.compile(node.args[0])
    if not compiler.expect(operand, ExprType.NUMBER, node.args[0], "abs()") or operand.type is None:
        return UNKNOWN
    inner, absolute = operand.fn, CONTEXT.abs

    def absolute_value(values: Values) -> object:
        value = inner(values)
        return None if value is None else absolute(value)  # type: ignore[arg-type]

    return compiler.fold(node, ExprType.NUMBER, absolute_value, [operand])


def round_to_places(compiler: Compiler, node: ast.Call) -> Node:
    """`round(x, n)`: ROUND_HALF_UP to `n` places, `n` a literal 0..6."""
    if not arity(compiler, node, "round", 1, 2):
        return UNKNOWN
    operand = compiler.compile(node.args[0])
    places = 0
    if len(node.args) == 2:
        arg = node.args[1]
        if not (
            isinstance(arg, ast.Constant)
            and type(arg.value) is int
            and 0 <= arg.value <= MAX_ROUND_PLACES
        ):
            return compiler.fail(
                arg,
                f"the places of round() must be a literal whole number from 0 to"
                f" {MAX_ROUND_PLACES}, not {compiler.snippet(arg)}",
            )
        places = arg.value
    if (
        not compiler.expect(operand, ExprType.NUMBER, node.args[0], "round()")
        or operand.type is None
    ):
        return UNKNOWN
    inner, quantize, exponent = operand.fn, ROUND_CONTEXT.quantize, Decimal(1).scaleb(-places)

    def rounded(values: Values) -> object:
        value = inner(values)
        return None if value is None else quantize(value, exponent)  # type: ignore[arg-type]

    return compiler.fold(node, ExprType.NUMBER, rounded, [operand])


def coalesce(compiler: Compiler, node: ast.Call) -> Node:
    """`coalesce(a, b, ...)`: the first operand that is not null."""
    if not arity(compiler, node, "coalesce", 2, None):
        return UNKNOWN
    operands = [compiler.compile(arg) for arg in node.args]
    type_ = compiler.unify(operands, node.args, "coalesce()")
    if type_ is None:
        return UNKNOWN
    enum_item = next((o for o in operands if o.enum_item is not None), None)
    if enum_item is not None and not all(
        compiler.check_option(enum_item, operand, arg)
        for operand, arg in zip(operands, node.args, strict=True)
    ):
        return UNKNOWN
    fns = tuple(operand.fn for operand in operands)
    if len(fns) == 2:
        first, second = fns

        def coalesce2(values: Values) -> object:
            value = first(values)
            return second(values) if value is None else value

        return compiler.fold(node, type_, coalesce2, operands)

    def coalesce_n(values: Values) -> object:
        for f in fns:
            value = f(values)
            if value is not None:
                return value
        return None

    return compiler.fold(node, type_, coalesce_n, operands)


def extreme(compiler: Compiler, node: ast.Call, name: str) -> Node:
    """`min(...)` / `max(...)` of two or more values of one ordered type; null if any is."""
    if not arity(compiler, node, name, 2, None):
        return UNKNOWN
    operands = [compiler.compile(arg) for arg in node.args]
    for operand, arg in zip(operands, node.args, strict=True):
        if operand.type is ExprType.NULL:
            return compiler.fail(arg, f"None cannot be an argument of {name}()")
    type_ = compiler.unify(operands, node.args, f"{name}()")
    if type_ is None:
        return UNKNOWN
    if type_ not in ORDERED:
        return compiler.fail(node, f"{name}() needs values that can be ordered, not {type_}")
    enum_item = next((o.enum_item for o in operands if o.enum_item is not None), None)
    if enum_item is not None:  # as '<' refuses: options have no order, only spellings
        return compiler.fail(node, f"the options of ENUM item '{enum_item}' cannot be ordered")
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

    return compiler.fold(node, type_, extreme_value, operands)


def lookup(compiler: Compiler, node: ast.Call) -> Node:
    """`lookup(table, key1[, key2])`: the table's value for the keys, or null."""
    if not arity(compiler, node, "lookup", 2, 3):
        return UNKNOWN
    table_ast, key_asts = node.args[0], node.args[1:]
    if not isinstance(table_ast, ast.Dict):
        return compiler.fail(
            table_ast, 'the first argument of lookup() must be a dict literal, e.g. {"A": 1}'
        )
    keys = [compiler.compile(key) for key in key_asts]
    parsed = read_table(compiler, table_ast, len(key_asts))
    if parsed is None or any(key.type is None for key in keys):
        return UNKNOWN
    table, key_types, value_type = parsed
    ok = True
    for level, (key, key_ast) in enumerate(zip(keys, key_asts, strict=True)):
        key_type = key_types[level]
        if key_type is not None and key.type is not key_type:
            ok = False
            compiler.fail(
                key_ast,
                f"lookup() key {compiler.snippet(key_ast)} is {key.type} but the table's keys"
                f" at level {level + 1} are {key_type}",
            )
        elif key.enum_item is not None:
            ok = check_table_options(compiler, key, table, level, table_ast) and ok
    if not ok:
        return UNKNOWN
    if len(keys) == 1:
        first = keys[0].fn

        def lookup1(values: Values) -> object:
            key = first(values)
            return None if key is None else table.get(key)

        return compiler.fold(node, value_type, lookup1, keys)
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

    return compiler.fold(node, value_type, lookup2, keys)


def check_table_options(
    compiler: Compiler, key: Node, table: dict[object, object], level: int, at: ast.AST
) -> bool:
    """Whether every key at `level` of the table is an option of the ENUM item `key`."""
    assert key.enum_item is not None
    options = compiler.enum_values.get(key.enum_item)
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
    compiler.fail(
        at,
        f"lookup() table key '{wrong[0]}' is not an option of item '{key.enum_item}'"
        f" (options: {listed})",
    )
    return False


def read_table(
    compiler: Compiler, node: ast.Dict, depth: int
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
            compiler.fail(current, "a lookup() table cannot be empty")
        for key_ast, value_ast in zip(current.keys, current.values, strict=True):
            if key_ast is None:
                ok = False
                compiler.fail(value_ast, "'**' unpacking is not allowed in a lookup() table")
                continue
            key = compiler.literal(key_ast, "lookup() table keys")
            if key.type is None:
                ok = False
                continue
            if key.type not in _KEY_TYPES:
                ok = False
                compiler.fail(key_ast, f"lookup() table keys cannot be {key.type}")
                continue
            expected = key_types[level]
            if expected is None:
                key_types[level] = key.type
            elif key.type is not expected:
                ok = False
                compiler.fail(key_ast, f"lookup() table keys mix {expected} and {key.type}")
                continue
            if key.value in result:
                ok = False
                compiler.fail(
                    key_ast, f"duplicate key {compiler.snippet(key_ast)} in a lookup() table"
                )
                continue
            if level + 1 < depth:
                if not isinstance(value_ast, ast.Dict):
                    ok = False
                    compiler.fail(
                        value_ast,
                        f"lookup() with {depth} keys needs a table of tables;"
                        f" {compiler.snippet(value_ast)} is not a dict",
                    )
                    continue
                result[key.value] = read(value_ast, level + 1)
                continue
            if isinstance(value_ast, ast.Dict):
                ok = False
                compiler.fail(
                    value_ast,
                    f"the lookup() table is nested deeper than its {depth} key"
                    + ("s" if depth > 1 else ""),
                )
                continue
            value = compiler.literal(value_ast, "lookup() table values")
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
        compiler.fail(node, f"lookup() table values mix {listed}")
        return None
    value_type = next(iter(real)) if real else ExprType.NULL
    return table, key_types, value_type
