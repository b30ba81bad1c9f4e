"""Fee rules (versioned), fees assessed on cases, and payments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.fees import Assessment
from casework.model import Event
from database.tables import FeeItemRow, FeeRuleRow, FeeRuleVersionRow
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


async def fee(session: AsyncSession, case_id: int, code: str) -> FeeItemRow | None:
    """One fee of a case by rule code."""
    return await session.scalar(
        select(FeeItemRow).where(FeeItemRow.case_id == case_id, FeeItemRow.code == code)
    )


async def record(
    session: AsyncSession, case_id: int, assessments: Sequence[Assessment], *, now: dt.datetime
) -> list[Event]:
    """Store assessed fees; a fee still DUE is reassessed, a PAID or WAIVED one is kept."""
    events: list[Event] = []
    for found in assessments:
        row = await fee(session, case_id, found.code)
        if row is not None and row.status != FeeStatus.DUE:
            continue
        if row is None:
            row = FeeItemRow(case_id=case_id, code=found.code, status=FeeStatus.DUE)
            session.add(row)
        row.name, row.stage, row.amount = found.name, found.stage, format(found.amount, "f")
        row.rule_version, row.inputs, row.explanation = (
            found.rule_version,
            dict(found.inputs),
            found.explanation,
        )
        row.assessed_at = now
        events.append(
            Event(
                "FEE_ASSESSED",
                {"fee": found.code, "amount": row.amount, "ruleVersion": found.rule_version},
            )
        )
    await session.flush()
    return events


async def unpaid(session: AsyncSession, case_id: int, stage: str) -> bool:
    """Whether the case has a fee still DUE as it leaves `stage` (a stage requiring payment).

    Any DUE fee of the case counts, wherever it was assessed: the usual flow assesses at
    确定费用 and collects at 业务收费, so a gate that only saw fees assessed at the payment stage
    itself would let that flow through unpaid. `stage` is the stage being left.
    """
    found = await session.scalar(
        select(FeeItemRow.id)
        .where(FeeItemRow.case_id == case_id, FeeItemRow.status == FeeStatus.DUE)
        .limit(1)
    )
    return found is not None


class FeeStatus:
    """Fee statuses (the API's FeeStatus enum)."""

    DUE = "DUE"
    PAID = "PAID"
    WAIVED = "WAIVED"
