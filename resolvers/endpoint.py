"""The GraphQL HTTP endpoint (GraphiQL on GET) whose schema the server swaps at run time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import strawberry
from strawberry.asgi import GraphQL

from resolvers import fast_lane
from resolvers.build import UNAVAILABLE, VALIDATION_CACHE_SIZE
from resolvers.context import Context
from schema import strawberry_compat as compat

ContextFactory = Callable[[Any], Awaitable[Context]]
IdePage = Callable[[Any], Awaitable[Any]]
"""Renders the IDE page for a request (the server's, which ships its assets itself)."""

_ENCODER = msgspec.json.Encoder()

OUTCOME_KEY = "yekuo.graphql.outcome"
"""Where the endpoint leaves, in the ASGI scope, what kind of result it answered (for HTTP)."""
OMIT_DATA_KEY = "yekuo.graphql.omit_data_on_request_error"
"""Set in the scope by the server when the client takes application/graphql-response+json."""
REQUEST_ERROR = "request-error"
"""The operation did not run: the document did not parse or validate, or was refused."""
UNAVAILABLE_OUTCOME = "unavailable"
"""The database was away while the operation ran."""
COMPILED_KEY = "yekuo.graphql.compiled"
"""Set in the scope when every root field was answered from compiled JSON (`fast_lane`)."""


class GraphQLEndpoint(GraphQL[Context, None]):
    """Strawberry's ASGI app; the context and the IDE page come from the server."""

    def __init__(
        self, schema: strawberry.Schema, context_factory: ContextFactory, *, ide_page: IdePage
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=False)
        self._context_factory = context_factory
        self._ide_page = ide_page

    def encode_json(self, data: object) -> bytes:
        """The response as compact UTF-8 JSON, encoded once.

        Chinese text goes out as its UTF-8 bytes (3 a character), not as escaped code points (6);
        msgspec writes the whole result in one pass, several times faster than `json.dumps`.
        """
        return _ENCODER.encode(data)

    async def render_graphql_ide(self, request: Any) -> Any:
        """The server's GraphiQL page, never strawberry's (which loads its assets from a CDN)."""
        return await self._ide_page(request)

    async def get_context(self, request: Any, response: Any) -> Context:
        """The request's context (caller, database, loaders)."""
        return await self._context_factory(request)

    async def request_context(self, request: Any) -> Context:
        """The context a request runs in (also for the compiled fast lane)."""
        return await self._context_factory(request)

    async def process_result(self, request: Any, result: Any) -> Any:
        """The response, classified for the HTTP layer (request error, database away)."""
        response: dict[str, Any] = dict(await super().process_result(request, result))
        errors: list[dict[str, Any]] = response.get("errors") or []
        if not errors and fast_lane.compiled_whole(result.data):
            request.scope[COMPILED_KEY] = True
        codes = [(e.get("extensions") or {}).get("code") for e in errors]
        if UNAVAILABLE in codes:
            request.scope[OUTCOME_KEY] = UNAVAILABLE_OUTCOME
        elif errors and result.data is None and all(e.get("path") is None for e in errors):
            # Nothing ran: every error is about the request itself, so each gets a code.
            for error in errors:
                extensions = error.setdefault("extensions", {})
                extensions.setdefault("code", request_error_code(error.get("message", "")))
            request.scope[OUTCOME_KEY] = REQUEST_ERROR
            if request.scope.get(OMIT_DATA_KEY):
                response.pop("data", None)  # the spec: no data entry when nothing executed
        return response

    def swap(self, schema: strawberry.Schema) -> None:
        """Serve `schema` from the next request on; requests in flight finish on the old one."""
        # The validation cache is keyed by schema: clear it so old schemas can be collected.
        compat.clear_validation_cache(VALIDATION_CACHE_SIZE)
        self.schema = schema


def request_error_code(message: str) -> str:
    """The code of an error that stopped an operation before it ran."""
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if message.startswith("Variable "):
        return "BAD_USER_INPUT"  # variable coercion
    return "GRAPHQL_VALIDATION_FAILED"


def sdl(schema: Any) -> str:
    """The SDL of a schema."""
    text: str = schema.as_str()
    return text + "\n"
