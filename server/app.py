"""The ASGI application: GraphQL (with GraphiQL and its assets), the live SDL, health, metrics."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from database import availability
from database.session import Database
from resolvers import endpoint
from resolvers.build import build_schema
from resolvers.context import Context
from resolvers.endpoint import GraphQLEndpoint
from resolvers.fast_lane import FastLane
from schema.generated import TypeFactory
from server import body_limit, redaction
from server.graphiql import GraphiQLSite
from server.graphql_http import FAST_LANE_KEY, REQUEST_DB_KEY, GraphQLHTTP, retry_after
from server.persisted_queries import PersistedQueries
from server.registry import SchemaRegistry
from server.security import Credentials, Lockout, guess_source
from server.settings import Settings
from service import callers
from service.item_indexes import IndexKeeper
from service.reference import ReferenceCache

log = logging.getLogger(__name__)


PROCESS_HEADER = "X-Yekuo-Process"
"""/healthz names the process that answered: with several workers on one port, each has its own."""
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""Set by `yekuo serve --workers N` (server/serving.py): prometheus_client's multiprocess mode."""


class Metrics:
    """Prometheus metrics of one application.

    In one process they are this registry's. With several workers (prometheus_client's
    multiprocess mode, chosen by the environment before the library is imported) every worker
    writes its samples to shared files, and `exposition` reads them all: counters and histograms
    summed over the workers, gauges listed per live worker with a `pid` label.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "yekuo_graphql_requests", "GraphQL requests", registry=self.registry
        )
        self.seconds = Histogram(
            "yekuo_graphql_seconds", "GraphQL request time", registry=self.registry
        )
        self.revision = Gauge(
            "yekuo_schema_revision",
            "Metadata revision served",
            registry=self.registry,
            multiprocess_mode="liveall",
        )
        self.build = Gauge(
            "yekuo_schema_build_seconds",
            "Last schema build time",
            registry=self.registry,
            multiprocess_mode="liveall",
        )
        self.fast_lane = Counter(
            "yekuo_graphql_fast_lane",
            "GraphQL requests answered by the compiled fast lane (docs/compiled-queries.md)",
            registry=self.registry,
        )
        self.statements = Counter(
            "yekuo_sql_statements",
            "SQL statements sent (an executemany is one; transaction control is not counted)",
            registry=self.registry,
        )
        self.transactions = Counter(
            "yekuo_sql_transactions",
            "SQL transactions ended, by how: commit or rollback",
            ["end"],
            registry=self.registry,
        )
        self._ended = {end: self.transactions.labels(end=end) for end in ("commit", "rollback")}

    def statement(self) -> None:
        """One SQL statement was sent (database.counters.SqlWatcher)."""
        self.statements.inc()

    def transaction(self, end: str) -> None:
        """One SQL transaction ended (database.counters.SqlWatcher)."""
        self._ended[end].inc()

    @staticmethod
    def multiprocess() -> bool:
        """Whether the samples are shared between worker processes."""
        return bool(os.environ.get(MULTIPROCESS_DIR))

    def exposition(self) -> bytes:
        """The text a scrape gets: this process's registry, or every worker's samples."""
        if not self.multiprocess():
            return bytes(generate_latest(self.registry))
        gathered = CollectorRegistry()
        multiprocess.MultiProcessCollector(gathered)  # type: ignore[no-untyped-call]
        return bytes(generate_latest(gathered))

    def process_ended(self) -> None:
        """Drop this worker's gauges (its revision) from the shared samples; counters stay."""
        if self.multiprocess():
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class Services:
    """What lives as long as the process: database, registry, credentials, caches."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.db = Database(settings.database_url, history_keys=settings.history_keys())
        self.cursor_key = settings.cursor_key()
        self.credentials = credentials or Credentials(
            settings.secret,
            token_hours=settings.token_hours,
            lockout=Lockout(
                max_failures=settings.login_max_failures,
                account_max_failures=settings.login_account_max_failures,
                source_max_failures=settings.login_source_max_failures,
                lock_for=dt.timedelta(minutes=settings.login_lock_minutes),
            ),
        )
        self.reference = ReferenceCache()
        self.callers = callers.CallerCache()
        self.factory = TypeFactory()
        self.registry = SchemaRegistry(self.db, self.build, poll_seconds=settings.poll_seconds)
        self.indexes = IndexKeeper(self.db)
        """Builds the indexes of `indexed` items in the background, after each new revision."""
        self.registry.on_swap(lambda _schema: self.indexes.request())
        self.metrics = Metrics()
        self.db.counters.watch(self.metrics)
        self.compiled_queries = settings.compiled_queries
        """Whether the query compiler answers what it covers (tests compare both paths)."""
        self.fast_lane = FastLane()
        """Documents known to compile whole, answered without the GraphQL engine."""

    def build(self, snapshot: Any) -> Any:
        """Build a schema with this process's class cache."""
        return build_schema(snapshot, self.factory)

    async def metadata_changed(self) -> None:
        """This process changed metadata: serve it before answering."""
        await self.registry.refresh()

    async def context(self, request: Any) -> Context:
        """The context of one GraphQL request: its reads share one session (closed by `end`)."""
        db = self.db.for_request()
        request.scope[REQUEST_DB_KEY] = db
        checked = await self.caller(db, request.headers.get("authorization"))
        return self._context(request, db, checked)

    def _context(
        self, request: Any, db: Database, checked: callers.Checked | None, verify: bool = False
    ) -> Context:
        """A request's context with its caller (`verify`: to be checked by its reads)."""
        return Context(
            db=db,
            principal=None if checked is None else checked.principal,
            stamp=None if checked is None else checked.stamp,
            verify_stamps=(checked.stamp, checked.security) if checked and verify else None,
            credentials=self.credentials,
            reference_cache=self.reference,
            build_schema=self.build,
            cursor_key=self.cursor_key,
            metadata_changed=self.metadata_changed,
            generated=getattr(self.registry.schema, "generated_types", {}),
            clock=self.clock,
            compiled_queries=self.compiled_queries,
            source_address=guess_source(request.client.host if request.client else None),
        )

    async def known_context(self, request: Any) -> Context | None:
        """A context whose caller is taken from the cache, to be verified later (None: unknown).

        The fast lane's reads carry the stamps in their own statement and are discarded when
        the stamps moved (`Context.verify_stamps`), so no statement reads them first.
        """
        authorization = request.headers.get("authorization")
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        claims = self.credentials.read_token(authorization[7:].strip())
        known = None if claims is None else self.callers.peek(claims.user_id, claims.epoch)
        if known is None:
            return None
        db = self.db.for_request()
        request.scope[REQUEST_DB_KEY] = db
        return self._context(request, db, known, verify=True)

    async def caller(self, db: Database, authorization: str | None) -> callers.Checked | None:
        """The stamps and the user a Bearer token names, if valid and current (None: no token).

        One statement reads the stamps; the caller comes from the process's cache unless users,
        posts or units changed since it was read.
        """
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        claims = self.credentials.read_token(authorization[7:].strip())
        async with db.read() as session:
            if claims is None:  # a bad token: no caller, but the stamps are read all the same
                return await self.callers.check(session, None, 0)
            return await self.callers.check(session, claims.user_id, claims.epoch)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], dt.datetime] | None = None,
    credentials: Credentials | None = None,
) -> Starlette:
    """The application for `settings` (`clock` and `credentials` let tests fix time and cost)."""
    services = Services(settings, clock=clock, credentials=credentials)
    redaction.install()
    graphiql = GraphiQLSite()
    holder: dict[str, GraphQLEndpoint] = {}

    def swap(schema: Any) -> None:
        if "app" in holder:
            holder["app"].swap(schema)
        services.metrics.revision.set(services.registry.revision)
        services.metrics.build.set(services.registry.build_seconds)

    services.registry.on_swap(swap)

    graphql = body_limit.bounded(
        GraphQLHTTP(
            lambda: holder["app"],
            PersistedQueries(
                services.db,
                only=services.settings.persisted_only,
                max_bytes=services.settings.max_body_bytes,
            ),
            services.fast_lane,
            services.known_context,
        ),
        services.settings.max_body_bytes,
    )

    class MeteredGraphQL:
        """An ASGI endpoint (a plain function would be taken for a request handler by Route)."""

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            started = time.perf_counter()
            try:
                await graphql(scope, receive, send)
            finally:
                services.metrics.requests.inc()
                services.metrics.seconds.observe(time.perf_counter() - started)
                if scope.get(FAST_LANE_KEY):
                    services.metrics.fast_lane.inc()

    async def sdl(_request: Request) -> Response:
        schema = services.registry.schema
        assert schema is not None
        return PlainTextResponse(endpoint.sdl(schema))

    async def healthz(_request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok" if services.registry.last_error is None else "degraded",
                "revision": services.registry.revision,
                "lastBuildError": services.registry.last_error,
            },
            # Which worker process answered (`yekuo serve --workers N`): its state is its own.
            headers={PROCESS_HEADER: str(os.getpid())},
        )

    async def readyz(_request: Request) -> Response:
        # Ready: a schema is served and the database answers a bounded SELECT 1 now.
        reason = None if services.registry.schema is not None else "no schema is built yet"
        if reason is None:
            reason = await availability.ping(services.db)
        if reason is not None:
            return JSONResponse(
                {"status": "unavailable", "reason": reason},
                status_code=503,
                headers={k.decode(): v.decode() for k, v in retry_after()},
            )
        return JSONResponse({"status": "ready", "revision": services.registry.revision})

    async def metrics(_request: Request) -> Response:
        return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await services.registry.start()
        assert services.registry.schema is not None
        holder["app"] = GraphQLEndpoint(
            services.registry.schema, services.context, ide_page=graphiql.page
        )
        services.indexes.start()
        try:
            yield
        finally:
            await services.indexes.stop()
            await services.registry.stop()
            await services.db.dispose()
            services.metrics.process_ended()

    # The client's address is the peer's, unless the peer is a proxy the settings trust.
    proxies = [Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))]
    app = Starlette(
        middleware=proxies if settings.trusted_proxies else [],
        routes=[
            Route("/graphql", MeteredGraphQL(), methods=["GET", "POST"]),
            Route("/schema.graphql", sdl),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *graphiql.routes(),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
