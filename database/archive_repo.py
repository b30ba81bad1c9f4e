"""The customer file as a case's effects read and change it, in the command's transaction.

`run_effects` reads a bounded snapshot (the case's customer and the accounts a 并户 names, then
their active meters, open periods and active contracts: four statements), lets
`casework.effects` plan, and writes the plan (database.archive_writes). Numbers come from named
counters, a block at a time, so 120 households cost a handful of statements, not 120 × k.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from casework import effects
from casework.effect_file import AccountSnap, ContractSnap, FileSnapshot, MeterSnap, PeriodSnap
from casework.model import Event
from database import archive_writes
from database.archive_tables import (
    CapacityPeriodRow,
    ContractRow,
    CustomerRow,
    MeterRow,
    SequenceRow,
)
from database.archive_writes import Held
from database.case_reads import in_subtree
from metamodel.effect_specs import CaseEnd, SuspensionKind
from metamodel.specs import BusinessTypeVersion


async def reserve(session: AsyncSession, name: str, count: int = 1) -> int:
    """Take `count` values of a named counter at once; the last one taken is returned.

    Safe under concurrent transactions: the row is written in one statement, so a second
    transaction waits for the first and takes the values after its block.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(SequenceRow)
        .values(name=name, last=count)
        .on_conflict_do_update(
            index_elements=[SequenceRow.name], set_={"last": SequenceRow.last + count}
        )
        .returning(SequenceRow.last)
    )
    return int((await session.execute(statement)).scalar_one())


async def next_value(session: AsyncSession, name: str) -> int:
    """The next value of a named counter."""
    return await reserve(session, name)


async def get_customer(session: AsyncSession, number: str) -> CustomerRow | None:
    """A customer by 户号."""
    return await session.scalar(select(CustomerRow).where(CustomerRow.number == number))


async def customer_state(
    session: AsyncSession, number: str
) -> tuple[str, frozenset[SuspensionKind]] | None:
    """A customer's status and the kinds of its open capacity periods (None: no such customer)."""
    row = await get_customer(session, number)
    if row is None:
        return None
    kinds = await session.scalars(
        select(CapacityPeriodRow.kind)
        .where(CapacityPeriodRow.customer_id == row.id, CapacityPeriodRow.restored_on.is_(None))
        .distinct()
    )
    return row.status, frozenset(SuspensionKind(k) for k in kinds)


def _account(row: CustomerRow, held: Held) -> AccountSnap:
    return AccountSnap(
        id=row.id,
        number=row.number,
        status=row.status,
        values={
            "name": row.name,
            "id_number": row.id_number,
            "address": row.address,
            "tariff_category": row.electricity_category,
            "capacity": row.capacity,
            "voltage_level": row.voltage_level,
            "meter_reading_segment": row.meter_reading_segment,
            "archive_no": row.archive_no,
            "archive_location": row.archive_location,
        },
        suspended_capacity=row.suspended_capacity,
        org_unit_id=row.org_unit_id,
        meters=tuple(
            MeterSnap(m.id, m.asset_no) for m in held.meters.values() if m.customer_id == row.id
        ),
        periods=tuple(
            PeriodSnap(p.id, SuspensionKind(p.kind), p.capacity)
            for p in held.periods.values()
            if p.customer_id == row.id
        ),
        contracts=tuple(
            ContractSnap(c.id, c.number, c.type, c.signed_on)
            for c in held.contracts.values()
            if c.customer_id == row.id
        ),
    )


async def load(
    session: AsyncSession, *, customer_number: str | None, named: Sequence[str], org_path: str
) -> tuple[FileSnapshot, Held]:
    """The snapshot a case's effects plan from, and its rows (locked where the database can).

    The accounts a 并户 names are read only within the case's org subtree: one out of reach
    is as unknown as one that does not exist.
    """
    held = Held()
    conditions = []
    if customer_number is not None:
        conditions.append(CustomerRow.number == customer_number)
    others = sorted({n for n in named if n != customer_number})
    if others:
        conditions.append(
            CustomerRow.number.in_(others) & in_subtree(CustomerRow.org_unit_id, org_path)
        )
    if not conditions:
        return FileSnapshot(), held
    statement = select(CustomerRow).where(or_(*conditions)).order_by(CustomerRow.id)
    rows = list(await session.scalars(statement.with_for_update()))
    held.customers = {r.id: r for r in rows}
    ids = [r.id for r in rows]
    if ids:
        held.meters = {
            m.id: m
            for m in await session.scalars(
                select(MeterRow)
                .where(MeterRow.customer_id.in_(ids), MeterRow.status == "ACTIVE")
                .order_by(MeterRow.id)
            )
        }
        held.periods = {
            p.id: p
            for p in await session.scalars(
                select(CapacityPeriodRow)
                .where(
                    CapacityPeriodRow.customer_id.in_(ids),
                    CapacityPeriodRow.restored_on.is_(None),
                )
                .order_by(CapacityPeriodRow.id)
            )
        }
        held.contracts = {
            c.id: c
            for c in await session.scalars(
                select(ContractRow)
                .where(ContractRow.customer_id.in_(ids), ContractRow.status == "ACTIVE")
                .order_by(ContractRow.id)
            )
        }
    accounts = {r.number: _account(r, held) for r in held.customers.values()}
    customer = accounts.pop(customer_number) if customer_number in accounts else None
    return FileSnapshot(customer, accounts), held


async def run_effects(
    session: AsyncSession,
    *,
    case_id: int,
    customer_number: str | None,
    org_unit_id: int,
    org_path: str,
    version: BusinessTypeVersion,
    data: dict[str, object],
    end: CaseEnd,
    end_date: dt.date,
    now: dt.datetime,
) -> tuple[list[Event], str | None]:
    """Apply the effects of the end a case reached; Refused (casework.model) if it cannot.

    Returns an EFFECT event per effect applied and the number of the customer the case created,
    if it created one.
    """
    if not effects.effects_of(version, end):
        return [], None
    named = effects.accounts_named(version, data, end)
    snapshot, held = await load(
        session, customer_number=customer_number, named=named, org_path=org_path
    )
    planned = effects.plan(
        version, data, snapshot, end=end, end_date=end_date, org_unit_id=org_unit_id
    )
    return await archive_writes.apply(
        session, planned, held, case_id=case_id, now=now, reserve=reserve
    )
