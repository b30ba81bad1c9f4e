"""reference revision moved by triggers

Every process keeps the reference data (business type and org unit codes, stage and post names,
the calendar, responsibilities, fee rules) in memory and checks one number per request to know
whether it is still current. Triggers move that number on every write to those tables, whoever
writes them (the API, the CLI, a migration, a hand-written UPDATE), so no writer can forget to.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERENCE_TABLES = (
    "business_type",
    "business_type_version",
    "org_unit",
    "stage",
    "post",
    "data_item",
    "calendar_day",
    "responsibility",
    "fee_rule",
)
"""The tables whose rows every process caches between requests."""

TOUCH = "UPDATE metadata_revision SET reference_revision = reference_revision + 1 WHERE id = 1"


def upgrade() -> None:
    with op.batch_alter_table("metadata_revision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reference_revision", sa.BigInteger(), server_default="0", nullable=False)
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION yekuo_touch_reference() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {TOUCH}; RETURN NULL; END $$"
        )
        for table in REFERENCE_TABLES:
            op.execute(
                f"CREATE TRIGGER touch_reference AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION yekuo_touch_reference()"
            )
        return
    for table in REFERENCE_TABLES:  # SQLite: row triggers only
        for change in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER touch_reference_{table}_{change.lower()} AFTER {change} "
                f"ON {table} BEGIN {TOUCH}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in REFERENCE_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS touch_reference ON {table}")
        op.execute("DROP FUNCTION IF EXISTS yekuo_touch_reference()")
    else:
        for table in REFERENCE_TABLES:
            for change in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS touch_reference_{table}_{change}")
    with op.batch_alter_table("metadata_revision", schema=None) as batch_op:
        batch_op.drop_column("reference_revision")
