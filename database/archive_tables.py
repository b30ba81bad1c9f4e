"""Tables of the customer file (用户档案) that archive effects write.

A customer (户) has a status, its contracted and suspended capacity, supply sources, meters
with their history (a removed meter stays, REMOVED, with its final reading), contracts with
their term and status, and capacity periods (暂停, 减容, 暂换, 暂拆) opened and closed by cases.
Values taken from case data are kept as text in their canonical form (capacities "630.00"),
as the items that filled them wrote them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from database.table_base import Base, Id


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
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE", server_default="ACTIVE")
    """ACTIVE, SUSPENDED, TEMPORARY or CLOSED (metamodel.effect_specs.CustomerStatus)."""
    meter_reading_segment: Mapped[str | None] = mapped_column(String(63))
    """抄表段: the reading route the account is read on."""
    suspended_capacity: Mapped[str | None] = mapped_column(String(40))
    """Capacity out of use under open SUSPENSION or REDUCTION periods (None: none)."""
    archive_no: Mapped[str | None] = mapped_column(String(63))
    """档案号 of the paper file."""
    archive_location: Mapped[str | None] = mapped_column(String(200))
    """Where the paper file is kept."""
    closed_at: Mapped[dt.datetime | None]
    """When the account was closed (销户, or absorbed by 并户)."""
    merged_into: Mapped[str | None] = mapped_column(String(32))
    """The 户号 that absorbed this account (并户)."""
    parent_number: Mapped[str | None] = mapped_column(String(32))
    """The 户号 this account was split from (分户) or created under (小区新装)."""


class MeterRow(Base):
    """A metering point of a customer: asset number, CT and PT ratios, 综合倍率, start reading."""

    __tablename__ = "meter"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    """The case that installed it; None for a meter imported from an earlier system."""
    asset_no: Mapped[str] = mapped_column(String(63))
    ct_ratio: Mapped[str | None] = mapped_column(String(40))
    pt_ratio: Mapped[str | None] = mapped_column(String(40))
    multiplier: Mapped[str | None] = mapped_column(String(40))
    start_reading: Mapped[str | None] = mapped_column(String(40))
    installed_at: Mapped[dt.datetime]
    purpose: Mapped[str | None] = mapped_column(String(32))
    """What the meter measures: e.g. GRID, GENERATION, BIDIRECTIONAL (a code of the item)."""
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE", server_default="ACTIVE")
    """ACTIVE, or REMOVED (kept with its final reading as the meter's history)."""
    final_reading: Mapped[str | None] = mapped_column(String(40))
    """止码: the reading when the meter was removed."""
    removed_at: Mapped[dt.datetime | None]
    removed_by_case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))


class ContractRow(Base):
    """A supply contract (供用电合同) signed or changed by a case."""

    __tablename__ = "contract"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    """The case that signed it; None for a contract imported from an earlier system."""
    number: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    signed_at: Mapped[dt.datetime]
    """When the contract was recorded (the archive time)."""
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE", server_default="ACTIVE")
    """ACTIVE, or TERMINATED."""
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    """The signing date entered on the case (else the day it was archived)."""
    term_months: Mapped[int | None] = mapped_column(Integer)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    terminated_on: Mapped[dt.date | None] = mapped_column(Date)
    terminated_by_case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    amended_on: Mapped[dt.date | None] = mapped_column(Date)
    """The last amendment's date (变更用电 amends the contract)."""
    amended_by_case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))


class SupplySourceRow(Base):
    """A supply source of a customer (供电电源): MAIN or BACKUP, substation, feeder, boundary."""

    __tablename__ = "supply_source"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str | None] = mapped_column(String(32))
    substation: Mapped[str | None] = mapped_column(String(200))
    feeder: Mapped[str | None] = mapped_column(String(200))
    capacity_kva: Mapped[str | None] = mapped_column(String(40))
    boundary: Mapped[str | None] = mapped_column(String(200))


class CapacityPeriodRow(Base):
    """A period of part or all of a customer's capacity out of use: 暂停, 减容, 暂换 or 暂拆.

    Opened by one case (SUSPEND) and closed by another (RESTORE); an open period has no
    `restored_on`.
    """

    __tablename__ = "capacity_period"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    kind: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[str | None] = mapped_column(String(40))
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    restored_on: Mapped[dt.date | None] = mapped_column(Date)
    restored_by_case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))


class SequenceRow(Base):
    """Named counters (customer numbers, contract numbers)."""

    __tablename__ = "sequence_counter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)
