"""customer file: statuses, meter history, contract terms, supply sources, capacity periods

Archive effects (metamodel.effect_specs) keep a customer file a utility would keep: an account
has a status, removed meters stay with their final reading, contracts carry their signing date,
term, expiry and status, and 暂停/减容/暂换/暂拆 open capacity periods that a restore closes.

Existing rows are carried forward: every customer, meter and contract is ACTIVE; a contract's
signing date is the day (Asia/Shanghai) it was archived; a customer whose contract is a
temporary-supply one is TEMPORARY. A meter or contract may now have no case: one imported from
an earlier system was installed or signed by none.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 16:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import database.tables

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "capacity_period",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("capacity", sa.String(length=40), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("restored_on", sa.Date(), nullable=True),
        sa.Column(
            "restored_by_case_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_capacity_period_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_capacity_period_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["restored_by_case_id"],
            ["case.id"],
            name=op.f("fk_capacity_period_restored_by_case_id_case"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_period")),
    )
    with op.batch_alter_table("capacity_period", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_capacity_period_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "supply_source",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("substation", sa.String(length=200), nullable=True),
        sa.Column("feeder", sa.String(length=200), nullable=True),
        sa.Column("capacity_kva", sa.String(length=40), nullable=True),
        sa.Column("boundary", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_supply_source_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_supply_source_customer_id_customer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_source")),
    )
    with op.batch_alter_table("supply_source", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_source_customer_id"), ["customer_id"], unique=False
        )

    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="ACTIVE", nullable=False)
        )
        batch_op.add_column(sa.Column("signed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("term_months", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("expires_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("terminated_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "terminated_by_case_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.alter_column("case_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.add_column(sa.Column("amended_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "amended_by_case_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_contract_amended_by_case_id_case"),
            "case",
            ["amended_by_case_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_contract_terminated_by_case_id_case"),
            "case",
            ["terminated_by_case_id"],
            ["id"],
        )

    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="ACTIVE", nullable=False)
        )
        batch_op.add_column(sa.Column("meter_reading_segment", sa.String(length=63), nullable=True))
        batch_op.add_column(sa.Column("suspended_capacity", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("archive_no", sa.String(length=63), nullable=True))
        batch_op.add_column(sa.Column("archive_location", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("closed_at", database.tables.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("merged_into", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("parent_number", sa.String(length=32), nullable=True))

    with op.batch_alter_table("meter", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.add_column(sa.Column("purpose", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="ACTIVE", nullable=False)
        )
        batch_op.add_column(sa.Column("final_reading", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("removed_at", database.tables.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "removed_by_case_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_meter_removed_by_case_id_case"), "case", ["removed_by_case_id"], ["id"]
        )

    _carry_forward()


def _carry_forward() -> None:
    """Existing contracts were signed the day they were archived; temporary supply is TEMPORARY."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE contract SET signed_on = (signed_at AT TIME ZONE 'Asia/Shanghai')::date "
            "WHERE signed_on IS NULL"
        )
    else:
        op.execute(
            "UPDATE contract SET signed_on = date(signed_at, '+8 hours') WHERE signed_on IS NULL"
        )
    op.execute(
        "UPDATE customer SET status = 'TEMPORARY' WHERE EXISTS (SELECT 1 FROM contract k "
        "WHERE k.customer_id = customer.id AND k.type = 'TEMPORARY')"
    )


def downgrade() -> None:
    with op.batch_alter_table("meter", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_meter_removed_by_case_id_case"), type_="foreignkey")
        batch_op.drop_column("removed_by_case_id")
        batch_op.drop_column("removed_at")
        batch_op.drop_column("final_reading")
        batch_op.drop_column("status")
        batch_op.drop_column("purpose")
        batch_op.alter_column("case_id", existing_type=sa.BigInteger(), nullable=False)

    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("parent_number")
        batch_op.drop_column("merged_into")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("archive_location")
        batch_op.drop_column("archive_no")
        batch_op.drop_column("suspended_capacity")
        batch_op.drop_column("meter_reading_segment")
        batch_op.drop_column("status")

    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_contract_terminated_by_case_id_case"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_contract_amended_by_case_id_case"), type_="foreignkey"
        )
        batch_op.drop_column("amended_by_case_id")
        batch_op.drop_column("amended_on")
        batch_op.alter_column("case_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column("terminated_by_case_id")
        batch_op.drop_column("terminated_on")
        batch_op.drop_column("expires_on")
        batch_op.drop_column("term_months")
        batch_op.drop_column("signed_on")
        batch_op.drop_column("status")

    with op.batch_alter_table("supply_source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_source_customer_id"))

    op.drop_table("supply_source")
    with op.batch_alter_table("capacity_period", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capacity_period_customer_id"))

    op.drop_table("capacity_period")
