"""`DataItem.index`: the state of items' expression indexes, one catalog read per list.

Only administrators may read it: an index's size follows the number of cases across every
org unit, which is more than any other role may count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from graphql import GraphQLError

from database.item_indexes import IndexStatus
from resolvers import policy
from resolvers.reader import Reader
from schema.dictionary_types import DataItem, DataItemIndex, DataItemIndexState, IndexSource
from service import item_indexes


def _out(status: IndexStatus | None) -> DataItemIndex | None:
    if status is None:
        return None
    return DataItemIndex(
        name=status.name,
        state=DataItemIndexState(status.state.value),
        size_bytes=None if status.size_bytes is None else float(status.size_bytes),
    )


def index_source(ctx: Reader, codes: Sequence[str]) -> IndexSource:
    """A lookup shared by the items `codes` of one answer: the first that asks reads for all.

    What is wanted comes from the versions this process serves (`ctx.generated`), what exists
    from the catalog; both once, however many items the answer holds.
    """
    lock = asyncio.Lock()
    read: dict[str, IndexStatus | None] | None = None

    async def lookup(code: str) -> DataItemIndex | None:
        nonlocal read
        refused = policy.denial(policy.Access.ADMIN, ctx.principal)
        if refused is not None:
            raise GraphQLError(f"index: {refused[1]}", extensions={"code": refused[0]})
        async with lock:
            if read is None:
                served = [g.published.latest for g in ctx.generated.values()]
                read = await item_indexes.statuses(ctx.db, codes, served)
        return _out(read.get(code))

    return lookup


def with_index(ctx: Reader, items: Sequence[DataItem]) -> list[DataItem]:
    """`items`, able to answer `index` from one shared read."""
    source = index_source(ctx, [i.code for i in items])
    for item in items:
        item.index_source = source
    return list(items)
