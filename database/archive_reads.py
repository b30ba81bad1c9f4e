"""Reading the customer archive within a case scope, one customer or a whole page at once.

A customer is read within its org unit as cases are (out of reach answers as no such
customer, so numbers cannot be probed across units), and for staff also only through a case
of it they may see. `archives` answers for many numbers in a fixed number of statements, so
`Case.customer` on a page of cases costs the same for 5 cases as for 40.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from database.archive_tables import ContractRow, CustomerRow, MeterRow
from database.case_reads import CaseScope, in_subtree, scope_condition
from database.case_tables import CaseRow
from database.records import ContractRecord, CustomerArchive, CustomerRecord, MeterRecord


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

    Unknown numbers and numbers the scope may not read are left out alike. Five statements at
    most, whatever the number of customers.
    """
    found = await reachable_customers(session, numbers, scope)
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
    meters: dict[int, list[MeterRecord]] = defaultdict(list)
    for meter in await session.scalars(
        select(MeterRow).where(MeterRow.customer_id.in_(ids)).order_by(MeterRow.id)
    ):
        meters[meter.customer_id].append(meter_record(meter))
    contracts: dict[int, list[ContractRecord]] = defaultdict(list)
    for contract in await session.scalars(
        select(ContractRow).where(ContractRow.customer_id.in_(ids)).order_by(ContractRow.id)
    ):
        contracts[contract.customer_id].append(contract_record(contract))
    pinned: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for customer_number, type_id, version in (
        await session.execute(
            select(CaseRow.customer_number, CaseRow.business_type_id, CaseRow.business_type_version)
            .where(CaseRow.customer_number.in_(sorted(found)))
            .distinct()
        )
    ).all():
        pinned[str(customer_number)].append((int(type_id), int(version)))
    return {
        number: CustomerArchive(
            customer=customer,
            meters=tuple(meters[customer.id]),
            contracts=tuple(contracts[customer.id]),
            case_numbers=tuple(seen.get(number, ())),
            pinned=tuple(sorted(pinned[number])),
        )
        for number, customer in found.items()
    }
