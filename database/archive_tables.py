"""Tables of the customer archive (用户档案) completed cases fill: customers, meters, contracts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    ForeignKey,
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
