"""Page cursors: exact round trips of every value kind, bound to one ordering, signed, bounded."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal

import pytest

from resolvers import cursors

KEY = cursors.derive_key("test-secret")
ORDERING = "cases|createdAt:DESC|id:DESC"
CST = dt.timezone(dt.timedelta(hours=8))

POSITIONS: list[tuple[object, ...]] = [
    (dt.datetime(2026, 3, 2, 8, 0, 0, 123456, tzinfo=dt.UTC), 41),
    (dt.datetime(2026, 3, 2, 8, 0, tzinfo=CST), 1),
    (Decimal("10.250"), Decimal("1E-12"), Decimal("-0"), 7),
    (Decimal("12345678901234567890.123456789"), 2**62),
    (None, '户名 with "quotes" and \\', True, False, 3),
    (dt.date(2026, 2, 28), "2026-02-28", 0, 9),
]


@pytest.mark.parametrize("position", POSITIONS)
def test_positions_round_trip_exactly(position: tuple[object, ...]) -> None:
    cursor = cursors.encode(KEY, ORDERING, position)
    assert len(cursor) <= cursors.MAX_CURSOR_CHARS
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    found = cursors.decode(KEY, ORDERING, cursor, width=len(position))
    assert found == position
    assert isinstance(found, tuple)
    assert [type(v) for v in found] == [type(v) for v in position]
    assert [str(v) for v in found] == [str(v) for v in position]  # scale and offset kept


def test_decimals_and_datetimes_are_written_as_text() -> None:
    cursor = cursors.encode(
        KEY, ORDERING, (Decimal("0.10"), dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 5)
    )
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))[cursors.MAC_BYTES :]
    assert json.loads(raw) == [["m", "0.10"], ["t", "2026-01-01T00:00:00.000000+00:00"], 5]


def test_a_position_too_long_for_a_cursor_is_written_as_its_row() -> None:
    cursor = cursors.encode(KEY, ORDERING, ("名" * 2000, 77))
    assert len(cursor) <= cursors.MAX_CURSOR_CHARS
    assert cursors.decode(KEY, ORDERING, cursor, width=2) == cursors.RowRef(77)


def _tampered(cursor: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_every_flipped_bit_is_refused() -> None:
    cursor = cursors.encode(KEY, ORDERING, (Decimal("1.5"), 3))
    length = len(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for index in range(length):
        with pytest.raises(cursors.CursorError, match="not signed"):
            cursors.decode(KEY, ORDERING, _tampered(cursor, index), width=2)


def test_a_cursor_of_another_ordering_key_or_width_is_refused() -> None:
    cursor = cursors.encode(KEY, ORDERING, (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 3))
    for ordering in ("cases|createdAt:ASC|id:ASC", "hvNewCases|createdAt:DESC|id:DESC", "tasks"):
        with pytest.raises(cursors.CursorError, match="not signed"):
            cursors.decode(KEY, ordering, cursor, width=2)
    with pytest.raises(cursors.CursorError, match="not signed"):
        cursors.decode(cursors.derive_key("another secret"), ORDERING, cursor, width=2)
    with pytest.raises(cursors.CursorError, match="does not fit"):
        cursors.decode(KEY, ORDERING, cursor, width=3)


def test_a_forged_payload_without_the_key_is_refused_before_parsing() -> None:
    body = json.dumps([["t", "not a time"], 1]).encode()
    forged = base64.urlsafe_b64encode(b"\0" * cursors.MAC_BYTES + body).decode()
    with pytest.raises(cursors.CursorError, match="not signed"):
        cursors.decode(KEY, ORDERING, forged, width=2)


@pytest.mark.parametrize(
    ("cursor", "says"),
    [
        ("A" * (cursors.MAX_CURSOR_CHARS + 1), "longer than"),
        ("!" * 10_000_000, "longer than"),  # refused on its length, never decoded
        ("garbage!!", "not base64url"),
        ("名字", "not base64url"),
        ("AAAAA", "not base64url"),
        ("", "not signed"),
        ("AAAA", "not signed"),
        (base64.urlsafe_b64encode(b"o:12").decode(), "not signed"),  # an old offset cursor
    ],
)
def test_malformed_cursors_are_refused(cursor: str, says: str) -> None:
    with pytest.raises(cursors.CursorError, match=says):
        cursors.decode(KEY, ORDERING, cursor, width=2)


def test_keys_come_from_the_secret() -> None:
    assert cursors.derive_key("test-secret") == KEY
    assert cursors.derive_key("other") != KEY
    assert len(KEY) == 32
    with pytest.raises(ValueError, match="no cursor key"):
        cursors.encode(b"", ORDERING, (1,))
    with pytest.raises(TypeError, match="float"):
        cursors.encode(KEY, ORDERING, (0.5, 1))
