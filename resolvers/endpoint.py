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
IdePage = Callable[[Any], Awaitable[Any]]
"""Renders the IDE page for a request (the server's, which ships its assets itself)."""


class GraphQLEndpoint(GraphQL[Context, None]):
    """Strawberry's ASGI app; the context and the IDE page come from the server."""

    def __init__(
        self, schema: strawberry.Schema, context_factory: ContextFactory, *, ide_page: IdePage
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=False)
        self._context_factory = context_factory
        self._ide_page = ide_page

    async def render_graphql_ide(self, request: Any) -> Any:
        """The server's GraphiQL page, never strawberry's (which loads its assets from a CDN)."""
        return await self._ide_page(request)

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
