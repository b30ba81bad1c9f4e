"""The customer file read in scope: who may see a customer, its cases, and which fields.

A customer is read within its org unit as cases are (unknown and out-of-scope numbers answer
alike), lists only the cases the reader may see, and hides the fields filled from items hidden
from the reader in any version that may have written the file (`casework.file_redaction`).
Customers are read for many numbers at once, so the `Case.customer` of a whole page is one
batch (`resolvers.context.Loaders.customers`); the `customers` list reads a keyset page in the
same scope and completes it the same way.

A reader may not filter or order the list on a field that some business type fills from an
item hidden from them: a count or an order over it would reveal it one question at a time, as
a filter on a hidden item would on cases (those are refused alike, FORBIDDEN).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from graphql import GraphQLError

from casework import file_redaction
from casework.file_redaction import Redaction
from database import archive_reads, customer_list, keyset
from database.records import CustomerArchive
from resolvers import case_reads, paging, policy
from resolvers.convert import given
from resolvers.customer_out import customer_out
from resolvers.reader import Reader
from schema import customer_types as ct
from schema.common import SortDirection


async def customers_by_number(ctx: Reader, numbers: Sequence[str]) -> dict[str, ct.Customer]:
    """Customer files for output by 户号; unknown and out-of-scope numbers are left out."""
    principal = ctx.principal
    assert principal is not None
    scope = policy.case_scope(principal)
    async with ctx.db.read() as session:
        found = await archive_reads.archives(session, numbers, scope)
    return await _outputs(ctx, found)


async def customer_by_number(ctx: Reader, number: str) -> ct.Customer | None:
    """A customer file for output, or None (unknown, or out of the caller's scope)."""
    return (await customers_by_number(ctx, [number])).get(number)


async def _outputs(ctx: Reader, found: Mapping[str, CustomerArchive]) -> dict[str, ct.Customer]:
    if not found:
        return {}
    hidden = await case_reads.hidden_by_type(ctx)
    types, _, _ = await ctx.codes()
    return {
        number: customer_out(held, await _redaction(ctx, hidden, types, held.pinned))
        for number, held in found.items()
    }


async def _redaction(
    ctx: Reader,
    hidden: dict[int, frozenset[str]],
    types: dict[int, str],
    pinned: Sequence[tuple[int, int]],
) -> Redaction:
    """What the caller may not see of a file written by cases of these type versions."""
    if policy.is_admin(ctx.principal):
        return Redaction()
    parts: list[Redaction] = []
    for type_id, number in pinned:
        found = case_reads.hidden_of(hidden, ctx, type_id)
        if found is not None and not found:
            continue  # nothing of this type is hidden from the caller
        version = await ctx.versions.get(ctx.db, types[type_id], number)
        parts.append(file_redaction.redaction(version, found))
    return file_redaction.combine(parts)


# -- the list -----------------------------------------------------------------------------------

ORDER_FIELDS = ("number", "name", "tariff_category", "created_at", "updated_at")
"""CustomerOrderBy's fields (python names), each an order key of `database.customer_list`."""
FILTERED_FIELDS: Mapping[str, str] = {
    "name": "name",
    "tariff_category": "electricity_category",
    "voltage_level": "voltage_level",
}
"""Where and order fields that items fill -> the customer record field each one is."""


def _orders(order_by: Sequence[ct.CustomerOrderBy] | None) -> list[tuple[str, bool]]:
    orders: list[tuple[str, bool]] = []
    for i, entry in enumerate(order_by or ()):
        chosen = [(n, given(getattr(entry, n))) for n in ORDER_FIELDS if given(getattr(entry, n))]
        if len(chosen) != 1:
            raise paging.invalid(f"orderBy[{i}] sets exactly one field", "orderBy")
        name, direction = chosen[0]
        orders.append((name, direction is SortDirection.DESC))
    return orders


def _text(found: ct.CustomerTextFilter | None) -> tuple[str | None, str | None]:
    if found is None:
        return None, None
    return given(found.eq), given(found.starts_with)


async def _filter(ctx: Reader, where: ct.CustomerWhere | None) -> customer_list.CustomerFilter:
    if where is None:
        return customer_list.CustomerFilter()
    number_eq, number_prefix = _text(given(where.number))
    name_eq, name_prefix = _text(given(where.name))
    unit = given(where.org_unit)
    org_path = None
    if unit is not None:
        paths = {u.code: u.path for u in (await ctx.org_units()).values()}
        org_path = paths.get(unit, "")
    statuses = given(where.status)
    categories = given(where.tariff_category)
    levels = given(where.voltage_level)
    return customer_list.CustomerFilter(
        number_eq=number_eq,
        number_prefix=number_prefix,
        name_eq=name_eq,
        name_prefix=name_prefix,
        statuses=None if statuses is None else tuple(str(s.value) for s in statuses),
        tariff_categories=None if categories is None else tuple(categories),
        voltage_levels=None if levels is None else tuple(levels),
        org_path=org_path,
        parent_number=given(where.parent_number),
    )


def _used(where: ct.CustomerWhere | None, orders: Sequence[tuple[str, bool]]) -> set[str]:
    """Record fields an item may fill that the filter or ordering reads."""
    used = {FILTERED_FIELDS[n] for n, _ in orders if n in FILTERED_FIELDS}
    if where is not None:
        used |= {f for n, f in FILTERED_FIELDS.items() if given(getattr(where, n)) is not None}
    return used


async def hidden_anywhere(ctx: Reader) -> frozenset[str]:
    """Customer record fields that some version of a served type fills from a hidden item."""
    if policy.is_admin(ctx.principal):
        return frozenset()
    hidden = await case_reads.hidden_by_type(ctx)
    types, _, _ = await ctx.codes()
    fields: set[str] = set()
    for type_id, items in hidden.items():
        if not items:
            continue
        code = types[type_id]
        for number in range(1, ctx.generated[code].published.latest.version + 1):
            version = await ctx.versions.get(ctx.db, code, number)
            fields |= file_redaction.redaction(version, items).customer
    return frozenset(fields)


async def _forbid_hidden(
    ctx: Reader, where: ct.CustomerWhere | None, orders: Sequence[tuple[str, bool]]
) -> None:
    used = _used(where, orders)
    if not used:
        return
    blocked = sorted(used & await hidden_anywhere(ctx))
    if blocked:
        raise GraphQLError(
            f"the filter uses customer field(s) filled from items you may not read: "
            f"{', '.join(blocked)}",
            extensions={"code": "FORBIDDEN"},
        )


def _bound_to(orders: Sequence[tuple[str, bool]]) -> str:
    """What the list's cursors are bound to: its name and ordering (as case lists do)."""
    names = [f"{n}:{'DESC' if d else 'ASC'}" for n, d in orders or (("number", False),)]
    return "|".join(["customers", *names])


async def customer_page(
    ctx: Reader,
    where: ct.CustomerWhere | None,
    order_by: Sequence[ct.CustomerOrderBy] | None,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> ct.CustomerConnection:
    """One keyset page of the customers in the caller's scope; the total only when selected."""
    principal = ctx.principal
    assert principal is not None
    scope = policy.case_scope(principal, await ctx.org_units())
    orders = _orders(order_by)
    await _forbid_hidden(ctx, where, orders)
    condition = customer_list.condition(scope, await _filter(ctx, where))
    keys = customer_list.sort_keys(orders)
    bound_to = _bound_to(orders)
    chosen = paging.window(
        ctx.cursor_key, bound_to, len(keys), first=first, after=after, last=last, before=before
    )
    try:
        async with ctx.db.read() as session:
            found = await customer_list.page(session, condition, keys, chosen)
            held = await archive_reads.files(session, {c.number: c for c in found.customers}, scope)
    except LookupError as error:
        raise paging.gone(
            "after" if isinstance(chosen.after, keyset.RowPosition) else "before"
        ) from error
    built = await _outputs(ctx, held)
    # `files` keeps what the page's statement kept (one scope); a customer it would drop is
    # dropped here too rather than shown half read.
    kept = [
        (built[c.number], p)
        for c, p in zip(found.customers, found.positions, strict=True)
        if c.number in built
    ]
    nodes = [n for n, _ in kept]
    cursors = paging.edge_cursors(ctx.cursor_key, bound_to, [p for _, p in kept])

    async def count() -> int:
        async with ctx.db.read() as session:
            return await customer_list.count(session, condition)

    return ct.CustomerConnection(
        edges=[ct.CustomerEdge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
        nodes=nodes,
        page_info=paging.page_info(chosen, cursors, found.more),
        count=count,
    )
