"""fees paid at a later stage, partial payments with invoice numbers, refunds

A fee may be paid at a stage after the one that assesses it (`pay_at`, null: any stage that
requires payment, as before). A fee keeps the total paid on it, so a partial payment leaves it
DUE with what is outstanding; a payment row is a PAYMENT or a REFUND (with its reason) and
carries the invoice number. Existing PAID fees were paid in full: their total is their amount.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fee_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pay_at", sa.String(length=63), nullable=True))
        batch_op.add_column(
            sa.Column("paid", sa.String(length=40), server_default="0.00", nullable=False)
        )
    op.execute("UPDATE fee_item SET paid = amount WHERE status = 'PAID'")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="PAYMENT", nullable=False)
        )
        batch_op.add_column(sa.Column("invoice_no", sa.String(length=63), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("invoice_no")
        batch_op.drop_column("kind")
    with op.batch_alter_table("fee_item", schema=None) as batch_op:
        batch_op.drop_column("paid")
        batch_op.drop_column("pay_at")
