"""reorganizations of posts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 03:03:36.599799
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import database.tables

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reorganization",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "moves",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("effective_from", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("reassign_open_tasks", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("moved_responsibilities", sa.Integer(), nullable=False),
        sa.Column("reassigned_tasks", sa.Integer(), nullable=True),
        sa.Column("created_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=63), nullable=False),
        sa.Column("applied_at", database.tables.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reorganization")),
    )
    with op.batch_alter_table("reorganization", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reorganization_status_effective", ["status", "effective_from"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reorganization", schema=None) as batch_op:
        batch_op.drop_index("ix_reorganization_status_effective")

    op.drop_table("reorganization")
