"""GraphQL over HTTP around the GraphQL endpoint: media types, status codes, bounded bodies.

Follows the GraphQL-over-HTTP draft (https://graphql.github.io/graphql-over-http/draft/):
a client that accepts `application/graphql-response+json` gets it (preferred when it accepts
both media types equally), with 4xx for requests that never ran (parse and validation errors,
refusals); a client that asks for `application/json`, or for anything (`*/*`), or sends no
Accept gets `application/json` and 200 with errors, as before.

Every answer is GraphQL-shaped JSON, never plain text or a traceback: a body that is not a
JSON object of the right shape is 400 before the GraphQL layer sees it, and its nesting and the
length of its numbers are checked before anything recursive (the JSON parser, variable
coercion) runs; a database that cannot be reached is 503 with Retry-After.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

from starlette.requests import Request

from database import availability
from database.session import RequestDatabase
from resolvers.endpoint import (
    COMPILED_KEY,
    OMIT_DATA_KEY,
    OUTCOME_KEY,
    REQUEST_ERROR,
    UNAVAILABLE_OUTCOME,
    GraphQLEndpoint,
)
from resolvers.fast_lane import FastLane
from schema import limits
from schema import strawberry_compat as compat
from server.body_limit import Message, Receive, Scope, Send
from server.media_types import GRAPHQL_RESPONSE as GRAPHQL_RESPONSE
from server.media_types import JSON as JSON
from server.media_types import negotiate as negotiate
from server.persisted_queries import PersistedQueries, Refused
from server.request_body import BadRequest, parse_body

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
"""What a client is told to wait before retrying while the database is away."""
FAST_LANE_KEY = "yekuo.fast_lane"
"""Set in the ASGI scope when the compiled fast lane answered the request (for /metrics)."""
REQUEST_DB_KEY = "yekuo.request_db"
"""Where the request's context leaves its database (`RequestDatabase`) in the ASGI scope."""


def error_body(message: str, code: str, *, data: bool = False) -> bytes:
    """A GraphQL response holding one request error (`data: null` too, for application/json)."""
    errors = [{"message": message, "extensions": {"code": code}}]
    return json.dumps(
        {"data": None, "errors": errors} if data else {"errors": errors}, ensure_ascii=False
    ).encode()


async def answer(
    send: Send,
    status: int,
    body: bytes,
    media: str,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Send a whole response."""
    headers = [
        (b"content-type", f"{media}; charset=utf-8".encode()),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def retry_after() -> list[tuple[bytes, bytes]]:
    """The Retry-After header of a 503."""
    return [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def _is_json_content(content_type: str | None) -> bool:
    if not content_type:
        return False
    media, *params = (p.strip().lower() for p in content_type.split(";"))
    charsets = [p.partition("=")[2].strip('"') for p in params if p.startswith("charset=")]
    return media == JSON and all(c in ("utf-8", "utf8") for c in charsets)


class GraphQLHTTP:
    """The ASGI app of /graphql: checks the request, runs the endpoint, shapes the answer."""

    def __init__(
        self,
        endpoint: Callable[[], GraphQLEndpoint],
        persisted: PersistedQueries | None = None,
        fast: FastLane | None = None,
        known_context: Callable[[Any], Awaitable[Any]] | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._persisted = persisted
        self._fast = fast
        self._known_context = known_context
        """The fast lane's context: the caller from the cache, its stamps checked by the read."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request."""
        if scope["type"] != "http":
            await self._endpoint()(scope, receive, send)
            return
        media = negotiate(_header(scope, b"accept"))
        body: bytes | None = None
        if scope["method"] == "POST":
            try:
                body = await _read(receive)
                if body is None:
                    return  # the client went away
                if not _is_json_content(_header(scope, b"content-type")):
                    raise BadRequest(
                        "send the request as application/json (UTF-8)",
                        status=415,
                        code="UNSUPPORTED_MEDIA_TYPE",
                    )
                params = parse_body(body)
                if media is None:
                    raise BadRequest(
                        f"this endpoint answers {GRAPHQL_RESPONSE} or {JSON}",
                        status=406,
                        code="NOT_ACCEPTABLE",
                    )
            except BadRequest as refused:
                await answer(send, refused.status, error_body(refused.message, refused.code), JSON)
                return
            given = params.get("query")
            if (
                isinstance(given, str)
                and not self._knows(given, params.get("operationName"))
                and await _refuse_document(send, given, media)
            ):
                return  # before it is registered or run (a document known to compile passed)
            if self._persisted is not None:
                found = await _persisted_params(self._persisted, params, send, media)
                if found is None:
                    return  # refused, answered
                params = found
                if given is None and await _refuse_document(send, params["query"], media):
                    return
                if params.get("query") is not given:  # only a document found by hash changes it
                    body = json.dumps(params, ensure_ascii=False).encode()
            elif given is None:
                await answer(send, 400, error_body("send `query`", "BAD_REQUEST"), media or JSON)
                return
        scope[OMIT_DATA_KEY] = media == GRAPHQL_RESPONSE
        if body is None:
            await self._run(scope, receive, send, media or JSON)
            return
        schema = compat.graphql_schema(cast(Any, self._endpoint().schema))
        query, name = params.get("query"), params.get("operationName")
        fast = self._fast
        if fast is not None and isinstance(query, str) and fast.knows(schema, query, name):
            fast_body = await self._fast_answer(scope, schema, params)
            if fast_body is not None:
                scope[FAST_LANE_KEY] = True
                await answer(send, 200, fast_body, media or JSON)
                return
        # A connection the database dropped (a restart, a failover) fails the first statement
        # that uses it, and SQLAlchemy then renews the pool: a request that wrote nothing is
        # run once more on a fresh connection instead of answering 503.
        held = _Held(send)
        await self._run(scope, _replay(body, receive), held.send, media or JSON)
        request_db = scope.get(REQUEST_DB_KEY)
        if (
            scope.get(OUTCOME_KEY) == UNAVAILABLE_OUTCOME
            and isinstance(request_db, RequestDatabase)
            and not request_db.began_transaction
        ):
            log.warning("the database connection was lost; running the request once more")
            scope.pop(OUTCOME_KEY, None)
            await self._run(scope, _replay(body, receive), send, media or JSON)
            return
        await held.release()
        if self._fast is not None and scope.get(COMPILED_KEY) and isinstance(query, str):
            self._fast.learn(schema, query, name)

    def _knows(self, query: str, name: object) -> bool:
        """Whether the fast lane knows a document (it passed every check of the document)."""
        fast = self._fast
        if fast is None or not isinstance(name, str | None):
            return False
        return fast.knows(compat.graphql_schema(cast(Any, self._endpoint().schema)), query, name)

    async def _fast_answer(self, scope: Scope, schema: Any, params: dict[str, Any]) -> bytes | None:
        """The fast lane's body (`resolvers.fast_lane`), or None for the usual path."""
        assert self._fast is not None
        endpoint = self._endpoint()
        try:
            request = Request(scope)
            known = self._known_context
            context = None if known is None else await known(request)
            if context is None:
                context = await endpoint.request_context(request)
            return await self._fast.answer(
                schema,
                params["query"],
                params.get("operationName"),
                params.get("variables"),
                context,
            )
        except Exception as error:  # the usual path meets it again and answers it
            log.debug("the fast lane handed a request back: %r", error)
            return None
        finally:
            request_db = scope.pop(REQUEST_DB_KEY, None)
            if isinstance(request_db, RequestDatabase):
                await request_db.close()

    async def _run(self, scope: Scope, receive: Receive, send: Send, media: str) -> None:
        shaped = _Shaper(scope, send, media)
        try:
            await self._endpoint()(scope, receive, shaped.send)
        except Exception as error:
            if shaped.started:
                raise
            if availability.is_unavailable(error):
                scope[OUTCOME_KEY] = UNAVAILABLE_OUTCOME
                log.warning("the database is unavailable: %s", type(error).__name__)
                await answer(
                    send,
                    503,
                    error_body("The database is unavailable; retry later.", "UNAVAILABLE"),
                    media,
                    retry_after(),
                )
                return
            log.exception("unexpected error answering a GraphQL request")
            await answer(
                send, 500, error_body("Unexpected error; it has been logged.", "INTERNAL"), media
            )
        finally:
            request_db = scope.get(REQUEST_DB_KEY)
            if isinstance(request_db, RequestDatabase):
                await request_db.close()  # the request's read session goes back to the pool


async def _persisted_params(
    persisted: PersistedQueries, params: dict[str, Any], send: Send, media: str | None
) -> dict[str, Any] | None:
    """The request's parameters with its persisted document, or None once a refusal is sent.

    The registry is in the database: one that cannot be reached is answered as every query
    is then (503, Retry-After).
    """
    try:
        return await persisted.resolve(params)
    except Refused as refused:
        data = refused.status == 200 and media == JSON
        body = error_body(refused.message, refused.code, data=data)
        await answer(send, refused.status, body, media or JSON)
    except Exception as error:
        if not availability.is_unavailable(error):
            raise
        log.warning("the database is unavailable: %s", type(error).__name__)
        body = error_body("The database is unavailable; retry later.", "UNAVAILABLE")
        await answer(send, 503, body, media or JSON, retry_after())
    return None


async def _refuse_document(send: Send, query: str, media: str | None) -> bool:
    """Answer a document the limits refuse as a parse error, before graphql's parser runs."""
    refusal = limits.document_refusal(query)
    if refusal is None:
        return False
    message, code = refusal
    if media == JSON:
        await answer(send, 200, error_body(message, code, data=True), media)
    else:
        await answer(send, 400, error_body(message, code), media or JSON)
    return True


class _Held:
    """Holds a response back until it is known whether the request runs again."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._messages: list[Message] = []

    async def send(self, message: Message) -> None:
        """Keep a message."""
        self._messages.append(message)

    async def release(self) -> None:
        """Send what was kept."""
        for message in self._messages:
            await self._send(message)


class _Shaper:
    """Wraps the endpoint's `send`: sets media type and status from the result's outcome."""

    def __init__(self, scope: Scope, send: Send, media: str) -> None:
        self.scope, self._send, self.media = scope, send, media
        self.started = False
        self._plain: MutableMapping[str, Any] | None = None
        self._chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        """Pass a message on, reshaped."""
        if message["type"] == "http.response.start":
            self.started = True
            headers = dict(message.get("headers", ()))
            content_type = headers.get(b"content-type", b"").decode("latin-1")
            if message["status"] >= 400 and content_type.startswith("text/plain"):
                self._plain = message  # strawberry's own refusals: rewritten as JSON below
                return
            if content_type.startswith(JSON):
                message = self._reshape(message)
            await self._send(message)
            return
        if self._plain is not None and message["type"] == "http.response.body":
            self._chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                text = b"".join(self._chunks).decode("utf-8", "replace")
                status = self._plain["status"]
                code = "METHOD_NOT_ALLOWED" if status == 405 else "BAD_REQUEST"
                await answer(self._send, status, error_body(text, code), self.media)
            return
        await self._send(message)

    def _reshape(self, message: Message) -> Message:
        outcome = self.scope.get(OUTCOME_KEY)
        status: int = message["status"]
        extra: list[tuple[bytes, bytes]] = []
        if outcome == UNAVAILABLE_OUTCOME:
            status, extra = 503, retry_after()
        elif outcome == REQUEST_ERROR and self.media == GRAPHQL_RESPONSE:
            status = 400
        headers = [(k, v) for k, v in message.get("headers", ()) if k not in (b"content-type",)]
        headers.append((b"content-type", f"{self.media}; charset=utf-8".encode()))
        return {**message, "status": status, "headers": headers + extra}


async def _read(receive: Receive) -> bytes | None:
    """The whole body (its size is bounded by `body_limit` before this runs); None on leave."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
