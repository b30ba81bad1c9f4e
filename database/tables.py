"""The whole set of fixed tables, for what needs all of them at once.

Alembic (migrations/env.py, `alembic check`) and the test database read `Base.metadata`, which
knows a table only once its module is imported: importing this module imports them all. Code
that uses a table imports it from its own module (`database.case_tables`, …). Business types
never add tables or columns: case data is one JSON column.

Alembic migrations create these tables; `alembic check` in CI keeps the two in step. The
migrations name `database.tables.UtcDateTime`, as autogenerate wrote it.
"""

from __future__ import annotations

from database import (
    archive_tables,
    case_tables,
    fee_tables,
    metadata_tables,
    security_tables,
)
from database.table_base import Base, UtcDateTime

TABLE_MODULES = (archive_tables, case_tables, fee_tables, metadata_tables, security_tables)
"""Every module that defines tables; each adds its tables to `Base.metadata` when imported."""

__all__ = ["TABLE_MODULES", "Base", "UtcDateTime"]
