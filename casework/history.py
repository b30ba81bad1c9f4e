"""A case's history: a hash chain of events, anchored on the case row and sealed with a key.

Three things together make a changed history show (DESIGN §1.6):
- the chain: each entry's hash covers the hash before it, so a rewritten entry breaks every
  hash after it;
- the anchor: the case row keeps the chain's length and last hash (its head), so removing the
  last entries shows too;
- the seal: an HMAC over (case id, length, head) with a key kept outside the database, so
  someone who can write the database but lacks the key cannot rewrite a history consistently.
The replay (casework/replay.py) then checks that the case as stored is what its history says.

Someone holding the key as well as the database can still rewrite everything consistently, and
putting back a whole earlier copy of a case (a backup) is not detected: both are said in the
README. Keys are values handed in by the caller; this module reads no setting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from casework import case_facts, replay

GENESIS = "0" * 64
"""The head of an empty history: the hash the first entry chains to."""

KEY_PURPOSE = b"yekuo history v1"
"""The label that derives the history key from a secret, so that key serves nothing else."""


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


# -- keys and seals -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryKey:
    """A key that seals history heads; `id` names it on the rows it sealed (not the key)."""

    id: str
    secret: bytes = field(repr=False)


def derive_key(secret: str) -> HistoryKey:
    """The history key of a secret (HMAC-SHA256 under a purpose label), with its id."""
    key = hmac.new(secret.encode(), KEY_PURPOSE, hashlib.sha256).digest()
    key_id = hmac.new(key, b"key id", hashlib.sha256).hexdigest()[:16]
    return HistoryKey(id=key_id, secret=key)


@dataclass(frozen=True, slots=True)
class Keyring:
    """The key that seals now and the earlier keys whose seals are still accepted."""

    current: HistoryKey
    previous: tuple[HistoryKey, ...] = ()

    def get(self, key_id: str | None) -> HistoryKey | None:
        """The key with this id, if it is on the ring."""
        return next((k for k in (self.current, *self.previous) if k.id == key_id), None)


def keyring(current: str, previous: Sequence[str] = ()) -> Keyring:
    """A keyring from the current secret and earlier ones (repeats of a secret are dropped)."""
    key = derive_key(current)
    earlier: list[HistoryKey] = []
    for secret in previous:
        found = derive_key(secret)
        if found.id != key.id and all(found.id != k.id for k in earlier):
            earlier.append(found)
    return Keyring(current=key, previous=tuple(earlier))


def seal(key: HistoryKey, case_id: int, length: int, head: str) -> str:
    """The MAC of a case's history head: HMAC-SHA256 over `case id:length:head`."""
    return hmac.new(key.secret, f"{case_id}:{length}:{head}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Anchor:
    """What the case row records about its history: length, head, and the seal over them."""

    length: int
    head: str
    mac: str | None = None
    key_id: str | None = None


def holds_seal(keys: Keyring, case_id: int, anchor: Anchor) -> bool:
    """Whether the anchor's seal was made by a key on the ring over this case's length and head."""
    key = keys.get(anchor.key_id)
    if key is None or anchor.mac is None:
        return False
    return hmac.compare_digest(seal(key, case_id, anchor.length, anchor.head), anchor.mac)


# -- verification -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a case's history holds; if not, where it breaks (when an entry says) and why."""

    valid: bool
    broken_at_seq: int | None
    reasons: tuple[str, ...]
    length: int
    """How many entries the history has as stored."""

    @property
    def reason(self) -> str | None:
        """The first reason, or None when the history holds."""
        return self.reasons[0] if self.reasons else None


def verify(
    case_id: int,
    events: Sequence[ChainedEvent],
    anchor: Anchor,
    keys: Keyring,
    stored: case_facts.CaseFacts,
) -> Verdict:
    """Check the chain, the anchor, the seal and that the stored case is its history's replay."""
    reasons: list[str] = []
    breaks: list[int] = []
    for index, event in enumerate(events, start=1):
        if event.seq != index:
            reasons.append(
                f"event {index} is missing" if event.seq > index else f"event {index} is repeated"
            )
            breaks.append(index)
            break
    broken = first_broken(events)
    if broken is not None and not breaks:
        reasons.append(f"event {broken} does not match its hash: it, or one before it, changed")
        breaks.append(broken)
    last = events[-1].seq if events else 0
    if last < anchor.length:
        gone = f"{last + 1}" if last + 1 == anchor.length else f"{last + 1}-{anchor.length}"
        reasons.append(f"the case records {anchor.length} events; event(s) {gone} are gone")
        breaks.append(last + 1)
    elif last > anchor.length:
        reasons.append(
            f"the case records {anchor.length} events; event(s) after {anchor.length} were added "
            "outside yekuo"
        )
        breaks.append(anchor.length + 1)
    elif (events[-1].hash if events else GENESIS) != anchor.head:
        reasons.append("the last event's hash is not the head the case records")
        breaks.append(last)
    if anchor.mac is None:
        reasons.append(
            "the history is not sealed: written before sealing began, or its seal was removed"
        )
    elif keys.get(anchor.key_id) is None:
        reasons.append(
            f"the history was sealed with key {anchor.key_id}, which is not configured "
            "(YEKUO_SECRET, YEKUO_SECRET_PREVIOUS)"
        )
    elif not holds_seal(keys, case_id, anchor):
        reasons.append("the seal does not match the history: it was rewritten without the key")
    replayed = replay.replay(events)
    if replayed.error is not None:
        seq, message = replayed.error
        reasons.append(f"event {seq} cannot be replayed: {message}")
        breaks.append(seq)
    else:
        reasons.extend(case_facts.differences(replayed.facts, stored))
    return Verdict(
        valid=not reasons,
        broken_at_seq=min(breaks) if breaks else None,
        reasons=tuple(reasons),
        length=len(events),
    )
