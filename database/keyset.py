"""Keyset pages: ORDER BY keys with the null placement indexes serve, and "after this row".

Why keysets rather than OFFSET: OFFSET reads and throws away every row before the page, so
page n costs n pages, and a row inserted before the page shifts it (one row read twice, or
never). A keyset page starts at a position, the sort-key values of the row it follows (ending
with that row's unique id), so it costs one index descent wherever it starts, and rows inserted
or removed elsewhere in the list never move it.

Null placement: a null sorts as if larger than every value, so last ascending and first
descending. That is PostgreSQL's default and the order of a plain B-tree index read either
way, so an index on a key serves both directions. SQLite's own default is the opposite (nulls
smallest), so for a key that can be null the clause is written out on both databases
(`NULLS LAST` ascending, `NULLS FIRST` descending); a key that cannot be null gets no clause at
all, since PostgreSQL will not read an index on `created_at` for `created_at DESC NULLS LAST`.
Reading a list backwards flips every direction and keeps nulls largest, so it is exactly the
list reversed.

The builders are pure (a later query compiler reuses them); `fetch` alone runs statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    Float,
    Numeric,
    TypeDecorator,
    and_,
    false,
    literal,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.engine import Dialect, Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select

__all__ = [
    "Position",
    "RowPosition",
    "SortKey",
    "Window",
    "after",
    "cut",
    "fetch",
    "order_clauses",
    "page_statement",
    "reverse",
    "value_columns",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SortKey:
    """One ORDER BY key: an expression, its direction, and whether it can be null."""

    expression: ColumnElement[Any]
    descending: bool = False
    nullable: bool = True


@dataclass(frozen=True, slots=True)
class Window:
    """Which part of an ordered list one page reads.

    `after` and `before` are positions (a row's sort-key values, the id last) the page lies
    strictly between; `backwards` reads the `size` rows nearest `before` (or the list's end)
    instead of the `size` rows following `after` (or the list's start).
    """

    size: int
    after: Position | None = None
    before: Position | None = None
    backwards: bool = False


@dataclass(frozen=True, slots=True)
class RowPosition:
    """A position named by its row's id alone: the row's values as they are now.

    For a cursor whose values would not fit its size limit (a long text key); the row is read
    when the page is, so if its keys changed since, the page follows it to where it stands now.
    """

    row_id: int


Position = Sequence[object] | RowPosition
"""A row's sort-key values (the id last), or the row itself."""


def reverse(keys: Sequence[SortKey]) -> list[SortKey]:
    """The keys of the same list read from its end (nulls stay largest)."""
    return [replace(key, descending=not key.descending) for key in keys]


def order_clauses(keys: Sequence[SortKey]) -> list[ColumnElement[Any]]:
    """ORDER BY clauses: nulls largest on a key that can be null, no NULLS clause otherwise."""
    clauses: list[ColumnElement[Any]] = []
    for key in keys:
        if key.descending:
            clause = key.expression.desc()
            clauses.append(clause.nulls_first() if key.nullable else clause)
        else:
            clause = key.expression.asc()
            clauses.append(clause.nulls_last() if key.nullable else clause)
    return clauses


def _bound(key: SortKey, value: object) -> ColumnElement[Any]:
    """A value as a parameter of the key's type (booleans too, which SQLAlchemy would inline)."""
    return literal(value, key.expression.type)


def _beyond(key: SortKey, value: object) -> ColumnElement[bool] | None:
    """Rows strictly past `value` on this key alone, in its direction (None: no row is)."""
    expression = key.expression
    if value is None:  # null is the largest value: past it descending is every non-null
        return expression.is_not(None) if key.descending else None
    if key.descending:
        return expression < _bound(key, value)  # nulls, being larger, came before
    beyond = expression > _bound(key, value)
    return or_(beyond, expression.is_(None)) if key.nullable else beyond


def _level(key: SortKey, value: object) -> ColumnElement[bool]:
    """Rows with the same value on this key (null equals null here, as ORDER BY groups them)."""
    return key.expression.is_(None) if value is None else key.expression == _bound(key, value)


def _row_comparable(keys: Sequence[SortKey], values: Sequence[object]) -> bool:
    """Whether a row-value comparison says the same: one direction, and no nulls anywhere."""
    return (
        len({key.descending for key in keys}) == 1
        and not any(key.nullable for key in keys)
        and all(value is not None for value in values)
    )


def after(keys: Sequence[SortKey], values: Sequence[object]) -> ColumnElement[bool]:
    """Rows strictly after the position `values` in the order of `keys` (the last key unique).

    Lexicographic: past it on the first key, or level on it and past it on the rest, written
    as nested OR/AND so both databases take it. Keys of one direction that cannot be null use a
    row-value comparison, `(created_at, id) > (:a, :b)`, which PostgreSQL reads from an index on
    those columns; otherwise a bound on the first key alone lets an index on it start the scan.
    """
    if len(keys) != len(values) or not keys:
        raise ValueError(f"a position has {len(keys)} values, not {len(values)}")
    if _row_comparable(keys, values):
        row = tuple_(*(key.expression for key in keys))
        position = tuple_(*(_bound(k, v) for k, v in zip(keys, values, strict=True)))
        return row < position if keys[0].descending else row > position
    condition: ColumnElement[bool] | None = None
    for key, value in reversed(list(zip(keys, values, strict=True))):
        beyond = _beyond(key, value)
        if condition is None:
            condition = false() if beyond is None else beyond
            continue
        level = and_(_level(key, value), condition)
        condition = level if beyond is None else or_(beyond, level)
    assert condition is not None
    first, value = keys[0], values[0]
    if len(keys) > 1 and not first.nullable and value is not None:
        start = _bound(first, value)
        bound = first.expression <= start if first.descending else first.expression >= start
        condition = and_(bound, condition)
    return condition


class _ExactSqliteNumber(TypeDecorator[Decimal]):
    """A number SQLite computed, read as the Decimal that binds back to the same double.

    SQLite has no decimal type: `CAST(… AS NUMERIC)` yields a double (or an integer), and
    SQLAlchemy's Numeric would round it to 10 places when read. The shortest repr of a double
    converts back to exactly that double, so a position holding it finds its row again.
    """

    impl = Float()
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """The double (or integer) as a Decimal."""
        return None if value is None else Decimal(repr(value))


def _value_column(key: SortKey, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite" and isinstance(key.expression.type, Numeric):
        return type_coerce(key.expression, _ExactSqliteNumber())
    return key.expression


def value_columns(keys: Sequence[SortKey], *, dialect: str) -> list[ColumnElement[Any]]:
    """What to select to learn a row's position: each key's value, read back exactly."""
    return [_value_column(key, dialect) for key in keys]


def page_statement(
    statement: Select[Any],
    keys: Sequence[SortKey],
    window: Window,
    *,
    dialect: str,
    after_values: Sequence[object] | None = None,
    before_values: Sequence[object] | None = None,
) -> Select[Any]:
    """`statement` with each key's value added as a column, cut to the window, in reading order.

    The window's positions are given as values (a `RowPosition` read first, see `fetch`). It
    reads one row more than the page, to tell whether more lie beyond it (see `cut`).
    """
    statement = statement.add_columns(*value_columns(keys, dialect=dialect))
    if after_values is not None:
        statement = statement.where(after(keys, after_values))
    if before_values is not None:
        statement = statement.where(after(reverse(keys), before_values))
    reading = reverse(keys) if window.backwards else keys
    return statement.order_by(*order_clauses(reading)).limit(window.size + 1)


def cut(rows: Sequence[T], window: Window) -> tuple[list[T], bool]:
    """The page's rows in list order, and whether more lie beyond it in the reading direction."""
    page = list(rows[: window.size])
    if window.backwards:
        page.reverse()
    return page, len(rows) > window.size


async def _values(
    session: AsyncSession,
    keys: Sequence[SortKey],
    position: Position | None,
    id_column: ColumnElement[Any],
    dialect: str,
) -> Sequence[object] | None:
    if not isinstance(position, RowPosition):
        return position
    found = (
        await session.execute(
            select(*value_columns(keys, dialect=dialect)).where(id_column == position.row_id)
        )
    ).first()
    if found is None:
        raise LookupError(f"row {position.row_id} is gone")
    return tuple(found)


async def fetch(
    session: AsyncSession,
    statement: Select[Any],
    keys: Sequence[SortKey],
    window: Window,
    *,
    id_column: ColumnElement[Any],
    columns_only: bool = False,
) -> tuple[list[Row[Any]], bool]:
    """Run a page of `statement`: its rows in list order, and whether more lie beyond it.

    Each row ends with its key values (its position). LookupError if a `RowPosition`'s row
    is gone. `columns_only`: the statement selects no ORM entity, so it runs on the session's
    connection, without the ORM's execution layer (events, identity map, result adaptation).
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    page = page_statement(
        statement,
        keys,
        window,
        dialect=dialect,
        after_values=await _values(session, keys, window.after, id_column, dialect),
        before_values=await _values(session, keys, window.before, id_column, dialect),
    )
    if columns_only:  # nothing for the ORM's execution layer to do: run on the connection
        return cut((await (await session.connection()).execute(page)).all(), window)
    return cut((await session.execute(page)).all(), window)
