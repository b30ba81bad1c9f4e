"""Date arithmetic an expression may call: `add_days(date, n)` and `add_months(date, n)`.

Derived dates such as a plan's validity (the reply date plus one year, or three months) are
counted in calendar days or months; a month added to the 31st lands on the last day of a
shorter month, as a person counting on a calendar would.
"""

from __future__ import annotations

import ast
import calendar
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from metamodel.expressions.runtime import UNKNOWN, Node
from metamodel.expressions.types import ExprType, Values

if TYPE_CHECKING:
    from metamodel.expressions.checker import Compiler

NAMES: Final = ("add_days", "add_months")
"""The date functions, in alphabetical order."""
TODAY: Final = "$today"
"""Where a rule's evaluation puts the day the command runs (no item code starts with `$`)."""


def today(compiler: Compiler, node: ast.Call) -> Node:
    """`today()`: the day the command runs (Asia/Shanghai) in a rule; unknown anywhere else.

    Rules are checked when a command runs and leave nothing behind, so a rule may compare a
    date with the day (a done date not in the future). Conditions, fees, limits and computed
    items are recorded or replayed, so there `today()` is unknown and decides nothing.
    """
    if node.args:
        return compiler.fail(node, f"today() takes no arguments, not {len(node.args)}")

    def day(values: Values) -> object:
        return values.get(TODAY)

    return Node(ExprType.DATE, day)


def call(compiler: Compiler, node: ast.Call, name: str) -> Node:
    """`add_days(date, n)` / `add_months(date, n)`: a DATE moved by a whole number of units."""
    if len(node.args) != 2:
        return compiler.fail(node, f"{name}() takes 2 arguments, not {len(node.args)}")
    day = compiler.compile(node.args[0])
    count = compiler.compile(node.args[1])
    ok_day = compiler.expect(day, ExprType.DATE, node.args[0], f"{name}()")
    ok_count = compiler.expect(count, ExprType.NUMBER, node.args[1], f"{name}()")
    if not (ok_day and ok_count) or day.type is None or count.type is None:
        return UNKNOWN
    move = _add_days if name == "add_days" else _add_months
    first, second = day.fn, count.fn

    def moved(values: Values) -> object:
        start, amount = first(values), second(values)
        if start is None or amount is None:
            return None
        assert isinstance(start, dt.date) and isinstance(amount, int | Decimal)
        return move(start, _whole(name, amount))

    return compiler.fold(node, ExprType.DATE, moved, [day, count])


def _whole(name: str, amount: int | Decimal) -> int:
    if amount != int(amount):
        raise ValueError(f"{name}() needs a whole number, not {amount}")
    return int(amount)


def _add_days(start: dt.date, days: int) -> dt.date:
    return start + dt.timedelta(days=days)


def _add_months(start: dt.date, months: int) -> dt.date:
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise OverflowError("date value out of range")
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(start.day, last))
