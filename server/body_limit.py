"""A request body larger than the limit is refused before anything parses it.

The body is read here, at most `max_bytes` of it, and handed on whole; a larger one (declared
by Content-Length or found while reading a chunked body) is answered 413 with a GraphQL-shaped
error and never reaches the GraphQL layer.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BYTES = 1_048_576


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def too_large(send: Send, max_bytes: int) -> None:
    """Answer 413 with a GraphQL-shaped JSON error."""
    body = json.dumps(
        {
            "data": None,
            "errors": [
                {
                    "message": f"the request body is larger than {max_bytes} bytes",
                    "extensions": {"code": "REQUEST_TOO_LARGE"},
                }
            ],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def bounded(app: ASGIApp, max_bytes: int = DEFAULT_MAX_BYTES) -> ASGIApp:
    """`app`, with request bodies over `max_bytes` refused before it runs."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD"):
            await app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > max_bytes:
            await too_large(send, max_bytes)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                await too_large(send, max_bytes)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # after the body: a disconnect, when it comes
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    return guarded
