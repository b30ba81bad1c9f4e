"""Page cursors: a position in one list's order, opaque to clients, signed, and bounded.

A cursor is base64url (unpadded) of a 16-byte MAC followed by a compact JSON payload: the
sort-key values of the row it stands for, the row's id last. The MAC is HMAC-SHA256, truncated
to 16 bytes, over the list's ordering (its name and keys, e.g. `cases|createdAt:DESC|id:DESC`)
and the payload, under a key derived from the server's secret. The ordering is authenticated
rather than carried: a cursor of another list or ordering fails the check like a forged one.

Reading is bounded: a cursor over `MAX_CURSOR_CHARS` is refused before it is decoded, and a bad
MAC before the payload is parsed, so only what this server wrote is ever parsed.

Values round-trip exactly: null, booleans, integers and strings as themselves in JSON; Decimals
as their string (`["m", "1.50"]`); datetimes as ISO 8601 with microseconds and offset
(`["t", …]`); dates as ISO 8601 (`["d", …]`). A position whose values would not fit the limit
(a long text key) is written as its row's id alone (`{"r": id}`): the page reads that row's
values when it is used.

Cursors are signed with the current secret only: after the secret changes, old cursors are
refused and a client starts again from the first page.

Pure: no framework, no clock, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_CURSOR_CHARS = 1024
"""The longest cursor read (and written: longer positions are written by row id)."""

MAC_BYTES = 16
KEY_PURPOSE = b"yekuo page cursors v1"


class CursorError(ValueError):
    """A cursor this server did not write for this list and ordering, or one it cannot use."""


@dataclass(frozen=True, slots=True)
class RowRef:
    """A position named by its row's id alone (its values did not fit a cursor)."""

    row_id: int


def derive_key(secret: str) -> bytes:
    """The key that signs cursors: HMAC-SHA256 of a purpose label under the server's secret."""
    return hmac.new(secret.encode(), KEY_PURPOSE, hashlib.sha256).digest()


def _mac(key: bytes, ordering: str, payload: bytes) -> bytes:
    message = ordering.encode() + b"\x00" + payload
    return hmac.new(key, message, hashlib.sha256).digest()[:MAC_BYTES]


def _encode_value(value: object) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal) and value.is_finite():
        return ["m", str(value)]
    if isinstance(value, dt.datetime):
        return ["t", value.isoformat(timespec="microseconds")]
    if isinstance(value, dt.date):
        return ["d", value.isoformat()]
    raise TypeError(f"a cursor cannot hold {type(value).__name__} values")


def _decode_value(raw: Any) -> object:
    if raw is None or isinstance(raw, bool | int | str):
        return raw
    if isinstance(raw, list) and len(raw) == 2 and isinstance(raw[1], str):
        tag, text = raw
        if tag == "m":
            return Decimal(text)
        if tag == "t":
            return dt.datetime.fromisoformat(text)
        if tag == "d":
            return dt.date.fromisoformat(text)
    raise CursorError(f"unexpected value {raw!r}")


def _sign(key: bytes, ordering: str, payload: Any) -> str:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    token = base64.urlsafe_b64encode(_mac(key, ordering, body) + body)
    return token.rstrip(b"=").decode()


def encode(key: bytes, ordering: str, position: Sequence[object]) -> str:
    """The cursor of a row at `position` (its sort-key values, its id last) in `ordering`."""
    if not key:
        raise ValueError("no cursor key: the server derives it from its secret")
    cursor = _sign(key, ordering, [_encode_value(v) for v in position])
    if len(cursor) <= MAX_CURSOR_CHARS:
        return cursor
    row_id = position[-1]
    if not isinstance(row_id, int) or isinstance(row_id, bool):
        raise TypeError("a position ends with its row's id")
    return _sign(key, ordering, {"r": row_id})


def decode(key: bytes, ordering: str, cursor: str, *, width: int) -> tuple[object, ...] | RowRef:
    """The position a cursor of `ordering` stands for (`width` values, or the row's id).

    CursorError for a cursor too long, malformed, or not signed for this ordering by this
    server; the length is checked before decoding and the MAC before parsing.
    """
    if not key:
        raise ValueError("no cursor key: the server derives it from its secret")
    if len(cursor) > MAX_CURSOR_CHARS:
        raise CursorError(f"longer than {MAX_CURSOR_CHARS} characters")
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as error:
        raise CursorError("not base64url") from error
    mac, body = raw[:MAC_BYTES], raw[MAC_BYTES:]
    if len(mac) != MAC_BYTES or not hmac.compare_digest(mac, _mac(key, ordering, body)):
        raise CursorError("not signed for this list and ordering")
    try:
        payload = json.loads(body)
        if isinstance(payload, dict) and payload.keys() == {"r"}:
            row_id = payload["r"]
            if isinstance(row_id, int) and not isinstance(row_id, bool):
                return RowRef(row_id)
        elif isinstance(payload, list) and len(payload) == width:
            return tuple(_decode_value(v) for v in payload)
    except (ValueError, InvalidOperation) as error:  # JSON, ISO and Decimal errors
        raise CursorError("unreadable payload") from error
    raise CursorError("payload does not fit the ordering")
