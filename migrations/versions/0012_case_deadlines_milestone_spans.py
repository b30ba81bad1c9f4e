"""case deadlines: the milestone spans of each case

A business type may declare spans (方案答复 counted from 受理, …): each case keeps one row per
span once it started, with its running timer, its due and warning instants, when it was met,
and the warning and breach the sweep recorded. No existing data changes: cases started before
have no spans.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 16:46:15.296616
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import database.tables

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_deadline",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=63), nullable=False),
        sa.Column("started_at", database.table_base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("met_at", database.table_base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("due_at", database.table_base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("warn_at", database.table_base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("warned_at", database.table_base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("breached_at", database.table_base.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "timer",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_deadline_case_id_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_deadline")),
        sa.UniqueConstraint("case_id", "code", name=op.f("uq_case_deadline_case_id")),
    )
    with op.batch_alter_table("case_deadline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_deadline_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_deadline_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_deadline_warn_at"), ["warn_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_deadline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_deadline_warn_at"))
        batch_op.drop_index(batch_op.f("ix_case_deadline_due_at"))
        batch_op.drop_index(batch_op.f("ix_case_deadline_case_id"))

    op.drop_table("case_deadline")
