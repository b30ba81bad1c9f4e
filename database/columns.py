"""Declared widths of string columns, by table and column name, for bounds checked at the edge.

Upper layers bound their inputs by the width of the column a value is written to; they name
the column, and the width is read from the table definitions here, never copied.
"""

from __future__ import annotations

from database.tables import Base


def width(table: str, column: str) -> int:
    """The declared length of a string column (LookupError for an unknown one)."""
    found = Base.metadata.tables.get(table)
    if found is None or column not in found.c:
        raise LookupError(f"no column {table}.{column}")
    length = getattr(found.c[column].type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{table}.{column} has no declared length")
    return length
