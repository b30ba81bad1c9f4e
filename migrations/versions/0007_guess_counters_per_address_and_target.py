"""guess counters per address and target

Failed sign-ins are counted in access_throttle (per address, per account and per pair), so the
counters on app_user go. Rows now expire, and the old counters (one per case number) are
dropped: they were keyed differently and would never be read again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import database.tables

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM access_throttle")
    with op.batch_alter_table("access_throttle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", database.tables.UtcDateTime(timezone=True), nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_access_throttle_expires_at"), ["expires_at"], unique=False
        )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("last_failed_at")
        batch_op.drop_column("failed_logins")


def downgrade() -> None:
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
    op.execute("DELETE FROM access_throttle")
    with op.batch_alter_table("access_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_throttle_expires_at"))
        batch_op.drop_column("expires_at")
