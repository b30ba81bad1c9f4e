"""Tables of running cases: cases, their stages and tasks, their history and their numbers.

Business types never add tables or columns: case data is one JSON column.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from casework import history
from database.table_base import Base, Id, JsonColumn


class CaseRow(Base):
    """An application case; its data items live in `data`, validated by the item codecs."""

    __tablename__ = "case"
    __table_args__ = (
        # Each ends with the id: pages are ordered by their keys, then the id (keyset pages).
        Index("ix_case_business_type_created", "business_type_id", "created_at", "id"),
        Index("ix_case_status_created", "status", "created_at", "id"),
        Index("ix_case_created_at", "created_at", "id"),
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


class CaseSpanRow(Base):
    """A milestone span of a case (`casework.spans`): one row per span code once it started.

    `due_at` and `warn_at` are known while it runs; a met span keeps the due date it last had,
    so a list of deadlines can show what it was measured against.
    """

    __tablename__ = "case_deadline"
    __table_args__ = (UniqueConstraint("case_id", "code"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    code: Mapped[str] = mapped_column(String(63))
    started_at: Mapped[dt.datetime]
    met_at: Mapped[dt.datetime | None]
    due_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    warn_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    warned_at: Mapped[dt.datetime | None]
    breached_at: Mapped[dt.datetime | None]
    timer: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)


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
