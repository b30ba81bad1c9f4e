"""The customer archive: customers, their meters and contracts, written when a case completes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from casework import archive as archive_rules
from casework.model import CaseState, Event
from database import case_repo
from database.tables import CaseRow, ContractRow, CustomerRow, MeterRow, OrgUnitRow, SequenceRow
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


async def reachable_customer(
    session: AsyncSession, number: str, scope: case_repo.CaseScope
) -> CustomerRow | None:
    """A customer by 户号 if it belongs to the scope's org subtree (a case may name it).

    Out of reach answers as no such customer, so numbers cannot be probed across units; a
    customer of no known unit is reached by administrators alone.
    """
    statement = select(CustomerRow).where(CustomerRow.number == number)
    if not scope.everything:
        if not scope.org_path:
            return None
        statement = statement.where(
            CustomerRow.org_unit_id.in_(
                select(OrgUnitRow.id).where(
                    func.substr(OrgUnitRow.path, 1, len(scope.org_path)) == scope.org_path
                )
            )
        )
    return await session.scalar(statement)


async def readable_customer(
    session: AsyncSession, number: str, scope: case_repo.CaseScope
) -> CustomerRow | None:
    """A customer by 户号 if the scope may read it, else None (unknown numbers answer alike).

    In reach, and for staff also through a case of it they may see, as cases are seen.
    """
    found = await reachable_customer(session, number, scope)
    if found is None or scope.everything or scope.whole_tree:
        return found
    return found if await case_repo.any_visible_for_customer(session, number, scope) else None


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


async def meters(session: AsyncSession, customer_ids: Sequence[int]) -> list[MeterRow]:
    """Meters of customers."""
    return list(
        (
            await session.scalars(
                select(MeterRow).where(MeterRow.customer_id.in_(customer_ids)).order_by(MeterRow.id)
            )
        ).all()
    )


async def contracts(session: AsyncSession, customer_ids: Sequence[int]) -> list[ContractRow]:
    """Contracts of customers, oldest first."""
    return list(
        (
            await session.scalars(
                select(ContractRow)
                .where(ContractRow.customer_id.in_(customer_ids))
                .order_by(ContractRow.id)
            )
        ).all()
    )


async def case_numbers(
    session: AsyncSession, customer_number: str, scope: case_repo.CaseScope
) -> list[str]:
    """Numbers of the cases about a customer that the scope may see."""
    return list(
        (
            await session.scalars(
                select(CaseRow.number)
                .where(
                    CaseRow.customer_number == customer_number,
                    case_repo.scope_condition(scope),
                )
                .order_by(CaseRow.id)
            )
        ).all()
    )


async def case_versions(session: AsyncSession, customer_number: str) -> list[tuple[int, int]]:
    """(business type id, version) of every case about a customer, whoever may see it.

    Any of them may have written the archive, so each one's visibility rules apply to it.
    """
    return [
        (int(t), int(v))
        for t, v in (
            await session.execute(
                select(CaseRow.business_type_id, CaseRow.business_type_version)
                .where(CaseRow.customer_number == customer_number)
                .distinct()
            )
        ).all()
    ]
