"""security revision moved by triggers; case list indexes end with the id

Every process keeps the callers it has seen in memory, keyed by their token, and checks one
number per request to know whether they still hold: the security revision, which triggers move
on every write to `app_user` and `user_post` (a role, post, unit, lock-out or token epoch
changed), whoever writes them. The stamp read that checks the reference data reads it too, so
an authenticated request costs no statement of its own to know its caller.

The list indexes gain the id as their last column: a page is ordered by its keys and then the
id, and a keyset page starts after `(created_at, id)`; an index that ends with the id serves
both the order and the start without sorting.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 13:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECURITY_TABLES = ("app_user", "user_post")
"""The tables a caller's principal is read from (org units move the reference revision)."""

TOUCH = "UPDATE metadata_revision SET security_revision = security_revision + 1 WHERE id = 1"

LIST_INDEXES = {
    "ix_case_business_type_created": ("business_type_id", "created_at"),
    "ix_case_status_created": ("status", "created_at"),
    "ix_case_created_at": ("created_at",),
}


def _touch_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION yekuo_touch_security() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {TOUCH}; RETURN NULL; END $$"
        )
        for table in SECURITY_TABLES:
            op.execute(
                f"CREATE TRIGGER touch_security AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION yekuo_touch_security()"
            )
        return
    for table in SECURITY_TABLES:  # SQLite: row triggers only
        for change in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER touch_security_{table}_{change.lower()} AFTER {change} "
                f"ON {table} BEGIN {TOUCH}; END"
            )


def upgrade() -> None:
    # A plain ADD COLUMN: SQLite's batch mode would rebuild the table under 0009's triggers.
    op.add_column(
        "metadata_revision",
        sa.Column("security_revision", sa.BigInteger(), server_default="0", nullable=False),
    )
    _touch_triggers()
    for name, columns in LIST_INDEXES.items():
        op.drop_index(name, table_name="case")
        op.create_index(name, "case", [*columns, "id"])


def downgrade() -> None:
    for name, columns in LIST_INDEXES.items():
        op.drop_index(name, table_name="case")
        op.create_index(name, "case", list(columns))
    if op.get_bind().dialect.name == "postgresql":
        for table in SECURITY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS touch_security ON {table}")
        op.execute("DROP FUNCTION IF EXISTS yekuo_touch_security()")
    else:
        for table in SECURITY_TABLES:
            for change in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS touch_security_{table}_{change}")
    op.execute("ALTER TABLE metadata_revision DROP COLUMN security_revision")
