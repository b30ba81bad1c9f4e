"""Tables of fees: the fee rules and their saved versions, fees assessed on cases, payments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from database.table_base import Base, Id


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
    pay_at: Mapped[str | None] = mapped_column(String(63))
    """The stage that waits for payment; None: any stage that requires payment."""
    paid: Mapped[str] = mapped_column(String(40), server_default="0.00")
    """Payments less refunds: DUE while below the amount."""


class PaymentRow(Base):
    """A payment of a fee (实收) or a refund of one: method, reference, invoice, who recorded it."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    fee_item_id: Mapped[int] = mapped_column(ForeignKey("fee_item.id"), index=True)
    amount: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(200))
    paid_at: Mapped[dt.datetime]
    recorded_by: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(16), server_default="PAYMENT")
    """PAYMENT or REFUND (the amount is positive either way)."""
    invoice_no: Mapped[str | None] = mapped_column(String(63))
    reason: Mapped[str | None] = mapped_column(Text)
    """Why a refund was made; None for a payment."""
