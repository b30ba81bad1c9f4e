"""Tables of what administrators define: the metamodel, the organisation, the calendar.

The data dictionary, stages, posts, org units, business types and their versions, who is
responsible for what, reorganisations of posts and the working calendar; every change to them
bumps `metadata_revision`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from database.table_base import Base, Id, JsonColumn


class MetadataRevisionRow(Base):
    """One row: the revision of all metadata the schema depends on, bumped by every change."""

    __tablename__ = "metadata_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, nullable=False)
    changed_at: Mapped[dt.datetime]
    reference_revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Moved by a trigger on every write to the reference tables (names, calendar, routing)."""
    security_revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Moved by a trigger on every write to `app_user` and `user_post` (who may do what)."""


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


class CalendarDayRow(Base):
    """A per-date override of the holiday library: a working day or not, and why."""

    __tablename__ = "calendar_day"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime]


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
