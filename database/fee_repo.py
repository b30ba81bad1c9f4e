"""Fee rules (versioned), fees assessed on cases, and payments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from database.fee_tables import FeeItemRow, FeeRuleRow, FeeRuleVersionRow, PaymentRow
from metamodel import serialization
from metamodel.specs import FeeRuleSpec


async def save_rule(
    session: AsyncSession, rule: FeeRuleSpec, *, by: str, now: dt.datetime
) -> tuple[int, bool]:
    """Store a rule; a changed rule gets the next version. Returns (version, changed)."""
    spec = serialization.fee_rule_to_dict(rule)
    row = await session.scalar(
        select(FeeRuleRow).where(FeeRuleRow.code == rule.code).with_for_update()
    )
    if row is not None and row.spec == spec:
        return row.version, False
    if row is None:
        row = FeeRuleRow(
            code=rule.code, version=1, status=rule.status.value, spec=spec, updated_at=now
        )
        session.add(row)
    else:
        row.version, row.status, row.spec, row.updated_at = (
            row.version + 1,
            rule.status.value,
            spec,
            now,
        )
    await session.flush()
    session.add(
        FeeRuleVersionRow(
            fee_rule_id=row.id, version=row.version, spec=spec, saved_at=now, saved_by=by
        )
    )
    await session.flush()
    return row.version, True


async def rules(session: AsyncSession) -> list[tuple[FeeRuleSpec, int]]:
    """Every fee rule as it is now, with its version, by code."""
    rows = (await session.scalars(select(FeeRuleRow).order_by(FeeRuleRow.code))).all()
    return [(serialization.fee_rule_from_dict(r.spec), r.version) for r in rows]


class FeeStatus:
    """Fee statuses (the API's FeeStatus enum)."""

    DUE = "DUE"
    PAID = "PAID"
    WAIVED = "WAIVED"


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment (or, `kind` REFUND, a refund) to record against a fee."""

    amount: str
    method: str
    reference: str | None
    paid_at: dt.datetime
    recorded_by: str
    kind: str = "PAYMENT"
    invoice_no: str | None = None
    reason: str | None = None


async def settle(
    session: AsyncSession, fee_id: int, *, status: str, now: dt.datetime, reason: str | None = None
) -> None:
    """Mark a fee WAIVED (with the reason): settled without money."""
    await session.execute(
        update(FeeItemRow)
        .where(FeeItemRow.id == fee_id)
        .values(status=status, settled_at=now, waived_reason=reason)
    )


async def take(
    session: AsyncSession,
    fee_id: int,
    *,
    status: str,
    paid: str,
    settled_at: dt.datetime | None,
    payment: Payment,
) -> None:
    """Record a payment or refund and the fee's new takings (PAID once they cover the amount)."""
    await session.execute(
        update(FeeItemRow)
        .where(FeeItemRow.id == fee_id)
        .values(status=status, paid=paid, settled_at=settled_at)
    )
    await session.execute(
        insert(PaymentRow).values(
            fee_item_id=fee_id,
            amount=payment.amount,
            method=payment.method,
            reference=payment.reference,
            paid_at=payment.paid_at,
            recorded_by=payment.recorded_by,
            kind=payment.kind,
            invoice_no=payment.invoice_no,
            reason=payment.reason,
        )
    )
