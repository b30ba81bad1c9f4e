"""SQL expressions of what case filters and orderings read: data items and system columns.

Why the JSON keys are literals: a data item's key is written into the SQL as a literal
(`"case".data ->> 'capacity_kva'`, `json_extract("case".data, '$.capacity_kva')`), after it has
been checked against `naming.CODE_PATTERN`, and never sent as a bound parameter. An expression
index on an item is only used when the query holds the very same expression, and a bound key
turns it into `data ->> $1`, which no index matches (measured on SQLite: a range filter went
from 3.5 ms to 338 ms). `index_expression` renders the index from the same builder, so the two
cannot drift apart.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Integer,
    Numeric,
    Text,
    cast,
    column,
    func,
    inspect,
    literal_column,
    type_coerce,
)
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement

from casework.model import StageStatus
from database.case_tables import CaseRow
from metamodel import datatypes, naming
from metamodel.filters import (
    SystemField,
)
from metamodel.specs import ItemType

DIALECTS: frozenset[str] = frozenset({"sqlite", "postgresql"})
"""The dialects the compiler emits SQL for."""


CURRENT_STAGE_STATUSES: tuple[str, ...] = (StageStatus.ACTIVE.value, StageStatus.WAITING.value)
"""Stage instance statuses that make a stage one of the case's current stages."""


_COMPILER_DIALECTS: dict[str, type[Dialect]] = {"postgresql": PGDialect, "sqlite": SQLiteDialect}


_MAX_IDENTIFIER = 63


INDEX_PREFIX = "ix_case_data_"
"""How the name of every item's expression index begins: the indexes the reconcile owns."""


CASE_COLUMNS = inspect(CaseRow).columns
"""The columns of `\"case\"`, by attribute name."""


SYSTEM_COLUMNS: dict[SystemField, str] = {
    SystemField.ID: "id",
    SystemField.NUMBER: "number",
    SystemField.STATUS: "status",
    SystemField.PRIORITY: "priority",
    SystemField.CUSTOMER_NUMBER: "customer_number",
    SystemField.BUSINESS_TYPE_VERSION: "business_type_version",
    SystemField.CREATED_AT: "created_at",
    SystemField.SUBMITTED_AT: "submitted_at",
    SystemField.COMPLETED_AT: "completed_at",
    SystemField.DUE_AT: "due_at",
    SystemField.WARNED_AT: "warned_at",
}
"""The column of each system field that is a plain column of `\"case\"`."""


def check_dialect(dialect: str) -> str:
    """The dialect, when the compiler emits SQL for it (ValueError otherwise)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unsupported dialect {dialect!r}: expected one of {sorted(DIALECTS)}")
    return dialect


def _check_code(code: str) -> str:
    # fullmatch: `$` in CODE_PATTERN would also accept a trailing newline.
    if not isinstance(code, str) or not naming.CODE_PATTERN.fullmatch(code):
        raise ValueError(f"invalid data item code {code!r}")
    return code


def _item_expression(
    data: ColumnElement[Any], code: str, item_type: ItemType, dialect: str
) -> ColumnElement[Any]:
    """Build the typed expression of item `code` over the JSON column `data` (code checked)."""
    if dialect == "postgresql":
        text = data.op("->>", return_type=Text)(literal_column(f"'{code}'", Text)).self_group()
        if item_type in (ItemType.DECIMAL, ItemType.MONEY):
            return cast(text, Numeric())
        if item_type is ItemType.INTEGER:
            return cast(text, BigInteger())
        if item_type is ItemType.BOOLEAN:
            return cast(text, Boolean())
        return text
    raw = func.json_extract(data, literal_column(f"'$.{code}'", Text))
    if item_type in (ItemType.DECIMAL, ItemType.MONEY):
        return cast(raw, Numeric())  # stored as strings: compare as numbers
    if item_type is ItemType.INTEGER:
        return type_coerce(raw, Integer())  # json_extract already returns an integer
    if item_type is ItemType.BOOLEAN:
        return type_coerce(raw, Boolean())  # JSON true/false come out as 1/0
    return type_coerce(raw, Text())


def checked_code(code: str) -> str:
    """`code` when it is a well-formed item code, safe as a literal key (ValueError otherwise)."""
    return _check_code(code)


def entry_field_expression(
    entry: ColumnElement[Any], code: str, item_type: ItemType, dialect: str
) -> ColumnElement[Any]:
    """A field of one LIST entry (a JSON object), read and ordered as a plain item is."""
    item_type = ItemType(item_type)
    expression = _item_expression(entry, _check_code(code), item_type, check_dialect(dialect))
    return _in_text_order(expression, item_type, dialect)


def data_expression(code: str, item_type: ItemType, dialect: str) -> ColumnElement[Any]:
    """Return the typed SQL expression of one data item of `"case".data`, keyed by a literal."""
    return _item_expression(
        CASE_COLUMNS["data"], _check_code(code), ItemType(item_type), check_dialect(dialect)
    )


def _in_text_order(
    expression: ColumnElement[Any], item_type: ItemType, dialect: str
) -> ColumnElement[Any]:
    """Textual values in code point order on PostgreSQL (`COLLATE "C"`), as SQLite compares.

    Every operator gets it, equality too (the same under any deterministic collation): a
    B-tree index serves only comparisons in its own collation, so the filters and the index
    must agree on one.
    """
    if dialect == "postgresql" and item_type in datatypes.TEXTUAL_TYPES:
        return expression.collate("C")
    return expression


def compared_expression(code: str, item_type: ItemType, dialect: str) -> ColumnElement[Any]:
    """The expression filters compare item `code` by: `data_expression`, textual in "C" order."""
    item_type = ItemType(item_type)
    return _in_text_order(data_expression(code, item_type, dialect), item_type, dialect)


def index_name(code: str) -> str:
    """Name the expression index of item `code` (hashed when it would pass 63 characters)."""
    name = INDEX_PREFIX + _check_code(code)
    if len(name) <= _MAX_IDENTIFIER:
        return name
    # PostgreSQL truncates longer names, so two long codes would share one index name.
    digest = hashlib.sha256(code.encode()).hexdigest()[:8]
    return f"{name[: _MAX_IDENTIFIER - 9]}_{digest}"


def index_key(code: str, item_type: ItemType, dialect: str) -> str:
    """The key of item `code`'s expression index as DDL: `compared_expression` over `data`."""
    check_dialect(dialect)
    item_type = ItemType(item_type)
    expression = _in_text_order(
        _item_expression(column("data", JSON), _check_code(code), item_type, dialect),
        item_type,
        dialect,
    )
    compiler_dialect = _COMPILER_DIALECTS[dialect]()
    rendered = str(
        expression.compile(dialect=compiler_dialect, compile_kwargs={"literal_binds": True})
    )
    # PostgreSQL wants an expression other than a function call in its own parentheses.
    if dialect == "postgresql" and not rendered.startswith("("):
        rendered = f"({rendered})"
    return rendered


def index_expression(code: str, item_type: ItemType, dialect: str) -> str:
    """Render the DDL of the expression index of an `indexed` item, on what filters emit."""
    key = index_key(code, item_type, dialect)
    if dialect == "postgresql":
        return f'CREATE INDEX CONCURRENTLY IF NOT EXISTS {index_name(code)} ON "case" ({key})'
    return f'CREATE INDEX IF NOT EXISTS {index_name(code)} ON "case" ({key})'
