"""The fixed tables. Business types never add tables or columns: case data is one JSON column.

Alembic migrations create these tables; `alembic check` in CI keeps the two in step.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from casework import history

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonColumn = JSON().with_variant(postgresql.JSONB(), "postgresql")
"""JSONB on PostgreSQL (indexable, compact), JSON text on SQLite."""

Id = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit keys; SQLite only autoincrements an INTEGER PRIMARY KEY."""


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on both databases (SQLite keeps no zone, so it is restored on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Refuse naive datetimes: a time without a zone is a bug waiting to happen."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        """Return aware UTC datetimes."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """The declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UtcDateTime(),
        dict[str, Any]: JsonColumn,
    }


class MetadataRevisionRow(Base):
    """One row: the revision of all metadata the schema depends on, bumped by every change."""

    __tablename__ = "metadata_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, nullable=False)
    changed_at: Mapped[dt.datetime]
    reference_revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Moved by a trigger on every write to the reference tables (names, calendar, routing)."""


class DataItemRow(Base):
    """An entry of the data dictionary; `spec` holds the whole definition."""

    __tablename__ = "data_item"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(63), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime]


class StageRow(Base):
    """A stage of the stage library."""

    __tablename__ = "stage"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime]


class PostRow(Base):
    """A post (岗位)."""

    __tablename__ = "post"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime]


class OrgUnitRow(Base):
    """A unit of the org tree; `path` (`/root/city/county/`) makes subtree queries cheap."""

    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    path: Mapped[str] = mapped_column(String(2000), index=True)
    updated_at: Mapped[dt.datetime]


class BusinessTypeRow(Base):
    """A business type: its editable draft and a pointer to its latest published version."""

    __tablename__ = "business_type"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    group: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    draft: Mapped[dict[str, Any]]
    draft_updated_at: Mapped[dt.datetime]
    latest_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]


class BusinessTypeVersionRow(Base):
    """A published version, frozen: never updated once written."""

    __tablename__ = "business_type_version"
    __table_args__ = (UniqueConstraint("business_type_id", "version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    business_type_id: Mapped[int] = mapped_column(ForeignKey("business_type.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]]
    published_at: Mapped[dt.datetime]
    published_by: Mapped[str] = mapped_column(String(63))


class ResponsibilityRow(Base):
    """(business type or all, stage, org unit or all) -> post from a date; never deleted."""

    __tablename__ = "responsibility"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    business_type_id: Mapped[int | None] = mapped_column(ForeignKey("business_type.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id"), index=True)
    effective_from: Mapped[dt.datetime]
    effective_to: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(63))


class UserRow(Base):
    """A person who signs in. `token_epoch` changes when tokens issued before must stop working."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JsonColumn)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    token_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]


class UserPostRow(Base):
    """Which posts a user holds."""

    __tablename__ = "user_post"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id"), primary_key=True)


class CaseRow(Base):
    """An application case; its data items live in `data`, validated by the item codecs."""

    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_business_type_created", "business_type_id", "created_at"),
        Index("ix_case_status_created", "status", "created_at"),
        Index("ix_case_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    business_type_id: Mapped[int] = mapped_column(ForeignKey("business_type.id"))
    business_type_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    customer_number: Mapped[str | None] = mapped_column(String(32), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    submitted_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    due_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    warn_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    warned_at: Mapped[dt.datetime | None]
    breached_at: Mapped[dt.datetime | None]
    timer: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)
    version: Mapped[int] = mapped_column(Integer, default=1)
    access_code_hash: Mapped[str | None] = mapped_column(String(200))
    history_length: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """How many events the case's history has: removing the last ones shows."""
    history_head: Mapped[str] = mapped_column(
        String(64), default=history.GENESIS, server_default=history.GENESIS
    )
    """The hash of the history's last event (its head)."""
    history_mac: Mapped[str | None] = mapped_column(String(64))
    """HMAC over (id, length, head) with a key kept outside the database; null: not sealed."""
    history_key_id: Mapped[str | None] = mapped_column(String(32))
    """Which key made `history_mac`, so keys can rotate (`yekuo history rekey`)."""


class StageInstanceRow(Base):
    """One visit of a case to a stage; a RETURN makes a new row, so visits are never rewritten."""

    __tablename__ = "stage_instance"
    __table_args__ = (Index("ix_stage_instance_case", "case_id", "status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    stage: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(16))
    entered_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(63))
    due_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    warn_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    warned_at: Mapped[dt.datetime | None]
    breached_at: Mapped[dt.datetime | None]
    timer: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)
    splits: Mapped[list[int]] = mapped_column(JsonColumn, default=list, server_default="[]")
    arrivals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class TaskRow(Base):
    """Work on one stage visit, routed to a post; `post` is null in the unassigned queue."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_post_status", "post", "status"),
        Index("ix_task_assignee_status", "assignee_id", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    stage_instance_id: Mapped[int] = mapped_column(ForeignKey("stage_instance.id"), unique=True)
    stage: Mapped[str] = mapped_column(String(63))
    post: Mapped[str | None] = mapped_column(String(63))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(63))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    claimed_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    due_at: Mapped[dt.datetime | None]


class CalendarDayRow(Base):
    """A per-date override of the holiday library: a working day or not, and why."""

    __tablename__ = "calendar_day"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime]


class CustomerRow(Base):
    """The customer archive (用户档案): written from case data when a case completes."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(500))
    electricity_category: Mapped[str | None] = mapped_column(String(63))
    capacity: Mapped[str | None] = mapped_column(String(40))
    voltage_level: Mapped[str | None] = mapped_column(String(63))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    """The unit the customer belongs to (its first case's): it scopes who may read or name it;
    none (imported, unknown) leaves the customer to administrators."""
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class MeterRow(Base):
    """A metering point of a customer: asset number, CT and PT ratios, 综合倍率, start reading."""

    __tablename__ = "meter"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    asset_no: Mapped[str] = mapped_column(String(63))
    ct_ratio: Mapped[str | None] = mapped_column(String(40))
    pt_ratio: Mapped[str | None] = mapped_column(String(40))
    multiplier: Mapped[str | None] = mapped_column(String(40))
    start_reading: Mapped[str | None] = mapped_column(String(40))
    installed_at: Mapped[dt.datetime]


class ContractRow(Base):
    """A supply contract (供用电合同) signed or changed by a case."""

    __tablename__ = "contract"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    signed_at: Mapped[dt.datetime]


class SequenceRow(Base):
    """Named counters (customer numbers, contract numbers)."""

    __tablename__ = "sequence_counter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


class FeeRuleRow(Base):
    """A fee rule as it is now; every saved form is kept in fee_rule_version."""

    __tablename__ = "fee_rule"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(63), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime]


class FeeRuleVersionRow(Base):
    """A saved form of a fee rule; fees assessed with it name its version."""

    __tablename__ = "fee_rule_version"
    __table_args__ = (UniqueConstraint("fee_rule_id", "version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    fee_rule_id: Mapped[int] = mapped_column(ForeignKey("fee_rule.id"))
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]]
    saved_at: Mapped[dt.datetime]
    saved_by: Mapped[str] = mapped_column(String(63))


class FeeItemRow(Base):
    """A fee assessed on a case: amount, status, and the rule version and inputs behind it."""

    __tablename__ = "fee_item"
    __table_args__ = (UniqueConstraint("case_id", "code"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    code: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(63))
    amount: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    rule_version: Mapped[int] = mapped_column(Integer)
    inputs: Mapped[dict[str, Any]]
    explanation: Mapped[str] = mapped_column(Text)
    assessed_at: Mapped[dt.datetime]
    settled_at: Mapped[dt.datetime | None]
    waived_reason: Mapped[str | None] = mapped_column(Text)


class PaymentRow(Base):
    """A payment of a fee (实收): method, reference, who recorded it."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    fee_item_id: Mapped[int] = mapped_column(ForeignKey("fee_item.id"), index=True)
    amount: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(200))
    paid_at: Mapped[dt.datetime]
    recorded_by: Mapped[str] = mapped_column(String(63))


class AccessThrottleRow(Base):
    """Wrong guesses at a secret counted under one key (see `database.throttle_repo`).

    The key is a digest: no username, case number or address is kept. A row past `expires_at`
    (its counting window over, no lock-out running) says nothing and is deleted.
    """

    __tablename__ = "access_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[dt.datetime]
    locked_until: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class ReorganizationRow(Base):
    """A reorganisation of posts (reorganizePosts), kept for good.

    Its moves, when they take effect, and whether its open tasks have moved: a PENDING one
    waits for `yekuo sweep`.
    """

    __tablename__ = "reorganization"
    __table_args__ = (Index("ix_reorganization_status_effective", "status", "effective_from"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    moves: Mapped[list[dict[str, Any]]] = mapped_column(JsonColumn)
    effective_from: Mapped[dt.datetime]
    reassign_open_tasks: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    moved_responsibilities: Mapped[int] = mapped_column(Integer)
    reassigned_tasks: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(63))
    applied_at: Mapped[dt.datetime | None]


class CaseNumberCounterRow(Base):
    """The last case number handed out per day, so numbers read as YYYYMMDD + sequence."""

    __tablename__ = "case_number_counter"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class CaseEventRow(Base):
    """An entry of a case's hash-chained history; appended, never changed."""

    __tablename__ = "case_event"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(63))
    action: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]]
    metadata_version: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class IdempotencyKeyRow(Base):
    """The first result of a request carrying an idempotency key, so a retry returns it."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(200))
    result: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime]
