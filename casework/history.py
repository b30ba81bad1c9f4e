"""The hash chain over a case's events: a rewritten entry breaks every hash after it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class ChainedEvent:
    """An event as stored: numbered, timed, attributed and chained to the one before."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    data: Mapping[str, Any]
    metadata_version: int
    hash: str


def canonical(
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    data: Mapping[str, Any],
    metadata_version: int,
) -> bytes:
    """The canonical JSON bytes of an entry (sorted keys, no spaces, UTC ISO time)."""
    body = {
        "seq": seq,
        "at": at.astimezone(dt.UTC).isoformat(),
        "actor": actor,
        "action": action,
        "data": data,
        "metadata_version": metadata_version,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain(previous_hash: str, entry: bytes) -> str:
    """The hash of an entry given the hash of the one before it."""
    return hashlib.sha256(previous_hash.encode() + entry).hexdigest()


def first_broken(events: Sequence[ChainedEvent]) -> int | None:
    """The seq of the first entry whose hash does not match, or None if the chain holds."""
    previous = GENESIS
    for event in events:
        entry = canonical(
            event.seq, event.at, event.actor, event.action, event.data, event.metadata_version
        )
        if chain(previous, entry) != event.hash:
            return event.seq
        previous = event.hash
    return None
