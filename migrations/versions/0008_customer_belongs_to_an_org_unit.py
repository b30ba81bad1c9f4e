"""customer belongs to an org unit

A customer is read and named within the org unit it belongs to, as cases are, so the archive
of one unit is not open to another's staff. Existing customers take the unit of the case that
created them (the case of their first contract); customers no case created keep none.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 08:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "org_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_index(batch_op.f("ix_customer_org_unit_id"), ["org_unit_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_customer_org_unit_id_org_unit"), "org_unit", ["org_unit_id"], ["id"]
        )
    # The case that created a customer signed its first contract.
    op.execute(
        """
        UPDATE customer SET org_unit_id = (
            SELECT c.org_unit_id FROM contract k JOIN "case" c ON c.id = k.case_id
            WHERE k.customer_id = customer.id ORDER BY k.id LIMIT 1
        )
        WHERE org_unit_id IS NULL
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_customer_org_unit_id_org_unit"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_customer_org_unit_id"))
        batch_op.drop_column("org_unit_id")
