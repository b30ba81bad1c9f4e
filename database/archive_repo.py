"""The customer archive: customers, their meters and contracts, written when a case completes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from casework import archive as archive_rules
from casework.model import CaseState, Event
from database.archive_tables import ContractRow, CustomerRow, MeterRow, SequenceRow
from metamodel.specs import BusinessTypeVersion


async def next_value(session: AsyncSession, name: str) -> int:
    """The next value of a named counter, safe under concurrent transactions."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(SequenceRow)
        .values(name=name, last=1)
        .on_conflict_do_update(
            index_elements=[SequenceRow.name], set_={"last": SequenceRow.last + 1}
        )
        .returning(SequenceRow.last)
    )
    return int((await session.execute(statement)).scalar_one())


async def get_customer(session: AsyncSession, number: str) -> CustomerRow | None:
    """A customer by 户号."""
    return await session.scalar(select(CustomerRow).where(CustomerRow.number == number))


async def write(
    session: AsyncSession,
    *,
    case_id: int,
    customer_number: str | None,
    org_unit_id: int,
    version: BusinessTypeVersion,
    state: CaseState,
    now: dt.datetime,
) -> tuple[list[Event], str | None]:
    """Write the customer, meter and contract of a completed case; a change updates its customer.

    Returns the events and, when the case named no customer, the number of the new one.
    """
    record = archive_rules.record(version, state.data)
    customer = await get_customer(session, customer_number) if customer_number else None
    new_number = None
    if customer is None:
        number = f"{await next_value(session, 'customer'):010d}"
        while await get_customer(session, number) is not None:  # numbers imported earlier
            number = f"{await next_value(session, 'customer'):010d}"
        customer = CustomerRow(
            number=number, org_unit_id=org_unit_id, created_at=now, updated_at=now
        )
        session.add(customer)
        new_number = number
    for field, value in record.customer.items():
        if value is not None:
            setattr(customer, field, value)
    customer.updated_at = now
    await session.flush()
    data: dict[str, object] = {"customer": customer.number}
    if record.meter is not None:
        meter = await session.scalar(
            select(MeterRow).where(
                MeterRow.customer_id == customer.id, MeterRow.asset_no == record.meter.asset_no
            )
        )
        if meter is None:
            meter = MeterRow(
                customer_id=customer.id,
                case_id=case_id,
                asset_no=record.meter.asset_no,
                installed_at=now,
            )
            session.add(meter)
        meter.ct_ratio = record.meter.ct_ratio
        meter.pt_ratio = record.meter.pt_ratio
        meter.multiplier = record.meter.multiplier
        meter.start_reading = record.meter.start_reading
        data["meter"] = record.meter.asset_no
    contract = ContractRow(
        customer_id=customer.id,
        case_id=case_id,
        number=f"HT{now:%Y}{await next_value(session, 'contract'):08d}",
        type=record.contract_type,
        signed_at=now,
    )
    session.add(contract)
    await session.flush()
    data["contract"] = contract.number
    return [Event("ARCHIVED", data)], new_number
