"""Persisted queries: a client sends a document's SHA-256 instead of its text.

The automatic persisted queries convention: `extensions.persistedQuery = {version: 1,
sha256Hash}`. A known hash runs its document; an unknown one is answered (HTTP 200) with
PERSISTED_QUERY_NOT_FOUND, and the client sends the text with the hash to register it. With
YEKUO_PERSISTED_ONLY the server runs registered documents alone and registers none over HTTP
(`yekuo queries add` does). Documents live in the database, so every process shares them; each
process keeps the last 1,000 it used, and since the text it hands on is then the same string,
strawberry's parser and validation caches (the latter per schema, so per revision) skip parsing
and validating it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import OrderedDict
from typing import Any

from database import persisted_query_repo
from database.session import Database

CACHE_SIZE = 1_000
_HASH = re.compile(r"[0-9a-f]{64}")


class Refused(Exception):
    """A persisted-query request answered with an error (`status` 200: a GraphQL error)."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def digest(text: str) -> str:
    """The SHA-256 of a document, as the convention writes it (lowercase hex)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def requested_hash(params: dict[str, Any]) -> str | None:
    """The hash a request names, None if it names none; Refused if it is malformed."""
    extensions = params.get("extensions") or {}
    persisted = extensions.get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise Refused(
            "`extensions.persistedQuery` must be {version: 1, sha256Hash}", "VALIDATION", 400
        )
    value = persisted.get("sha256Hash")
    if not isinstance(value, str) or _HASH.fullmatch(value) is None:
        raise Refused("`sha256Hash` must be 64 lowercase hex characters", "VALIDATION", 400)
    return value


class PersistedQueries:
    """Finds and registers documents by hash for one server process."""

    def __init__(self, db: Database, *, only: bool, max_bytes: int) -> None:
        self._db, self.only, self._max_bytes = db, only, max_bytes
        self._cache: OrderedDict[str, str] = OrderedDict()

    async def resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        """The request's parameters with the document to run in `query`, or Refused."""
        wanted = requested_hash(params)
        query = params.get("query")
        if wanted is None:
            if self.only:
                raise Refused(
                    "this server runs registered documents only; send "
                    "extensions.persistedQuery.sha256Hash",
                    "PERSISTED_QUERY_REQUIRED",
                    400,
                )
            return params
        if isinstance(query, str):
            return {**params, "query": await self._register(wanted, query)}
        return {**params, "query": await self._find(wanted)}

    async def _find(self, wanted: str) -> str:
        text = self._cache.get(wanted)
        if text is None:
            async with self._db.read() as session:
                text = await persisted_query_repo.document(session, wanted)
            if text is None:
                raise Refused("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND", 200)
            if len(text.encode("utf-8")) > self._max_bytes:
                raise Refused(
                    f"the document is larger than {self._max_bytes} bytes",
                    "REQUEST_TOO_LARGE",
                    413,
                )
        self._remember(wanted, text)
        return text

    async def _register(self, wanted: str, query: str) -> str:
        if self.only:
            try:  # a registered document may be sent with its hash
                known: str | None = await self._find(wanted)
            except Refused:
                known = None
            if known is None or known != query:
                raise Refused(
                    "this server registers documents from its command line only",
                    "PERSISTED_QUERY_REQUIRED",
                    400,
                )
            return known
        if digest(query) != wanted:
            raise Refused(
                "`sha256Hash` is not the SHA-256 of `query`", "PERSISTED_QUERY_HASH_MISMATCH", 400
            )
        if wanted not in self._cache:
            async with self._db.transaction() as session:
                await persisted_query_repo.add(session, wanted, query, dt.datetime.now(dt.UTC))
        self._remember(wanted, query)
        return query

    def _remember(self, wanted: str, text: str) -> None:
        self._cache[wanted] = text
        self._cache.move_to_end(wanted)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
