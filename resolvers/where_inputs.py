"""What every list's `where` input shares: bounded value lists, and an org unit named by code.

A filter may list at most `MAX_LIST_VALUES` values per field (a query stays bounded whatever
it names), and an org unit filter reads the unit's subtree path; an unknown code matches
nothing rather than everything.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphql import GraphQLError

from database import metadata_reads
from metamodel import filters as f
from resolvers.context import Context
from resolvers.convert import given

NOWHERE = "/nowhere/"
"""The path of an org unit no code names: it contains no case, task or deadline."""


def bound_lists(where: object, names: Iterable[str]) -> None:
    """Refuse (VALIDATION, with its path) a list field of `where` longer than the limit."""
    for name in names:
        if len(given(getattr(where, name), [])) > f.MAX_LIST_VALUES:
            raise GraphQLError(
                f"'{name}' takes at most {f.MAX_LIST_VALUES} values",
                extensions={"code": "VALIDATION", "path": ["where", name]},
            )


async def org_path(ctx: Context, code: str | None) -> str | None:
    """The subtree path of the org unit `code` (None: no unit asked for)."""
    if not code:
        return None
    async with ctx.db.read() as session:
        unit = await metadata_reads.org_unit(session, code)
    return unit.path if unit else NOWHERE
