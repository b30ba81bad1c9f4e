"""fees and payments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 02:14:43.141766
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import database.tables

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fee_rule",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "spec",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_rule")),
        sa.UniqueConstraint("code", name=op.f("uq_fee_rule_code")),
    )
    op.create_table(
        "fee_rule_version",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "fee_rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "spec",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("saved_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(
            ["fee_rule_id"], ["fee_rule.id"], name=op.f("fk_fee_rule_version_fee_rule_id_fee_rule")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_rule_version")),
        sa.UniqueConstraint("fee_rule_id", "version", name=op.f("uq_fee_rule_version_fee_rule_id")),
    )
    op.create_table(
        "fee_item",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=63), nullable=False),
        sa.Column("amount", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column(
            "inputs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("assessed_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", database.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("waived_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_fee_item_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_item")),
        sa.UniqueConstraint("case_id", "code", name=op.f("uq_fee_item_case_id")),
    )
    with op.batch_alter_table("fee_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fee_item_case_id"), ["case_id"], unique=False)

    op.create_table(
        "payment",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "fee_item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount", sa.String(length=40), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("paid_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(
            ["fee_item_id"], ["fee_item.id"], name=op.f("fk_payment_fee_item_id_fee_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_fee_item_id"), ["fee_item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_fee_item_id"))

    op.drop_table("payment")
    with op.batch_alter_table("fee_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fee_item_case_id"))

    op.drop_table("fee_item")
    op.drop_table("fee_rule_version")
    op.drop_table("fee_rule")
