"""The customer archive read in scope: who may see a customer, its cases, and which fields.

A customer is read within its org unit as cases are (unknown and out-of-scope numbers answer
alike), lists only the cases the reader may see, and hides the fields that a case's business
type fills from items hidden from the reader (in any version those cases are pinned to).
Customers are read for many numbers at once, so the `Case.customer` of a whole page is one
batch (`resolvers.context.Loaders.customers`).
"""

from __future__ import annotations

from collections.abc import Sequence

from casework import archive
from database import archive_reads
from database.records import CustomerArchive
from resolvers import case_reads, policy
from resolvers.reader import Reader
from schema import engine_types as et


def _shown(value: str | None, name: str, hidden: frozenset[str]) -> str | None:
    return None if name in hidden else value


async def customers_by_number(ctx: Reader, numbers: Sequence[str]) -> dict[str, et.Customer]:
    """Customer records for output by 户号; unknown and out-of-scope numbers are left out."""
    principal = ctx.principal
    assert principal is not None
    scope = policy.case_scope(principal)
    async with ctx.db.read() as session:
        found = await archive_reads.archives(session, numbers, scope)
    if not found:
        return {}
    hidden = await case_reads.hidden_by_type(ctx)
    types, _, _ = await ctx.codes()
    return {
        number: _customer_out(held, await _redaction(ctx, hidden, types, held.pinned))
        for number, held in found.items()
    }


async def customer_by_number(ctx: Reader, number: str) -> et.Customer | None:
    """A customer record for output, or None (unknown, or out of the caller's scope)."""
    return (await customers_by_number(ctx, [number])).get(number)


def _customer_out(held: CustomerArchive, cut: archive.Redaction) -> et.Customer:
    row = held.customer
    return et.Customer(
        number=row.number,
        name=_shown(row.name, "name", cut.customer),
        id_number=_shown(row.id_number, "id_number", cut.customer),
        address=_shown(row.address, "address", cut.customer),
        electricity_category=_shown(row.electricity_category, "electricity_category", cut.customer),
        capacity=_shown(row.capacity, "capacity", cut.customer),
        voltage_level=_shown(row.voltage_level, "voltage_level", cut.customer),
        meters=[
            et.Meter(
                asset_no=m.asset_no,
                ct_ratio=_shown(m.ct_ratio, "ct_ratio", cut.meter),
                pt_ratio=_shown(m.pt_ratio, "pt_ratio", cut.meter),
                multiplier=_shown(m.multiplier, "multiplier", cut.meter),
                start_reading=_shown(m.start_reading, "start_reading", cut.meter),
            )
            for m in held.meters
            if "asset_no" not in cut.meter
        ],
        contracts=[]
        if cut.contract_type
        else [
            et.Contract(number=c.number, type=c.type, signed_at=c.signed_at) for c in held.contracts
        ],
        cases=list(held.case_numbers),
    )


async def _redaction(
    ctx: Reader,
    hidden: dict[int, frozenset[str]],
    types: dict[int, str],
    pinned: Sequence[tuple[int, int]],
) -> archive.Redaction:
    """What the caller may not see of an archive written by cases of these type versions."""
    if policy.is_admin(ctx.principal):
        return archive.Redaction()
    fields: frozenset[str] = frozenset()
    for type_id, number in pinned:
        found = case_reads.hidden_of(hidden, ctx, type_id)
        if found is not None and not found:
            continue  # nothing of this type is hidden from the caller
        version = await ctx.versions.get(ctx.db, types[type_id], number)
        fields |= archive.hidden_fields(version, found)
    return archive.redaction(fields)
