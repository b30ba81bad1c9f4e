"""Reading the customer archive within a case scope, one customer or a whole page at once.

A customer is read within its org unit as cases are (out of reach answers as no such
customer, so numbers cannot be probed across units), and for staff also only through a case
of it they may see. `archives` answers for many numbers in a fixed number of statements, so
`Case.customer` on a page of cases costs the same for 5 cases as for 40; `files` completes
customers already read in scope (a page of `customers`) the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from database.archive_tables import (
    CapacityPeriodRow,
    ContractRow,
    CustomerRow,
    MeterRow,
    SupplySourceRow,
)
from database.case_reads import CaseScope, in_subtree, scope_condition
from database.case_tables import CaseRow
from database.records import (
    CapacityPeriodRecord,
    ContractRecord,
    CustomerArchive,
    CustomerRecord,
    MeterRecord,
    SupplySourceRecord,
)


def customer_record(row: CustomerRow) -> CustomerRecord:
    """A copy of a customer row."""
    return CustomerRecord(
        id=row.id,
        number=row.number,
        name=row.name,
        id_number=row.id_number,
        address=row.address,
        electricity_category=row.electricity_category,
        capacity=row.capacity,
        voltage_level=row.voltage_level,
        org_unit_id=row.org_unit_id,
        status=row.status,
        meter_reading_segment=row.meter_reading_segment,
        suspended_capacity=row.suspended_capacity,
        archive_no=row.archive_no,
        archive_location=row.archive_location,
        closed_at=row.closed_at,
        merged_into=row.merged_into,
        parent_number=row.parent_number,
        created_at=row.created_at,
    )


def meter_record(row: MeterRow) -> MeterRecord:
    """A copy of a meter row."""
    return MeterRecord(
        id=row.id,
        customer_id=row.customer_id,
        case_id=row.case_id,
        asset_no=row.asset_no,
        ct_ratio=row.ct_ratio,
        pt_ratio=row.pt_ratio,
        multiplier=row.multiplier,
        start_reading=row.start_reading,
        installed_at=row.installed_at,
        purpose=row.purpose,
        status=row.status,
        final_reading=row.final_reading,
        removed_at=row.removed_at,
    )


def contract_record(row: ContractRow) -> ContractRecord:
    """A copy of a contract row."""
    return ContractRecord(
        id=row.id,
        customer_id=row.customer_id,
        case_id=row.case_id,
        number=row.number,
        type=row.type,
        signed_at=row.signed_at,
        status=row.status,
        signed_on=row.signed_on,
        term_months=row.term_months,
        expires_on=row.expires_on,
        terminated_on=row.terminated_on,
        amended_on=row.amended_on,
    )


def supply_source_record(row: SupplySourceRow) -> SupplySourceRecord:
    """A copy of a supply source row."""
    return SupplySourceRecord(
        id=row.id,
        customer_id=row.customer_id,
        case_id=row.case_id,
        position=row.position,
        kind=row.kind,
        substation=row.substation,
        feeder=row.feeder,
        capacity_kva=row.capacity_kva,
        boundary=row.boundary,
    )


def period_record(row: CapacityPeriodRow) -> CapacityPeriodRecord:
    """A copy of a capacity period row."""
    return CapacityPeriodRecord(
        id=row.id,
        customer_id=row.customer_id,
        case_id=row.case_id,
        kind=row.kind,
        capacity=row.capacity,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        restored_on=row.restored_on,
    )


async def reachable_customers(
    session: AsyncSession, numbers: Sequence[str], scope: CaseScope
) -> dict[str, CustomerRecord]:
    """Customers by 户号 that belong to the scope's org subtree (a case may name them).

    A customer of no known unit is reached by administrators alone.
    """
    statement = select(CustomerRow).where(CustomerRow.number.in_(sorted(set(numbers))))
    if not scope.everything:
        if not scope.org_path:
            return {}
        statement = statement.where(in_subtree(CustomerRow.org_unit_id, scope.org_path))
    return {r.number: customer_record(r) for r in await session.scalars(statement)}


async def reachable_customer(
    session: AsyncSession, number: str, scope: CaseScope
) -> CustomerRecord | None:
    """A customer by 户号 if it belongs to the scope's org subtree (a case may name it)."""
    return (await reachable_customers(session, [number], scope)).get(number)


async def archives(
    session: AsyncSession, numbers: Sequence[str], scope: CaseScope
) -> dict[str, CustomerArchive]:
    """The customers a scope may read among `numbers`, with their meters, contracts and cases.

    Unknown numbers and numbers the scope may not read are left out alike. Seven statements at
    most, whatever the number of customers.
    """
    return await files(session, await reachable_customers(session, numbers, scope), scope)


async def files(
    session: AsyncSession, found: Mapping[str, CustomerRecord], scope: CaseScope
) -> dict[str, CustomerArchive]:
    """The files of customers of the scope's org subtree: meters, contracts, sources, periods.

    Staff keep only the customers they reach through a case they may see.
    """
    if not found:
        return {}
    case_rows = (
        await session.execute(
            select(CaseRow.customer_number, CaseRow.number)
            .where(CaseRow.customer_number.in_(sorted(found)), scope_condition(scope))
            .order_by(CaseRow.id)
        )
    ).all()
    seen: dict[str, list[str]] = defaultdict(list)
    for customer_number, case_number in case_rows:
        seen[str(customer_number)].append(case_number)
    if not (scope.everything or scope.whole_tree):  # staff: through a case they may see
        found = {n: c for n, c in found.items() if seen.get(n)}
        if not found:
            return {}
    ids = [c.id for c in found.values()]
    meters = await _by_customer(session, MeterRow, ids, meter_record)
    contracts = await _by_customer(session, ContractRow, ids, contract_record)
    sources = await _by_customer(
        session, SupplySourceRow, ids, supply_source_record, SupplySourceRow.position
    )
    periods = await _by_customer(session, CapacityPeriodRow, ids, period_record)
    pinned = await _pinned(
        session,
        found,
        {
            c.id: {
                r.case_id
                for part in (meters, contracts, sources, periods)
                for r in part[c.id]
                if r.case_id is not None  # imported rows were written by no case
            }
            for c in found.values()
        },
    )
    return {
        number: CustomerArchive(
            customer=customer,
            meters=tuple(meters[customer.id]),
            contracts=tuple(contracts[customer.id]),
            case_numbers=tuple(seen.get(number, ())),
            pinned=pinned[number],
            supply_sources=tuple(sources[customer.id]),
            periods=tuple(periods[customer.id]),
        )
        for number, customer in found.items()
    }


async def _pinned(
    session: AsyncSession, found: Mapping[str, CustomerRecord], writers: Mapping[int, set[int]]
) -> dict[str, tuple[tuple[int, int], ...]]:
    """The (business type id, version) of every case that may have written each file.

    `writers` holds, by customer id, the cases that wrote its meters, contracts, sources and
    periods; an account split from or created under another takes that one's cases too.
    """
    parents = {c.parent_number for c in found.values() if c.parent_number}
    named = sorted(set(found) | parents)
    case_ids = sorted(set().union(*writers.values()))
    rows = (
        await session.execute(
            select(
                CaseRow.id,
                CaseRow.customer_number,
                CaseRow.business_type_id,
                CaseRow.business_type_version,
            ).where(or_(CaseRow.customer_number.in_(named), CaseRow.id.in_(case_ids)))
        )
    ).all()
    by_number: dict[str, set[tuple[int, int]]] = defaultdict(set)
    by_id: dict[int, tuple[int, int]] = {}
    for case_id, customer_number, type_id, version in rows:
        pin = (int(type_id), int(version))
        by_id[int(case_id)] = pin
        if customer_number is not None:
            by_number[str(customer_number)].add(pin)
    pinned: dict[str, tuple[tuple[int, int], ...]] = {}
    for number, customer in found.items():
        pins = set(by_number[number]) | {by_id[i] for i in writers[customer.id] if i in by_id}
        if customer.parent_number:
            pins |= by_number[customer.parent_number]
        pinned[number] = tuple(sorted(pins))
    return pinned


Row = TypeVar("Row", MeterRow, ContractRow, SupplySourceRow, CapacityPeriodRow)
Record = TypeVar("Record")


async def _by_customer(
    session: AsyncSession,
    table: type[Row],
    ids: Sequence[int],
    copy: Callable[[Row], Record],
    *first: InstrumentedAttribute[Any],
) -> dict[int, list[Record]]:
    """The rows of one table of several customers, as records, by `first` then as written."""
    order = (*first, table.id)
    grouped: dict[int, list[Record]] = defaultdict(list)
    for row in await session.scalars(
        select(table).where(table.customer_id.in_(ids)).order_by(*order)
    ):
        grouped[row.customer_id].append(copy(row))
    return grouped
