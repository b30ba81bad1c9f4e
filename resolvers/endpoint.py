"""The GraphQL HTTP endpoint (GraphiQL on GET) whose schema the server swaps at run time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.asgi import GraphQL
from strawberry.extensions.validation_cache import _get_validate_cache

from resolvers.build import VALIDATION_CACHE_SIZE
from resolvers.context import Context

ContextFactory = Callable[[Any], Awaitable[Context]]


class GraphQLEndpoint(GraphQL[Context, None]):
    """Strawberry's ASGI app; the context comes from the server's factory."""

    def __init__(self, schema: strawberry.Schema, context_factory: ContextFactory) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=False)
        self._context_factory = context_factory

    async def get_context(self, request: Any, response: Any) -> Context:
        """The request's context (caller, database, loaders)."""
        return await self._context_factory(request)

    def swap(self, schema: strawberry.Schema) -> None:
        """Serve `schema` from the next request on; requests in flight finish on the old one."""
        # The validation cache is keyed by schema: clear it so old schemas can be collected.
        cache: Any = _get_validate_cache(VALIDATION_CACHE_SIZE)
        cache.cache_clear()
        self.schema = schema


def sdl(schema: Any) -> str:
    """The SDL of a schema."""
    text: str = schema.as_str()
    return text + "\n"
