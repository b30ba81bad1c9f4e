"""A planned set of effects written to the customer file, in batches, and told as events.

New accounts are written first, all at once, with numbers reserved as one block of the customer
counter (numbers imported earlier are skipped), and read back for their ids; then each step's
writes in order on the rows the snapshot loaded or the plan made; new meters, periods, sources
and contracts are inserted at the end, one batch per table, so a 小区新装 of 120 households is
a handful of statements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.effect_file import (
    AmendContract,
    ClosePeriod,
    CreateAccount,
    InstallMeter,
    MoveMeter,
    New,
    OpenPeriod,
    Operation,
    Plan,
    Ref,
    RemoveMeter,
    SetSupplySources,
    StartContract,
    Step,
    TerminateContract,
    UpdateAccount,
)
from casework.model import Event
from database.archive_tables import (
    CapacityPeriodRow,
    ContractRow,
    CustomerRow,
    MeterRow,
    SupplySourceRow,
)
from database.case_repo import NUMBER_ZONE
from metamodel.effect_specs import EffectKind

Reserve = Callable[[AsyncSession, str, int], Awaitable[int]]
"""Take a block of a named counter's values; returns the last one."""


class Held:
    """The rows of the file a plan acts on: loaded by id, or made by the plan (by `New`).

    Working state of this layer's unit of work: it never leaves database/ (the service layer
    sees the events and numbers `apply` returns).
    """

    def __init__(self) -> None:
        self.customers: dict[Ref, CustomerRow] = {}
        self.meters: dict[Ref, MeterRow] = {}
        self.periods: dict[Ref, CapacityPeriodRow] = {}
        self.contracts: dict[Ref, ContractRow] = {}


async def _customer_numbers(session: AsyncSession, count: int, reserve: Reserve) -> list[str]:
    """`count` new 户号 (10 digits), skipping numbers already in the file (imported ones)."""
    found: list[str] = []
    while len(found) < count:
        wanted = count - len(found)
        last = await reserve(session, "customer", wanted)
        block = [f"{n:010d}" for n in range(last - wanted + 1, last + 1)]
        taken = set(
            await session.scalars(select(CustomerRow.number).where(CustomerRow.number.in_(block)))
        )
        found.extend(n for n in block if n not in taken)
    return found


async def _create_accounts(
    session: AsyncSession, plan: Plan, held: Held, *, now: dt.datetime, reserve: Reserve
) -> None:
    creates = [o for s in plan.steps for o in s.operations if isinstance(o, CreateAccount)]
    if not creates:
        return
    numbers = await _customer_numbers(session, len(creates), reserve)
    by_ref = dict(zip((o.ref for o in creates), numbers, strict=True))
    rows = []
    for operation in creates:
        parent = operation.parent
        rows.append(
            {
                **dict.fromkeys(NEW_CUSTOMER_COLUMNS),
                **operation.values,
                "number": by_ref[operation.ref],
                "org_unit_id": operation.org_unit_id,
                "status": operation.status,
                "created_at": now,
                "updated_at": now,
                "parent_number": None
                if parent is None
                else by_ref[parent]
                if isinstance(parent, New)
                else held.customers[parent].number,
            }
        )
    await session.execute(insert(CustomerRow), rows)
    made = await session.scalars(select(CustomerRow).where(CustomerRow.number.in_(numbers)))
    by_number = {row.number: row for row in made}
    for ref, number in by_ref.items():
        held.customers[ref] = by_number[number]


NEW_CUSTOMER_COLUMNS = (
    "name",
    "id_number",
    "address",
    "electricity_category",
    "capacity",
    "voltage_level",
    "meter_reading_segment",
    "archive_no",
    "archive_location",
)
"""Columns a new account may be given (all sent, so the rows are inserted as one batch)."""


def _values(row: object) -> dict[str, object]:
    """A new row's columns (but its id) for a batched insert."""
    table = type(row).__table__  # type: ignore[attr-defined]
    return {c.key: getattr(row, c.key) for c in table.columns if c.key != "id"}


async def _contract_numbers(
    session: AsyncSession, plan: Plan, *, now: dt.datetime, reserve: Reserve
) -> list[str]:
    count = sum(isinstance(o, StartContract) for s in plan.steps for o in s.operations)
    if not count:
        return []
    last = await reserve(session, "contract", count)
    return [f"HT{now:%Y}{n:08d}" for n in range(last - count + 1, last + 1)]


class _Writer:
    """Carries out operations on the held rows, collecting new rows to add."""

    def __init__(
        self, session: AsyncSession, held: Held, *, case_id: int, now: dt.datetime
    ) -> None:
        self.session, self.held, self.case_id, self.now = session, held, case_id, now
        self.added: list[object] = []
        self.contract_numbers: list[str] = []

    def customer_id(self, ref: Ref) -> int:
        return self.held.customers[ref].id

    async def write(self, operation: Operation) -> None:
        held, now, case = self.held, self.now, self.case_id
        match operation:
            case CreateAccount():
                pass  # written before every other step
            case UpdateAccount(ref, values, closed, merged_into, closed_on):
                row = held.customers[ref]
                for column, value in values.items():
                    setattr(row, column, value)
                if closed:
                    row.closed_at = now if closed_on is None else _start_of(closed_on)
                if merged_into is not None:
                    row.merged_into = held.customers[merged_into].number
                row.updated_at = now
            case InstallMeter(ref, account, values):
                if isinstance(ref, New):
                    meter = MeterRow(
                        customer_id=self.customer_id(account),
                        case_id=case,
                        installed_at=now,
                        status="ACTIVE",
                    )
                    held.meters[ref] = meter
                    self.added.append(meter)
                for column, value in values.items():
                    setattr(held.meters[ref], column, value)
            case RemoveMeter(ref, reading):
                meter = held.meters[ref]
                meter.status, meter.final_reading = "REMOVED", reading
                meter.removed_at, meter.removed_by_case_id = now, case
            case MoveMeter(ref, account):
                held.meters[ref].customer_id = self.customer_id(account)
            case OpenPeriod(ref, account, kind, capacity, starts_on, ends_on):
                period = CapacityPeriodRow(
                    customer_id=self.customer_id(account),
                    case_id=case,
                    kind=kind.value,
                    capacity=capacity,
                    starts_on=starts_on,
                    ends_on=ends_on,
                )
                held.periods[ref] = period
                self.added.append(period)
            case ClosePeriod(ref, restored_on):
                held.periods[ref].restored_on = restored_on
                held.periods[ref].restored_by_case_id = case
            case SetSupplySources(account, sources):
                customer = self.customer_id(account)
                await self.session.execute(
                    delete(SupplySourceRow).where(SupplySourceRow.customer_id == customer)
                )
                self.added.extend(
                    SupplySourceRow(customer_id=customer, case_id=case, position=i, **source)
                    for i, source in enumerate(sources)
                )
            case StartContract(ref, account, kind, signed_on, term, expires_on):
                contract = ContractRow(
                    customer_id=self.customer_id(account),
                    case_id=case,
                    number=self.contract_numbers.pop(0),
                    type=kind,
                    signed_at=now,
                    status="ACTIVE",
                    signed_on=signed_on,
                    term_months=term,
                    expires_on=expires_on,
                )
                held.contracts[ref] = contract
                self.added.append(contract)
            case AmendContract(ref, amended_on, term, expires_on):
                contract = held.contracts[ref]
                contract.amended_on, contract.amended_by_case_id = amended_on, case
                if term is not None:
                    contract.term_months = term
                if expires_on is not None:
                    contract.expires_on = expires_on
            case TerminateContract(ref, terminated_on):
                contract = held.contracts[ref]
                contract.status, contract.terminated_on = "TERMINATED", terminated_on
                contract.terminated_by_case_id = case


def _event(step: Step, held: Held) -> Event:
    """The EFFECT event of a step: what it did, by 户号, contract and meter numbers."""
    data: dict[str, object] = {
        "kind": step.kind.value,
        "effect": step.effect,
        "customer": held.customers[step.account].number if step.account is not None else None,
        **step.data,
    }
    if step.created and step.kind is not EffectKind.CREATE_CUSTOMER:
        data["created"] = [held.customers[r].number for r in step.created]
    if step.contracts:
        data["contracts"] = [held.contracts[r].number for r in step.contracts]
    return Event("EFFECT", data)


async def apply(
    session: AsyncSession,
    plan: Plan,
    held: Held,
    *,
    case_id: int,
    now: dt.datetime,
    reserve: Reserve,
) -> tuple[list[Event], str | None]:
    """Write `plan`; the EFFECT events and the number of the customer the case created."""
    await _create_accounts(session, plan, held, now=now, reserve=reserve)
    writer = _Writer(session, held, case_id=case_id, now=now)
    writer.contract_numbers = await _contract_numbers(session, plan, now=now, reserve=reserve)
    for step in plan.steps:
        for operation in step.operations:
            await writer.write(operation)
    await session.flush()  # the changes to loaded rows
    for table in (MeterRow, CapacityPeriodRow, SupplySourceRow, ContractRow):
        rows = [_values(r) for r in writer.added if isinstance(r, table)]
        if rows:
            await session.execute(insert(table), rows)
    events = [_event(step, held) for step in plan.steps]
    created = None
    if plan.created_customer and plan.customer is not None:
        created = held.customers[plan.customer].number
    return events, created


def _start_of(day: dt.date) -> dt.datetime:
    """The moment a local date begins: a closing dated by an item (销户日期) closes then."""
    return dt.datetime.combine(day, dt.time(), tzinfo=NUMBER_ZONE)
