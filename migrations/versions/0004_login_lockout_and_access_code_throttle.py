"""login lockout and access code throttle

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 02:18:36.662627
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import database.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", database.tables.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_access_throttle")),
    )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("last_failed_at", database.tables.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("locked_until", database.tables.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("last_failed_at")
        batch_op.drop_column("failed_logins")

    op.drop_table("access_throttle")
