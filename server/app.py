"""The ASGI application: GraphQL (with GraphiQL), the live SDL, health and metrics."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import strawberry
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions.validation_cache import _get_validate_cache

from database import user_repo
from database.session import Database
from resolvers.build import build_schema
from resolvers.context import Context, VersionCache
from schema.generated import TypeFactory
from server.registry import SchemaRegistry
from server.security import Credentials
from server.settings import Settings

log = logging.getLogger(__name__)


class Metrics:
    """Prometheus metrics of one application."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("yekuo_graphql_requests", "GraphQL requests", registry=self.registry)
        self.seconds = Histogram("yekuo_graphql_seconds", "GraphQL request time", registry=self.registry)
        self.revision = Gauge("yekuo_schema_revision", "Metadata revision served", registry=self.registry)
        self.build = Gauge("yekuo_schema_build_seconds", "Last schema build time", registry=self.registry)


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI app with our context; its `schema` is swapped by the registry."""

    def __init__(self, schema: strawberry.Schema, services: Services) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=False)
        self.services = services

    async def get_context(self, request: Any, response: Any) -> Context:
        """The caller from the Bearer token (None when absent or no longer valid)."""
        return Context(
            db=self.services.db,
            principal=await self.services.principal(request.headers.get("authorization")),
            credentials=self.services.credentials,
            versions=self.services.versions,
            build_schema=self.services.build,
            metadata_changed=self.services.metadata_changed,
        )


class Services:
    """What lives as long as the process: database, registry, credentials, caches."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.credentials = Credentials(settings.secret, token_hours=settings.token_hours)
        self.versions = VersionCache()
        self.factory = TypeFactory()
        self.registry = SchemaRegistry(self.db, self.build, poll_seconds=settings.poll_seconds)
        self.metrics = Metrics()

    def build(self, snapshot: Any) -> strawberry.Schema:
        """Build a schema with this process's class cache."""
        return build_schema(snapshot, self.factory)

    async def metadata_changed(self) -> None:
        """This process changed metadata: serve it before answering."""
        await self.registry.refresh()

    async def principal(self, authorization: str | None) -> user_repo.Principal | None:
        """The user a Bearer token names, if the token is valid and still current."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        claims = self.credentials.read_token(authorization[7:].strip())
        if claims is None:
            return None
        async with self.db.read() as session:
            principal = await user_repo.get_principal(session, int(claims["sub"]))
        if principal is None or principal.disabled or principal.token_epoch != claims.get("epoch"):
            return None
        return principal


def create_app(settings: Settings) -> Starlette:
    """The application for `settings`."""
    services = Services(settings)
    holder: dict[str, GraphQLApp] = {}

    def swap(schema: strawberry.Schema) -> None:
        # Old schemas stay alive in the validation cache's keys: clear it on every swap.
        _get_validate_cache(256).cache_clear()
        if "app" in holder:
            holder["app"].schema = schema
        services.metrics.revision.set(services.registry.revision)
        services.metrics.build.set(services.registry.build_seconds)

    services.registry.on_swap(swap)

    class GraphQLEndpoint:
        """An ASGI endpoint (a plain function would be taken for a request handler by Route)."""

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            started = time.perf_counter()
            try:
                await holder["app"](scope, receive, send)
            finally:
                services.metrics.requests.inc()
                services.metrics.seconds.observe(time.perf_counter() - started)

    async def sdl(_request: Request) -> Response:
        schema = services.registry.schema
        assert schema is not None
        return PlainTextResponse(schema.as_str() + "\n")

    async def healthz(_request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok" if services.registry.last_error is None else "degraded",
                "revision": services.registry.revision,
                "lastBuildError": services.registry.last_error,
            }
        )

    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await services.registry.start()
        assert services.registry.schema is not None
        holder["app"] = GraphQLApp(services.registry.schema, services)
        try:
            yield
        finally:
            await services.registry.stop()
            await services.db.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", GraphQLEndpoint(), methods=["GET", "POST"]),
            Route("/schema.graphql", sdl),
            Route("/healthz", healthz),
            Route("/metrics", metrics),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
