"""Reading cases as JSON text the database wrote: the statements of the query compiler.

The same statements as `case_reads.page_rows` and `case_reads.find_visible` (the filter, the
caller's scope, the keyset window, the indexes they serve), selecting instead of the case's
columns the SQL the compiler wrote for the selection (`resolvers.compiled_selection`): one
JSON text per case and per distinct selection of it, followed by the row's position for its
cursor. Nothing is decoded here; the texts go into the response as they are.

A selection that reads the request's clock (`isOverdue`) names `yk.now`: the clock is one bind
parameter in a one-row table joined to the cases, so the statement's text, and with it the
prepared statement and SQLAlchemy's compiled form, stays the same from request to request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, literal_column, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import FromClause, Select

from database import case_expressions, keyset, ordering, reference_repo
from database import filters as sql_filters
from database.case_reads import CASE_TABLE, CaseScope, scope_condition
from database.reference_repo import Stamp
from database.table_base import UtcDateTime
from metamodel import filters as filters_ast

CLOCK = "yk.now"
"""How a compiled selection names the request's clock."""


@dataclass(frozen=True, slots=True)
class JsonPage:
    """A page as JSON texts: per row, one text per projection, then the row's position."""

    texts: list[tuple[str, ...]]
    positions: list[tuple[object, ...]]
    more: bool
    total: int | None = None
    """How many cases match in all, when asked and the page has a row to carry it."""
    stamps: tuple[Stamp, int] | None = None
    """(stamp, security revision) as the statement saw them, when asked and it found a row."""


@dataclass(frozen=True, slots=True)
class JsonCase:
    """A case as the projection's text, and the stamps when asked."""

    text: str | None
    stamps: tuple[Stamp, int] | None = None


def _source(now: dt.datetime | None) -> FromClause:
    """The case table, with the one-row clock table joined when the selection reads it."""
    if now is None:
        return CASE_TABLE
    clock = select(bindparam("yk_now", now, type_=UtcDateTime()).label("now")).subquery("yk")
    return CASE_TABLE.join(clock, true())


def _columns(projections: Sequence[str]) -> list[ColumnElement[Any]]:
    return [literal_column(p) for p in projections]


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def page_statement(
    dialect: str,
    node: filters_ast.Filter,
    projections: Sequence[str],
    scope: CaseScope,
    now: dt.datetime | None,
) -> Select[Any]:
    """The cases matching a filter within a scope, as the projections' texts (no window yet)."""
    return (
        select(*_columns(projections))
        .select_from(_source(now))
        .where(sql_filters.compile_filter(node, dialect=dialect))
        .where(scope_condition(scope))
    )


async def json_page(
    session: AsyncSession,
    node: filters_ast.Filter,
    orders: Sequence[filters_ast.Order],
    window: keyset.Window,
    *,
    scope: CaseScope,
    projections: Sequence[str],
    now: dt.datetime | None,
    count: bool = False,
    stamps: bool = False,
) -> JsonPage:
    """One keyset page of the cases a filter and a scope select, as JSON texts.

    With `count`, each row also carries how many cases match in all (one uncorrelated subquery,
    worked out once): the page and its total are one statement. An empty page carries none.
    LookupError when the window names a case by id (`keyset.RowPosition`) that is gone.
    """
    dialect = _dialect(session)
    statement = page_statement(dialect, node, projections, scope, now)
    width = len(projections)
    if count:
        matching = (
            select(func.count())
            .select_from(CASE_TABLE)
            .where(sql_filters.compile_filter(node, dialect=dialect))
            .where(scope_condition(scope))
        )
        statement = statement.add_columns(matching.scalar_subquery())
        width += 1
    if stamps:
        statement = statement.add_columns(*reference_repo.STAMP_COLUMNS)
        width += len(reference_repo.STAMP_COLUMNS)
    keys = ordering.sort_keys(orders, dialect=dialect)
    case_id = case_expressions.CASE_COLUMNS["id"]
    rows, more = await keyset.fetch(
        session, statement, keys, window, id_column=case_id, columns_only=True
    )
    return JsonPage(
        texts=[tuple(row[: len(projections)]) for row in rows],
        positions=[tuple(row[width:]) for row in rows],
        more=more,
        total=int(rows[0][len(projections)]) if count and rows else None,
        stamps=reference_repo.stamps_of(rows[0][width - 3 : width]) if stamps and rows else None,
    )


async def json_case(
    session: AsyncSession,
    scope: CaseScope,
    projection: str,
    *,
    case_id: int | None = None,
    number: str | None = None,
    now: dt.datetime | None,
    stamps: bool = False,
) -> JsonCase:
    """A case by id or number within a scope, as the projection's text (None: no such case).

    The projection is NULL for a case of a business type the schema does not serve.
    """
    columns = [literal_column(projection), *(reference_repo.STAMP_COLUMNS if stamps else ())]
    statement: Select[Any] = select(*columns).select_from(_source(now))
    statement = statement.where(scope_condition(scope))
    if case_id is not None:
        statement = statement.where(CASE_TABLE.c.id == case_id)
    else:
        statement = statement.where(CASE_TABLE.c.number == number)
    found = (await (await session.connection()).execute(statement)).first()
    if found is None:
        return JsonCase(None)
    return JsonCase(found[0], reference_repo.stamps_of(found[1:]) if stamps else None)
