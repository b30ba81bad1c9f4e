"""The expression indexes of `indexed` data items: which are wanted, which exist, and their DDL.

Wanted: every item that the latest published version of a served business type (published or
retired) freezes as `indexed`. Those versions are what the generated filters are built from;
the dictionary's flag reaches them, like every other property of an item, when a type is next
published, and an item no served type uses has no values to index. Older versions do not
count: they never change, so an index they asked for could never be dropped.

Each index is on exactly the expression the filter compiler compares (`case_expressions
.index_key`), over all cases, not partial per business type: the dictionary-wide `cases` list
filters without naming a type, and a type's own list names it through a sub-select on
`business_type`, which no planner can match against an index predicate.

What exists is read from the catalog, never from a table of our own: PostgreSQL's `pg_index`
(valid, ready), the build progress view (a build under way) and the comment each index is
given once built, which records the key it was built on; SQLite's `sqlite_master`, whose
statement text records the key itself. An index on a key the filters no longer emit is STALE
and is rebuilt like a failed (INVALID) one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from database import case_expressions
from database.metadata_tables import BusinessTypeRow, BusinessTypeVersionRow
from metamodel import serialization
from metamodel.snapshot import BusinessTypeStatus
from metamodel.specs import DataItemSpec, ItemType

Reads = AsyncConnection | AsyncSession
"""Where the catalog is read: the reconcile's own connection, or a request's session."""

COMMENT_PREFIX = "yekuo item index on "
"""How the comment on a PostgreSQL item index begins; the key it was built on follows."""


class IndexState(StrEnum):
    """Where an item's index stands against what is wanted."""

    PENDING = "PENDING"
    BUILDING = "BUILDING"
    READY = "READY"
    INVALID = "INVALID"
    STALE = "STALE"
    DROPPING = "DROPPING"


@dataclasses.dataclass(frozen=True, slots=True)
class WantedIndex:
    """The index an `indexed` item should have: its name and key on one dialect."""

    code: str
    type: ItemType
    name: str
    key: str


@dataclasses.dataclass(frozen=True, slots=True)
class FoundIndex:
    """An item index as the catalog shows it."""

    name: str
    valid: bool
    building: bool
    size_bytes: int | None
    key: str | None
    """The key it was built on, as recorded (None: not recorded)."""


@dataclasses.dataclass(frozen=True, slots=True)
class IndexStatus:
    """An item's index for people: its name, state and size (None where not known)."""

    name: str
    state: IndexState
    size_bytes: int | None


def wanted(items: Iterable[DataItemSpec], dialect: str) -> dict[str, WantedIndex]:
    """By index name, the index of every `indexed` item among `items` (TEXT is never indexed).

    An item's type is frozen once a published version uses it, so every version that holds
    the item agrees on its key.
    """
    found: dict[str, WantedIndex] = {}
    for item in items:
        if item.indexed and item.type is not ItemType.TEXT:
            name = case_expressions.index_name(item.code)
            key = case_expressions.index_key(item.code, item.type, dialect)
            found[name] = WantedIndex(item.code, item.type, name, key)
    return found


def state_of(want: WantedIndex | None, found: FoundIndex | None) -> IndexState | None:
    """The state of one index name: None when it is neither wanted nor there."""
    if found is None:
        return None if want is None else IndexState.PENDING
    if found.building:
        return IndexState.BUILDING
    if want is None:
        return IndexState.DROPPING
    if not found.valid:
        return IndexState.INVALID
    if found.key != want.key:
        return IndexState.STALE
    return IndexState.READY


def statuses(
    wanted_by_name: Mapping[str, WantedIndex], found: Mapping[str, FoundIndex]
) -> dict[str, IndexStatus]:
    """By name, every index that is wanted or there, for people."""
    by_name: dict[str, IndexStatus] = {}
    for name in sorted(wanted_by_name.keys() | found.keys()):
        here = found.get(name)
        state = state_of(wanted_by_name.get(name), here)
        if state is not None:
            by_name[name] = IndexStatus(name, state, None if here is None else here.size_bytes)
    return by_name


# -- DDL ----------------------------------------------------------------------------------------


def create_statement(want: WantedIndex, dialect: str) -> str:
    """CREATE INDEX (CONCURRENTLY on PostgreSQL, which must run outside a transaction)."""
    return case_expressions.index_expression(want.code, want.type, dialect)


def comment_statement(want: WantedIndex) -> str:
    """COMMENT ON INDEX recording the key (PostgreSQL): how a later pass knows it is current."""
    # Utility statements take no parameters; the key is rendered from a checked code.
    comment = (COMMENT_PREFIX + want.key).replace("'", "''")
    return f"COMMENT ON INDEX {want.name} IS '{comment}'"


def drop_statement(name: str, dialect: str) -> str:
    """DROP INDEX (CONCURRENTLY on PostgreSQL) of an item index, by a name we made."""
    if not name.startswith(case_expressions.INDEX_PREFIX) or not name.isidentifier():
        raise ValueError(f"not an item index: {name!r}")
    if dialect == "postgresql":
        return f"DROP INDEX CONCURRENTLY IF EXISTS {name}"
    return f"DROP INDEX IF EXISTS {name}"


# -- reading what is wanted and what exists -----------------------------------------------------


async def served_items(reads: Reads) -> list[DataItemSpec]:
    """The items the latest version of every served business type froze."""
    rows = await reads.execute(
        select(BusinessTypeVersionRow.definition).join(
            BusinessTypeRow,
            and_(
                BusinessTypeRow.id == BusinessTypeVersionRow.business_type_id,
                BusinessTypeRow.latest_version == BusinessTypeVersionRow.version,
                BusinessTypeRow.status != BusinessTypeStatus.DRAFT.value,
            ),
        )
    )
    return [
        serialization.data_item_from_dict(raw)
        for (definition,) in rows
        for raw in definition.get("items", ())
    ]


_PG_FOUND = text(
    """
    SELECT c.relname, i.indisvalid AND i.indisready, pg_relation_size(c.oid),
           obj_description(c.oid, 'pg_class'),
           EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = c.oid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = to_regclass('"case"') AND starts_with(c.relname, :prefix)
    """
)

_SQLITE_FOUND = text(
    "SELECT name, sql FROM sqlite_master "
    "WHERE type = 'index' AND tbl_name = 'case' AND substr(name, 1, :length) = :prefix"
)

_SQLITE_HAS_DBSTAT = text(
    "SELECT count(*) FROM pragma_compile_options WHERE compile_options = 'ENABLE_DBSTAT_VTAB'"
)


def _recorded_key(comment: str | None) -> str | None:
    if comment is None or not comment.startswith(COMMENT_PREFIX):
        return None
    return comment[len(COMMENT_PREFIX) :]


def _sqlite_key(name: str, sql: str | None) -> str | None:
    """The key of an index from its stored statement (`CREATE INDEX name ON "case" (key)`)."""
    head = f'CREATE INDEX {name} ON "case" ('
    if sql is None or not sql.startswith(head) or not sql.endswith(")"):
        return None
    return sql[len(head) : -1]


async def _sqlite_sizes(reads: Reads, names: Sequence[str]) -> dict[str, int]:
    """Bytes of each index from the `dbstat` table (one statement), where SQLite has it."""
    if not names or not await reads.scalar(_SQLITE_HAS_DBSTAT):
        return {}
    # One aggregate lookup per index, in one statement: dbstat walks only the named b-trees.
    parts = " UNION ALL ".join(
        f"SELECT name, pgsize FROM dbstat WHERE name = :n{i} AND aggregate = 1"
        for i in range(len(names))
    )
    rows = await reads.execute(text(parts), {f"n{i}": n for i, n in enumerate(names)})
    return {str(name): int(size) for name, size in rows}


async def found_indexes(reads: Reads, dialect: str) -> dict[str, FoundIndex]:
    """By name, every item index on `"case"` the catalog holds, in one catalog query."""
    prefix = case_expressions.INDEX_PREFIX
    found: dict[str, FoundIndex] = {}
    if dialect == "postgresql":
        for name, valid, size, comment, building in await reads.execute(
            _PG_FOUND, {"prefix": prefix}
        ):
            found[name] = FoundIndex(
                name, bool(valid), bool(building), _size(size), _recorded_key(comment)
            )
        return found
    rows = (await reads.execute(_SQLITE_FOUND, {"length": len(prefix), "prefix": prefix})).all()
    sizes = await _sqlite_sizes(reads, [str(name) for name, _ in rows])
    for name, sql in rows:
        found[name] = FoundIndex(name, True, False, sizes.get(name), _sqlite_key(name, sql))
    return found


def _size(value: Any) -> int | None:
    return None if value is None else int(value)
