"""Reading fees: a page's fees in one statement, and a fee's payments, as records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from database.fee_tables import FeeItemRow, PaymentRow
from database.records import FeeRecord, PaymentRecord


def fee_record(row: FeeItemRow | Any) -> FeeRecord:
    """A copy of a fee row (also for a command that holds the row it just wrote)."""
    return FeeRecord(
        id=row.id,
        case_id=row.case_id,
        code=row.code,
        name=row.name,
        stage=row.stage,
        amount=row.amount,
        status=row.status,
        rule_version=row.rule_version,
        inputs=dict(row.inputs),
        explanation=row.explanation,
        assessed_at=row.assessed_at,
        settled_at=row.settled_at,
        waived_reason=row.waived_reason,
        pay_at=row.pay_at,
        paid=row.paid,
    )


def payment_record(row: PaymentRow) -> PaymentRecord:
    """A copy of a payment row."""
    return PaymentRecord(
        id=row.id,
        fee_item_id=row.fee_item_id,
        amount=row.amount,
        method=row.method,
        reference=row.reference,
        paid_at=row.paid_at,
        recorded_by=row.recorded_by,
        kind=row.kind,
        invoice_no=row.invoice_no,
        reason=row.reason,
    )


async def fees(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, list[FeeRecord]]:
    """The fees of several cases, in assessment order, by case id."""
    rows = await session.scalars(
        select(FeeItemRow).where(FeeItemRow.case_id.in_(case_ids)).order_by(FeeItemRow.id)
    )
    grouped: dict[int, list[FeeRecord]] = {i: [] for i in case_ids}
    for fee in rows:
        grouped[fee.case_id].append(fee_record(fee))
    return grouped


async def payments(session: AsyncSession, fee_item_id: int) -> list[PaymentRecord]:
    """Payments of a fee."""
    rows = await session.scalars(
        select(PaymentRow).where(PaymentRow.fee_item_id == fee_item_id).order_by(PaymentRow.id)
    )
    return [payment_record(r) for r in rows]


async def payments_by_fee(
    session: AsyncSession, fee_item_ids: Sequence[int]
) -> dict[int, list[PaymentRecord]]:
    """Payments and refunds of several fees, oldest first, by fee id."""
    rows = await session.scalars(
        select(PaymentRow).where(PaymentRow.fee_item_id.in_(fee_item_ids)).order_by(PaymentRow.id)
    )
    grouped: dict[int, list[PaymentRecord]] = {i: [] for i in fee_item_ids}
    for row in rows:
        grouped[row.fee_item_id].append(payment_record(row))
    return grouped
