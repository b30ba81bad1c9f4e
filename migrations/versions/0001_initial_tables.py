"""initial tables

Revision ID: 0001
Revises:
Create Date: 2026-11-30 01:42:16.134121
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import database.tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "business_type",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "draft",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("draft_updated_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=True),
        sa.Column("created_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_type")),
        sa.UniqueConstraint("code", name=op.f("uq_business_type_code")),
    )
    op.create_table(
        "case_number_counter",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_case_number_counter")),
    )
    op.create_table(
        "data_item",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=63), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column(
            "spec",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_item")),
        sa.UniqueConstraint("code", name=op.f("uq_data_item_code")),
    )
    op.create_table(
        "idempotency_key",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_key")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_key_scope")),
    )
    op.create_table(
        "metadata_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadata_revision")),
    )
    # The single revision row every process polls; publishing bumps it.
    op.execute(
        "INSERT INTO metadata_revision (id, revision, changed_at) VALUES (1, 0, CURRENT_TIMESTAMP)"
    )
    op.create_table(
        "org_unit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("path", sa.String(length=2000), nullable=False),
        sa.Column("updated_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["org_unit.id"], name=op.f("fk_org_unit_parent_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_org_unit_code")),
    )
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_unit_path"), ["path"], unique=False)

    op.create_table(
        "post",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("updated_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post")),
        sa.UniqueConstraint("code", name=op.f("uq_post_code")),
    )
    op.create_table(
        "stage",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "spec",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage")),
        sa.UniqueConstraint("code", name=op.f("uq_stage_code")),
    )
    op.create_table(
        "app_user",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("username", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column(
            "roles",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "org_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("token_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_app_user_org_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "business_type_version",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "business_type_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("published_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_type_id"],
            ["business_type.id"],
            name=op.f("fk_business_type_version_business_type_id_business_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_type_version")),
        sa.UniqueConstraint(
            "business_type_id", "version", name=op.f("uq_business_type_version_business_type_id")
        ),
    )
    with op.batch_alter_table("business_type_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_business_type_version_business_type_id"),
            ["business_type_id"],
            unique=False,
        )

    op.create_table(
        "case",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column(
            "business_type_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("business_type_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "org_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("customer_number", sa.String(length=32), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=63), nullable=False),
        sa.Column("created_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", database.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", database.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("due_at", database.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("access_code_hash", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_type_id"],
            ["business_type.id"],
            name=op.f("fk_case_business_type_id_business_type"),
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_case_org_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case")),
        sa.UniqueConstraint("number", name=op.f("uq_case_number")),
    )
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_business_type_created", ["business_type_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_case_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_case_customer_number"), ["customer_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_case_org_unit_id"), ["org_unit_id"], unique=False)
        batch_op.create_index("ix_case_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "responsibility",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "business_type_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("stage_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "org_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("effective_from", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("effective_to", database.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_type_id"],
            ["business_type.id"],
            name=op.f("fk_responsibility_business_type_id_business_type"),
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_responsibility_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name=op.f("fk_responsibility_post_id_post")
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"], ["stage.id"], name=op.f("fk_responsibility_stage_id_stage")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responsibility")),
    )
    with op.batch_alter_table("responsibility", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_responsibility_post_id"), ["post_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_responsibility_stage_id"), ["stage_id"], unique=False)

    op.create_table(
        "case_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=63), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("metadata_version", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_case_event_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event")),
        sa.UniqueConstraint("case_id", "seq", name=op.f("uq_case_event_case_id")),
    )
    op.create_table(
        "stage_instance",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stage", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("entered_at", database.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", database.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=63), nullable=True),
        sa.Column("due_at", database.tables.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_stage_instance_case_id_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_instance")),
    )
    with op.batch_alter_table("stage_instance", schema=None) as batch_op:
        batch_op.create_index("ix_stage_instance_case", ["case_id", "status"], unique=False)

    op.create_table(
        "user_post",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"], name=op.f("fk_user_post_post_id_post")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_user_post_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("user_id", "post_id", name=op.f("pk_user_post")),
    )


def downgrade() -> None:
    op.drop_table("user_post")
    with op.batch_alter_table("stage_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_stage_instance_case")

    op.drop_table("stage_instance")
    op.drop_table("case_event")
    with op.batch_alter_table("responsibility", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_responsibility_stage_id"))
        batch_op.drop_index(batch_op.f("ix_responsibility_post_id"))

    op.drop_table("responsibility")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_status_created")
        batch_op.drop_index(batch_op.f("ix_case_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_case_customer_number"))
        batch_op.drop_index("ix_case_created_at")
        batch_op.drop_index("ix_case_business_type_created")

    op.drop_table("case")
    with op.batch_alter_table("business_type_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_business_type_version_business_type_id"))

    op.drop_table("business_type_version")
    op.drop_table("app_user")
    op.drop_table("stage")
    op.drop_table("post")
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_unit_path"))

    op.drop_table("org_unit")
    op.drop_table("metadata_revision")
    op.drop_table("idempotency_key")
    op.drop_table("data_item")
    op.drop_table("case_number_counter")
    op.drop_table("business_type")
