"""Registered GraphQL documents: found by hash, added once, listed for the command line."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from database.security_tables import PersistedQueryRow

MAX_LISTED = 10_000
"""At most this many documents are listed at once (the allow-list is small by nature)."""


async def document(session: AsyncSession, digest: str) -> str | None:
    """The document registered under `digest`, or None."""
    found: str | None = await session.scalar(
        select(PersistedQueryRow.document).where(PersistedQueryRow.hash == digest)
    )
    return found


async def add(session: AsyncSession, digest: str, text: str, now: dt.datetime) -> bool:
    """Register `text` under `digest` unless it is already there; True if it was added.

    A hash names one text (the caller checked it is the text's SHA-256), so a second
    registration, even one racing this from another process, has nothing to change.
    """
    if await document(session, digest) is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(PersistedQueryRow(hash=digest, document=text, created_at=now))
    except IntegrityError:  # another process registered it first: the same text
        return False
    return True


async def listed(session: AsyncSession) -> list[tuple[str, int, dt.datetime]]:
    """(hash, document length, registered at) of the documents, oldest first, bounded."""
    rows = await session.execute(
        select(
            PersistedQueryRow.hash,
            func.length(PersistedQueryRow.document),
            PersistedQueryRow.created_at,
        )
        .order_by(PersistedQueryRow.created_at, PersistedQueryRow.hash)
        .limit(MAX_LISTED)
    )
    return [(digest, int(size), at) for digest, size, at in rows.tuples()]
