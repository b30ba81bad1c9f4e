"""engine: tasks, timers, calendar, archive

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 01:53:26.202456
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import database.tables

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_day",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("workday", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("updated_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("date", name=op.f("pk_calendar_day")),
    )
    op.create_table(
        "customer",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("id_number", sa.String(length=32), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("electricity_category", sa.String(length=63), nullable=True),
        sa.Column("capacity", sa.String(length=40), nullable=True),
        sa.Column("voltage_level", sa.String(length=63), nullable=True),
        sa.Column("created_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("number", name=op.f("uq_customer_number")),
    )
    op.create_table(
        "sequence_counter",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sequence_counter")),
    )
    op.create_table(
        "contract",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("signed_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_contract_case_id_case")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_contract_customer_id_customer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract")),
        sa.UniqueConstraint("number", name=op.f("uq_contract_number")),
    )
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "meter",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("asset_no", sa.String(length=63), nullable=False),
        sa.Column("ct_ratio", sa.String(length=40), nullable=True),
        sa.Column("pt_ratio", sa.String(length=40), nullable=True),
        sa.Column("multiplier", sa.String(length=40), nullable=True),
        sa.Column("start_reading", sa.String(length=40), nullable=True),
        sa.Column("installed_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_meter_case_id_case")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_meter_customer_id_customer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter")),
    )
    with op.batch_alter_table("meter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meter_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "task",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "stage_instance_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("stage", sa.String(length=63), nullable=False),
        sa.Column("post", sa.String(length=63), nullable=True),
        sa.Column(
            "org_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "assignee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=63), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", database.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", database.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("due_at", database.tables.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["app_user.id"], name=op.f("fk_task_assignee_id_app_user")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_task_case_id_case")),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_task_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["stage_instance_id"],
            ["stage_instance.id"],
            name=op.f("fk_task_stage_instance_id_stage_instance"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
        sa.UniqueConstraint("stage_instance_id", name=op.f("uq_task_stage_instance_id")),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_assignee_status", ["assignee_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_org_unit_id"), ["org_unit_id"], unique=False)
        batch_op.create_index("ix_task_post_status", ["post", "status"], unique=False)

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("warn_at", database.tables.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("warned_at", database.tables.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("breached_at", database.tables.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "timer",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.create_index(batch_op.f("ix_case_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_warn_at"), ["warn_at"], unique=False)

    with op.batch_alter_table("stage_instance", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("warn_at", database.tables.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("warned_at", database.tables.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("breached_at", database.tables.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "timer",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "splits",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )
        batch_op.add_column(sa.Column("arrivals", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_stage_instance_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_stage_instance_warn_at"), ["warn_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stage_instance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_instance_warn_at"))
        batch_op.drop_index(batch_op.f("ix_stage_instance_due_at"))
        batch_op.drop_column("arrivals")
        batch_op.drop_column("splits")
        batch_op.drop_column("timer")
        batch_op.drop_column("breached_at")
        batch_op.drop_column("warned_at")
        batch_op.drop_column("warn_at")

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_warn_at"))
        batch_op.drop_index(batch_op.f("ix_case_due_at"))
        batch_op.drop_column("timer")
        batch_op.drop_column("breached_at")
        batch_op.drop_column("warned_at")
        batch_op.drop_column("warn_at")

    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_post_status")
        batch_op.drop_index(batch_op.f("ix_task_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_task_case_id"))
        batch_op.drop_index("ix_task_assignee_status")

    op.drop_table("task")
    with op.batch_alter_table("meter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meter_customer_id"))

    op.drop_table("meter")
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_customer_id"))

    op.drop_table("contract")
    op.drop_table("sequence_counter")
    op.drop_table("customer")
    op.drop_table("calendar_day")
