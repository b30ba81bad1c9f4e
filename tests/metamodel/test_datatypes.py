from __future__ import annotations

import datetime as dt
import enum
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metamodel.datatypes import (
    ORDERED_TYPES,
    TEXTUAL_TYPES,
    InvalidValue,
    coerce,
    from_json,
    most_places,
    parse_literal,
    scale_of,
    to_json,
    validate_data,
)
from metamodel.identifiers import is_valid_credit_code, is_valid_resident_id
from metamodel.specs import DataItemSpec, EnumOption, ItemType, Problem

T = ItemType
UTC = dt.UTC
CST = dt.timezone(dt.timedelta(hours=8), "CST")
# No deadline: a loaded CI machine makes timing-based failures flaky, and these are pure.
PROPERTY = settings(deadline=None)

CATEGORY_OPTIONS = (
    EnumOption("RESIDENTIAL", "居民生活用电"),
    EnumOption("COMMERCIAL", "商业用电"),
    EnumOption("INDUSTRIAL", "工业用电"),
)


# The fields a LIST item is given by default: one of each type a field may take.
LIST_FIELDS = (
    DataItemSpec("asset_no", "资产编号", T.STRING, required=True),
    DataItemSpec("remark", "备注", T.TEXT),
    DataItemSpec("digits", "位数", T.INTEGER),
    DataItemSpec("ct_ratio", "CT变比", T.DECIMAL),
    DataItemSpec("deposit", "押金", T.MONEY),
    DataItemSpec("bidirectional", "双向", T.BOOLEAN),
    DataItemSpec("installed_on", "装表日期", T.DATE),
    DataItemSpec("read_at", "抄见时间", T.DATETIME),
    DataItemSpec("purpose", "用途", T.ENUM, options=CATEGORY_OPTIONS),
    DataItemSpec("owner_id", "户主证件", T.ID_NUMBER),
    DataItemSpec("phone", "电话", T.PHONE),
)


def spec(item_type: ItemType, **fields: Any) -> DataItemSpec:
    if item_type is T.ENUM:
        fields.setdefault("options", CATEGORY_OPTIONS)
    if item_type is T.LIST:
        fields.setdefault("fields", LIST_FIELDS)
    fields.setdefault("code", "some_item")
    fields.setdefault("label", "某数据项")
    return DataItemSpec(type=item_type, **fields)


# --- independent check-digit implementations --------------------------------------------
# Weights are derived from the moduli (2^i mod 11, 3^i mod 31) rather than copied from the
# module, so a typo in either table shows up as a disagreement.


def resident_check(body: str) -> str:
    assert len(body) == 17 and body.isdigit()
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_check(body: str) -> str:
    assert len(body) == 17
    total = sum(CREDIT_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def resident(body: str) -> str:
    return body + resident_check(body)


def credit(body: str) -> str:
    return body + credit_check(body)


def replace_at(code: str, index: int, char: str) -> str:
    return code[:index] + char + code[index + 1 :]


def wrong_last(code: str, alphabet: str) -> str:
    return code[:17] + next(c for c in alphabet if c != code[17])


@pytest.mark.parametrize(
    ("sample", "check"),
    [
        ("11010519491231002X", "X"),
        ("440524188001010014", "4"),
    ],
)
def test_public_resident_samples_have_the_check_digit_they_claim(sample: str, check: str) -> None:
    assert resident_check(sample[:17]) == check == sample[17]


@pytest.mark.parametrize("sample", ["91350100M000100Y43", "91110000600037341L"])
def test_public_credit_samples_have_the_check_char_they_claim(sample: str) -> None:
    assert credit_check(sample[:17]) == sample[17]


VALID_RESIDENT_IDS = [
    "11010519491231002X",
    resident("44030520000229123"),  # leap day
    resident("65010219000101001"),  # the earliest accepted year
    resident("91000019851115002"),  # province 91
    resident("71000019700601003"),
    resident("81000019991231004"),
    resident("15010220201010005"),
]


@pytest.mark.parametrize("number", VALID_RESIDENT_IDS)
def test_valid_resident_ids(number: str) -> None:
    assert is_valid_resident_id(number)


INVALID_RESIDENT_IDS = [
    pytest.param(wrong_last("11010519491231002X", "0123456789X"), id="wrong-check-digit"),
    pytest.param(wrong_last(resident("44030520000229123"), "0123456789X"), id="wrong-check"),
    pytest.param(resident("11010519990230001"), id="feb-30"),
    pytest.param(resident("11010520010229001"), id="feb-29-not-leap"),
    pytest.param(resident("11010519991301001"), id="month-13"),
    pytest.param(resident("11010519990100001"), id="day-00"),
    pytest.param("440524188001010014", id="born-1880"),
    pytest.param(resident("10010519491231002"), id="province-10"),
    pytest.param(resident("16010519491231002"), id="province-16"),
    pytest.param(resident("72010519491231002"), id="province-72"),
    pytest.param(resident("99010519491231002"), id="province-99"),
    pytest.param("11010519491231002", id="17-chars"),
    pytest.param("11010519491231002X0", id="19-chars"),
    pytest.param("", id="empty"),
    pytest.param("11010519491231002x", id="lower-case-x"),
    pytest.param("1101051949123100AX", id="letter-in-body"),
    pytest.param("11010519491231002Y", id="bad-check-char"),
    pytest.param("１1010519491231002X", id="full-width-digit"),
]


@pytest.mark.parametrize("number", INVALID_RESIDENT_IDS)
def test_invalid_resident_ids(number: str) -> None:
    assert not is_valid_resident_id(number)


# GB/T 2260 province-level codes, written out rather than as ranges.
PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
PROVINCES |= {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91}


@pytest.mark.parametrize("province", range(100))
def test_resident_id_province_codes(province: int) -> None:
    number = resident(f"{province:02d}010519491231002")
    assert is_valid_resident_id(number) == (province in PROVINCES)


VALID_CREDIT_CODES = [
    "91350100M000100Y43",
    "91110000600037341L",
    credit("91440300MA5FHJKLM"),
    credit("12100000400010275"),
    credit("Y1310115MA1K3TUWX"),
    "000000000000000000",  # sum 0 -> 31 -> check char 0
]


@pytest.mark.parametrize("code", VALID_CREDIT_CODES)
def test_valid_credit_codes(code: str) -> None:
    assert is_valid_credit_code(code)


INVALID_CREDIT_CODES = [
    pytest.param(wrong_last("91350100M000100Y43", CREDIT_ALPHABET), id="wrong-check"),
    pytest.param(wrong_last("91110000600037341L", CREDIT_ALPHABET), id="wrong-check-2"),
    pytest.param("91350100M000100Y4", id="17-chars"),
    pytest.param("91350100M000100Y433", id="19-chars"),
    pytest.param("91350100m000100y43", id="lower-case"),
    pytest.param(replace_at(credit("91350100M00010000"), 8, "I"), id="letter-I"),
    pytest.param(replace_at(credit("91350100M00010000"), 8, "O"), id="letter-O"),
    pytest.param(replace_at(credit("91350100M00010000"), 8, "S"), id="letter-S"),
    pytest.param(replace_at(credit("91350100M00010000"), 8, "V"), id="letter-V"),
    pytest.param(replace_at(credit("91350100M00010000"), 8, "Z"), id="letter-Z"),
]


@pytest.mark.parametrize("code", INVALID_CREDIT_CODES)
def test_invalid_credit_codes(code: str) -> None:
    assert not is_valid_credit_code(code)


def test_type_groups() -> None:
    assert {T.INTEGER, T.DECIMAL, T.MONEY, T.DATE, T.DATETIME} == ORDERED_TYPES
    assert {T.STRING, T.TEXT, T.ID_NUMBER, T.PHONE} == TEXTUAL_TYPES


# --- coerce -----------------------------------------------------------------------------


class Category(enum.Enum):
    RESIDENTIAL = "RESIDENTIAL"
    OTHER = "OTHER"


class CategoryStr(enum.StrEnum):
    COMMERCIAL = "COMMERCIAL"


class NumberedCategory(enum.IntEnum):
    ONE = 1


class Wrapped:
    def __init__(self, value: object) -> None:
        self.value = value


ACCEPTED: list[Any] = [
    # STRING
    (T.STRING, {}, "张三", "张三"),
    (T.STRING, {}, "", ""),
    (T.STRING, {}, "  padded  ", "  padded  "),
    (T.STRING, {}, "x" * 200, "x" * 200),
    (T.STRING, {"max_length": 5}, "五个汉字啊", "五个汉字啊"),
    (T.STRING, {"max_length": 2000}, "y" * 2000, "y" * 2000),
    (T.STRING, {"pattern": r"[A-Z]{2}\d{4}"}, "AB1234", "AB1234"),
    (T.STRING, {}, CategoryStr.COMMERCIAL, "COMMERCIAL"),
    # TEXT
    (T.TEXT, {}, "第一行\n第二行\r\n\t缩进", "第一行\n第二行\r\n\t缩进"),
    (T.TEXT, {}, "z" * 10000, "z" * 10000),
    (T.TEXT, {"pattern": r"(?s)备注.*"}, "备注\n内容", "备注\n内容"),
    # INTEGER
    (T.INTEGER, {}, 0, 0),
    (T.INTEGER, {}, -7, -7),
    (T.INTEGER, {}, 2**31 - 1, 2**31 - 1),
    (T.INTEGER, {}, -(2**31), -(2**31)),
    (T.INTEGER, {}, Decimal("42"), 42),
    (T.INTEGER, {}, Decimal("42.000"), 42),
    (T.INTEGER, {}, Decimal("1E+3"), 1000),
    (T.INTEGER, {}, Decimal("-0"), 0),
    (T.INTEGER, {"min": "1", "max": "10"}, 1, 1),
    (T.INTEGER, {"min": "1", "max": "10"}, 10, 10),
    (T.INTEGER, {"min": "-5"}, -5, -5),
    # DECIMAL
    (T.DECIMAL, {}, Decimal("630.5"), Decimal("630.5")),
    (T.DECIMAL, {}, Decimal("630.50"), Decimal("630.5")),
    (T.DECIMAL, {}, "630.50", Decimal("630.5")),
    (T.DECIMAL, {}, "-0.25", Decimal("-0.25")),
    (T.DECIMAL, {}, "+3", Decimal("3")),
    (T.DECIMAL, {}, "007.10", Decimal("7.1")),
    (T.DECIMAL, {}, 630, Decimal("630")),
    (T.DECIMAL, {}, Decimal("6.3E+2"), Decimal("630")),
    (T.DECIMAL, {}, Decimal("-0.000"), Decimal("0")),
    (T.DECIMAL, {}, "0.0000000001", Decimal("0.0000000001")),
    (T.DECIMAL, {}, "999999999999999999.9999999999", Decimal("999999999999999999.9999999999")),
    (T.DECIMAL, {"min": "0.1", "max": "100"}, "0.1", Decimal("0.1")),
    (T.DECIMAL, {"min": "0.1", "max": "100"}, Decimal("100.000"), Decimal("100")),
    # MONEY
    (T.MONEY, {}, Decimal("630"), Decimal("630.00")),
    (T.MONEY, {}, "630.5", Decimal("630.50")),
    (T.MONEY, {}, "0.01", Decimal("0.01")),
    (T.MONEY, {}, Decimal("1.230"), Decimal("1.23")),
    (T.MONEY, {}, 12, Decimal("12.00")),
    (T.MONEY, {}, "-15.5", Decimal("-15.50")),
    (T.MONEY, {}, Decimal("-0.00"), Decimal("0.00")),
    (T.MONEY, {"min": "0", "max": "99999.99"}, "99999.99", Decimal("99999.99")),
    # BOOLEAN
    (T.BOOLEAN, {}, True, True),
    (T.BOOLEAN, {}, False, False),
    # DATE
    (T.DATE, {}, dt.date(2026, 3, 1), dt.date(2026, 3, 1)),
    (T.DATE, {}, "2024-02-29", dt.date(2024, 2, 29)),
    (T.DATE, {}, "0001-01-01", dt.date(1, 1, 1)),
    (T.DATE, {"min": "2026-01-01", "max": "2026-12-31"}, "2026-01-01", dt.date(2026, 1, 1)),
    (
        T.DATE,
        {"min": "2026-01-01", "max": "2026-12-31"},
        dt.date(2026, 12, 31),
        dt.date(2026, 12, 31),
    ),
    # DATETIME
    (
        T.DATETIME,
        {},
        dt.datetime(2026, 1, 1, 8, 0, tzinfo=CST),
        dt.datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
    ),
    (
        T.DATETIME,
        {},
        "2026-01-01T00:00:00+08:00",
        dt.datetime(2025, 12, 31, 16, 0, tzinfo=UTC),
    ),
    (T.DATETIME, {}, "2026-01-01T00:00Z", dt.datetime(2026, 1, 1, tzinfo=UTC)),
    (
        T.DATETIME,
        {},
        "2026-06-30T23:59:59.5-05:30",
        dt.datetime(2026, 7, 1, 5, 29, 59, 500000, tzinfo=UTC),
    ),
    (
        T.DATETIME,
        {},
        "2026-01-01T00:00:00.000001Z",
        dt.datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    ),
    (
        T.DATETIME,
        {"min": "2026-01-01T00:00:00+08:00"},
        "2025-12-31T16:00:00Z",
        dt.datetime(2025, 12, 31, 16, tzinfo=UTC),
    ),
    # ENUM
    (T.ENUM, {}, "RESIDENTIAL", "RESIDENTIAL"),
    (T.ENUM, {}, Category.RESIDENTIAL, "RESIDENTIAL"),
    (T.ENUM, {}, CategoryStr.COMMERCIAL, "COMMERCIAL"),
    (T.ENUM, {}, Wrapped("INDUSTRIAL"), "INDUSTRIAL"),
    # ID_NUMBER
    (T.ID_NUMBER, {}, "11010519491231002X", "11010519491231002X"),
    (T.ID_NUMBER, {}, "11010519491231002x", "11010519491231002X"),
    (T.ID_NUMBER, {}, "91350100M000100Y43", "91350100M000100Y43"),
    (T.ID_NUMBER, {}, "91350100m000100y43", "91350100M000100Y43"),
    (T.ID_NUMBER, {"max_length": 5}, "91110000600037341L", "91110000600037341L"),
    (T.ID_NUMBER, {}, VALID_RESIDENT_IDS[1], VALID_RESIDENT_IDS[1]),
    # PHONE: mobile
    (T.PHONE, {}, "13812345678", "13812345678"),
    (T.PHONE, {}, "+8613812345678", "13812345678"),
    (T.PHONE, {}, "+86 138 1234 5678", "13812345678"),
    (T.PHONE, {}, "138-1234-5678", "13812345678"),
    (T.PHONE, {}, "19912345678", "19912345678"),
    # PHONE: fixed line
    (T.PHONE, {}, "010-12345678", "010-12345678"),
    (T.PHONE, {}, "01012345678", "010-12345678"),
    (T.PHONE, {}, "010 1234 5678", "010-12345678"),
    (T.PHONE, {}, "010-1234-5678", "010-12345678"),
    (T.PHONE, {}, "021-6543210", "021-6543210"),
    (T.PHONE, {}, "0755-23456789", "0755-23456789"),
    (T.PHONE, {}, "0591 8765432", "0591-8765432"),
    (T.PHONE, {}, "0755-2345678-801", "0755-2345678-801"),
    (T.PHONE, {}, "010-12345678-123456", "010-12345678-123456"),
    (T.PHONE, {}, "0755 2345 6789 - 1", "0755-23456789-1"),
]


@pytest.mark.parametrize(("item_type", "fields", "given", "expected"), ACCEPTED)
def test_coerce_accepts(
    item_type: ItemType, fields: dict[str, Any], given: object, expected: object
) -> None:
    result = coerce(spec(item_type, **fields), given)
    assert result == expected
    assert type(result) is type(expected)
    if isinstance(expected, Decimal):
        # Equal decimals can differ in exponent; the canonical one is part of the contract.
        assert str(result) == str(expected)
    if isinstance(expected, dt.datetime):
        assert result.utcoffset() == dt.timedelta(0)  # type: ignore[attr-defined]


REFUSED: list[Any] = [
    # STRING
    (T.STRING, {}, "line\nbreak", "single line"),
    (T.STRING, {}, "carriage\rreturn", "single line"),
    (T.STRING, {}, "tab\there", "single line"),
    (T.STRING, {}, "nul\x00", "single line"),
    (T.STRING, {}, "del\x7f", "single line"),
    (T.STRING, {}, "sep\u2028", "single line"),
    (T.STRING, {}, "lone\ud800", "invalid character"),
    (T.STRING, {}, "x" * 201, "at most 200 characters"),
    (T.STRING, {"max_length": 5}, "六个汉字啊啊", "at most 5 characters"),
    (T.STRING, {"pattern": r"[A-Z]{2}\d{4}"}, "AB12345", "required format"),
    (T.STRING, {"pattern": r"[A-Z]{2}\d{4}"}, "", "required format"),
    (T.STRING, {}, 12, "must be text"),
    (T.STRING, {}, b"bytes", "must be text"),
    # TEXT
    (T.TEXT, {}, "bell\x07", "control characters"),
    (T.TEXT, {}, "nul\x00", "control characters"),
    (T.TEXT, {}, "lone\udfff", "invalid character"),
    (T.TEXT, {}, "z" * 10001, "at most 10000 characters"),
    (T.TEXT, {"max_length": 3}, "four", "at most 3 characters"),
    (T.TEXT, {"pattern": r"备注.*"}, "备注\n内容", "required format"),
    (T.TEXT, {}, ["list"], "must be text"),
    # INTEGER
    (T.INTEGER, {}, True, "not true or false"),
    (T.INTEGER, {}, False, "not true or false"),
    (T.INTEGER, {}, 1.0, "floating-point"),
    (T.INTEGER, {}, Decimal("1.5"), "whole number"),
    (T.INTEGER, {}, Decimal("NaN"), "must be an integer"),
    (T.INTEGER, {}, Decimal("Infinity"), "must be an integer"),
    (T.INTEGER, {}, "12", "must be an integer"),
    (T.INTEGER, {}, 2**31, "between -2147483648 and 2147483647"),
    (T.INTEGER, {}, -(2**31) - 1, "between -2147483648 and 2147483647"),
    pytest.param(T.INTEGER, {}, 10**5000, "between -2147483648", id="INTEGER-10**5000"),
    (T.INTEGER, {}, Decimal("1E+1000000"), "between -2147483648 and 2147483647"),
    (T.INTEGER, {"min": "1"}, 0, "at least 1"),
    (T.INTEGER, {"max": "10"}, 11, "at most 10"),
    # DECIMAL
    (T.DECIMAL, {}, 0.1, "floating-point"),
    (T.DECIMAL, {}, True, "not true or false"),
    (T.DECIMAL, {}, Decimal("NaN"), "finite"),
    (T.DECIMAL, {}, Decimal("-Infinity"), "finite"),
    (T.DECIMAL, {}, "NaN", "decimal number"),
    (T.DECIMAL, {}, "Infinity", "decimal number"),
    (T.DECIMAL, {}, "1e3", "decimal number"),
    (T.DECIMAL, {}, "1_000", "decimal number"),
    (T.DECIMAL, {}, " 1.5", "decimal number"),
    (T.DECIMAL, {}, ".5", "decimal number"),
    (T.DECIMAL, {}, "5.", "decimal number"),
    (T.DECIMAL, {}, "", "decimal number"),
    (T.DECIMAL, {}, "１２", "decimal number"),
    (T.DECIMAL, {}, "0.00000000001", "at most 10 decimal places"),
    (T.DECIMAL, {}, "1000000000000000000", "at most 18 digits"),
    (T.DECIMAL, {}, Decimal("1E+18"), "at most 18 digits"),
    (T.DECIMAL, {}, [1], "must be a number"),
    (T.DECIMAL, {"min": "0.1"}, "0.09", "at least 0.1"),
    (T.DECIMAL, {"max": "100"}, Decimal("100.0001"), "at most 100"),
    # MONEY
    (T.MONEY, {}, "630.001", "at most 2 decimal places"),
    (T.MONEY, {}, Decimal("0.005"), "at most 2 decimal places"),
    (T.MONEY, {}, 9.99, "floating-point"),
    (T.MONEY, {}, "¥10", "decimal number"),
    (T.MONEY, {"min": "0"}, "-0.01", "at least 0"),
    (T.MONEY, {"max": "99999.99"}, "100000", "at most 99999.99"),
    # BOOLEAN
    (T.BOOLEAN, {}, 1, "true or false"),
    (T.BOOLEAN, {}, "true", "true or false"),
    (T.BOOLEAN, {}, 0, "true or false"),
    # DATE
    (T.DATE, {}, dt.datetime(2026, 1, 1, tzinfo=UTC), "without a time"),
    (T.DATE, {}, "2026-02-30", "not a real date"),
    (T.DATE, {}, "2026-13-01", "not a real date"),
    (T.DATE, {}, "20260101", "YYYY-MM-DD"),
    (T.DATE, {}, "2026-1-1", "YYYY-MM-DD"),
    (T.DATE, {}, "2026-01-01T00:00:00Z", "YYYY-MM-DD"),
    (T.DATE, {}, 20260101, "must be a date"),
    (T.DATE, {"min": "2026-01-01"}, "2025-12-31", "at least 2026-01-01"),
    (T.DATE, {"max": "2026-12-31"}, dt.date(2027, 1, 1), "at most 2026-12-31"),
    # DATETIME
    (T.DATETIME, {}, dt.datetime(2026, 1, 1, 8, 0), "needs a time zone"),
    (T.DATETIME, {}, "2026-01-01T08:00:00", "needs a time zone"),
    (T.DATETIME, {}, "2026-01-01T08:00:00.123", "needs a time zone"),
    (T.DATETIME, {}, dt.date(2026, 1, 1), "not just a date"),
    (T.DATETIME, {}, "2026-01-01", "YYYY-MM-DDTHH:MM:SS"),
    (T.DATETIME, {}, "2026-01-01 08:00:00+08:00", "YYYY-MM-DDTHH:MM:SS"),
    (T.DATETIME, {}, "2026-01-01T08:00:00+0800", "YYYY-MM-DDTHH:MM:SS"),
    (T.DATETIME, {}, "2026-01-01T08:00:00.1234567Z", "YYYY-MM-DDTHH:MM:SS"),
    (T.DATETIME, {}, "2026-01-01T24:00:00Z", "not a real date and time"),
    (T.DATETIME, {}, "2026-02-29T08:00:00Z", "not a real date and time"),
    (T.DATETIME, {}, "2026-01-01T08:00:00+24:00", "impossible time zone offset"),
    (T.DATETIME, {}, "2026-01-01T08:00:00+08:60", "impossible time zone offset"),
    (T.DATETIME, {}, "0001-01-01T00:00:00+08:00", "out of the supported date range"),
    (T.DATETIME, {}, 1767225600, "must be a date and time"),
    (
        T.DATETIME,
        {"min": "2026-01-01T00:00:00+08:00"},
        "2025-12-31T15:59:59.999999Z",
        "at least 2026-01-01T00:00:00+08:00",
    ),
    (
        T.DATETIME,
        {"max": "2026-01-01T00:00:00Z"},
        dt.datetime(2026, 1, 1, 8, 0, 1, tzinfo=CST),
        "at most 2026-01-01T00:00:00Z",
    ),
    # ENUM
    (T.ENUM, {}, "AGRICULTURAL", "one of RESIDENTIAL, COMMERCIAL, INDUSTRIAL"),
    (T.ENUM, {}, "residential", "one of RESIDENTIAL"),
    (T.ENUM, {}, Category.OTHER, "one of RESIDENTIAL"),
    (T.ENUM, {}, NumberedCategory.ONE, "one of the item's options"),
    (T.ENUM, {}, Wrapped(1), "one of the item's options"),
    (T.ENUM, {}, 1, "one of the item's options"),
    # ID_NUMBER
    (
        T.ID_NUMBER,
        {},
        wrong_last("11010519491231002X", "0123456789"),
        "resident ID number (check digit does not match)",
    ),
    (
        T.ID_NUMBER,
        {},
        resident("11010519990230001"),
        "resident ID number (birth date is not a real date)",
    ),
    (
        T.ID_NUMBER,
        {},
        resident("10010519491231002"),
        "resident ID number (does not start with a valid province code)",
    ),
    (T.ID_NUMBER, {}, "440524188001010014", "birth year is before 1900"),
    (
        T.ID_NUMBER,
        {},
        wrong_last("91350100M000100Y43", CREDIT_ALPHABET),
        "not a valid unified social credit code: check character does not match",
    ),
    (
        T.ID_NUMBER,
        {},
        replace_at(credit("91350100M00010000"), 8, "I"),
        "may only use digits and the letters",
    ),
    (T.ID_NUMBER, {}, "1101051949123100", "must be 18 characters"),
    (T.ID_NUMBER, {}, "11010519491231002X ", "must be 18 characters"),
    (T.ID_NUMBER, {}, "", "must be 18 characters"),
    (T.ID_NUMBER, {}, "１1010519491231002X", "digits and Latin letters"),
    (T.ID_NUMBER, {}, 11010519491231002, "must be text"),
    # PHONE
    (T.PHONE, {}, "1381234567", "mobile number"),
    (T.PHONE, {}, "138123456789", "mobile number"),
    (T.PHONE, {}, "12812345678", "mobile number"),
    (T.PHONE, {}, "8613812345678", "mobile number"),
    (T.PHONE, {}, "+86 010 12345678", "mobile number"),
    (T.PHONE, {}, "(010)12345678", "mobile number"),
    (T.PHONE, {}, "010-123456", "mobile number"),
    (T.PHONE, {}, "010-123456789", "mobile number"),
    (T.PHONE, {}, "010-01234567", "mobile number"),
    (T.PHONE, {}, "011-12345678", "mobile number"),
    (T.PHONE, {}, "0755-2345678-1234567", "mobile number"),
    (T.PHONE, {}, "0755-2345678 801", "mobile number"),
    (T.PHONE, {}, "95598", "mobile number"),
    (T.PHONE, {}, "１３８１２３４５６７８", "mobile number"),
    (T.PHONE, {}, "", "mobile number"),
    (T.PHONE, {}, 13812345678, "must be a phone number"),
]


@pytest.mark.parametrize(("item_type", "fields", "given", "message"), REFUSED)
def test_coerce_refuses(
    item_type: ItemType, fields: dict[str, Any], given: object, message: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        coerce(spec(item_type, **fields), given)
    assert caught.value.code == "VALIDATION"
    assert message in caught.value.message
    assert str(caught.value) == caught.value.message


@pytest.mark.parametrize("item_type", list(ItemType))
def test_coerce_refuses_none_as_required(item_type: ItemType) -> None:
    with pytest.raises(InvalidValue) as caught:
        coerce(spec(item_type), None)
    assert caught.value.code == "REQUIRED"


@pytest.mark.parametrize(
    ("item_type", "fields"),
    [
        (T.INTEGER, {"min": "one"}),
        (T.DATE, {"max": "2026-02-30"}),
        (T.STRING, {"pattern": "("}),
    ],
)
def test_broken_definitions_fail_loudly_not_as_bad_input(
    item_type: ItemType, fields: dict[str, Any]
) -> None:
    value = {T.INTEGER: 1, T.DATE: dt.date(2026, 1, 1), T.STRING: "x"}[item_type]
    with pytest.raises(ValueError, match="some_item"):
        coerce(spec(item_type, **fields), value)


# --- storage form -----------------------------------------------------------------------


STORED: list[Any] = [
    (T.STRING, "张三", "张三"),
    (T.TEXT, "a\nb", "a\nb"),
    (T.INTEGER, -42, -42),
    (T.DECIMAL, Decimal("630.5"), "630.5"),
    (T.DECIMAL, Decimal("600"), "600"),
    (T.DECIMAL, Decimal("0.0000000001"), "0.0000000001"),
    (T.DECIMAL, Decimal("-12.25"), "-12.25"),
    (T.DECIMAL, Decimal("0"), "0"),
    (T.MONEY, Decimal("630.00"), "630.00"),
    (T.MONEY, Decimal("0.00"), "0.00"),
    (T.MONEY, Decimal("-0.50"), "-0.50"),
    (T.BOOLEAN, True, True),
    (T.BOOLEAN, False, False),
    (T.DATE, dt.date(2026, 3, 1), "2026-03-01"),
    (T.DATE, dt.date(9, 1, 2), "0009-01-02"),
    (T.DATETIME, dt.datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01T00:00:00.000000Z"),
    (
        T.DATETIME,
        dt.datetime(2025, 12, 31, 16, 5, 9, 120000, tzinfo=UTC),
        "2025-12-31T16:05:09.120000Z",
    ),
    (T.DATETIME, dt.datetime(999, 1, 1, tzinfo=UTC), "0999-01-01T00:00:00.000000Z"),
    (T.ENUM, "COMMERCIAL", "COMMERCIAL"),
    (T.ID_NUMBER, "11010519491231002X", "11010519491231002X"),
    (T.ID_NUMBER, "91110000600037341L", "91110000600037341L"),
    (T.PHONE, "13812345678", "13812345678"),
    (T.PHONE, "0755-2345678-801", "0755-2345678-801"),
]


@pytest.mark.parametrize(("item_type", "value", "stored"), STORED)
def test_to_json(item_type: ItemType, value: object, stored: object) -> None:
    result = to_json(spec(item_type), value)
    assert result == stored
    assert type(result) is type(stored)


@pytest.mark.parametrize(("item_type", "value", "stored"), STORED)
def test_from_json_inverts_to_json(item_type: ItemType, value: object, stored: object) -> None:
    result = from_json(spec(item_type), stored)
    assert result == value
    assert type(result) is type(value)
    assert coerce(spec(item_type), stored) == value


@pytest.mark.parametrize(
    ("item_type", "value", "stored"),
    [
        (T.DATETIME, dt.datetime(2026, 1, 1, 8, tzinfo=CST), "2026-01-01T00:00:00.000000Z"),
        (T.DECIMAL, Decimal("630.50"), "630.5"),
        (T.MONEY, Decimal("630"), "630.00"),
        (T.ENUM, CategoryStr.COMMERCIAL, "COMMERCIAL"),
    ],
)
def test_to_json_always_writes_the_canonical_form(
    item_type: ItemType, value: object, stored: object
) -> None:
    assert to_json(spec(item_type), value) == stored


def test_from_json_does_not_recheck_limits() -> None:
    # A tightened limit must never make data already stored unreadable.
    assert from_json(spec(T.INTEGER, max="10"), 11) == 11
    assert from_json(spec(T.STRING, max_length=2), "abc") == "abc"
    assert from_json(spec(T.ENUM), "RETIRED_OPTION") == "RETIRED_OPTION"


@pytest.mark.parametrize(
    ("item_type", "raw"),
    [
        (T.INTEGER, "12"),
        (T.INTEGER, True),
        (T.DECIMAL, 12),
        (T.MONEY, Decimal("1.00")),
        (T.BOOLEAN, 1),
        (T.DATE, dt.date(2026, 1, 1)),
        (T.DATETIME, dt.datetime(2026, 1, 1, tzinfo=UTC)),
        (T.DATETIME, "not a time"),
        (T.STRING, None),
        (T.PHONE, "garbage"),
    ],
)
def test_from_json_refuses_what_to_json_never_writes(item_type: ItemType, raw: object) -> None:
    with pytest.raises(InvalidValue):
        from_json(spec(item_type), raw)


@pytest.mark.parametrize(
    ("item_type", "value"),
    [
        (T.INTEGER, "12"),
        (T.DECIMAL, 1.5),
        (T.DATETIME, dt.datetime(2026, 1, 1)),
        (T.BOOLEAN, None),
    ],
)
def test_to_json_refuses_values_coerce_would_not_produce(
    item_type: ItemType, value: object
) -> None:
    with pytest.raises(TypeError, match="some_item"):
        to_json(spec(item_type), value)


# --- round trips (property based) -------------------------------------------------------

offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
single_line = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\u2028\u2029"),
    max_size=200,
)
multi_line = st.text(
    st.one_of(st.characters(blacklist_categories=("Cc", "Cs")), st.sampled_from("\n\r\t")),
    max_size=300,
)
resident_ids = st.builds(
    lambda province, area, day, sequence: resident(
        f"{province}{area:04d}{day:%Y%m%d}{sequence:03d}"
    ),
    st.sampled_from([11, 12, 31, 44, 50, 65, 71, 81, 91]),
    st.integers(0, 9999),
    st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)),
    st.integers(0, 999),
)
credit_codes = st.text(st.sampled_from(CREDIT_ALPHABET), min_size=17, max_size=17).map(credit)
mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
fixed_lines = st.builds(
    lambda area, local, extension: f"{area}-{local}" + (f"-{extension}" if extension else ""),
    st.one_of(
        st.just("010"),
        st.from_regex(r"02[0-9]", fullmatch=True),
        st.from_regex(r"0[3-9][0-9]{2}", fullmatch=True),
    ),
    st.from_regex(r"[1-9][0-9]{6,7}", fullmatch=True),
    st.one_of(st.none(), st.from_regex(r"[0-9]{1,6}", fullmatch=True)),
)

VALUES: dict[ItemType, st.SearchStrategy[Any]] = {
    T.STRING: single_line,
    T.TEXT: multi_line,
    T.INTEGER: st.integers(-(2**31), 2**31 - 1),
    T.DECIMAL: st.decimals(
        min_value=Decimal("-999999999999999999.9999999999"),
        max_value=Decimal("999999999999999999.9999999999"),
        places=10,
    ),
    T.MONEY: st.decimals(
        min_value=Decimal("-999999999999999999.99"),
        max_value=Decimal("999999999999999999.99"),
        places=2,
    ),
    T.BOOLEAN: st.booleans(),
    T.DATE: st.dates(),
    T.DATETIME: st.datetimes(
        min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=offsets
    ),
    T.ENUM: st.sampled_from([option.value for option in CATEGORY_OPTIONS]),
    T.ID_NUMBER: st.one_of(resident_ids, credit_codes),
    T.PHONE: st.one_of(mobiles, fixed_lines),
}
# An entry gives the required asset number and any of the other fields, some left empty.
VALUES[T.LIST] = st.lists(
    st.fixed_dictionaries(
        {"asset_no": VALUES[T.STRING]},
        optional={
            f.code: st.one_of(st.none(), VALUES[f.type]) for f in LIST_FIELDS if not f.required
        },
    ),
    min_size=1,
    max_size=4,
)


def test_every_type_has_a_round_trip_strategy() -> None:
    assert set(VALUES) == set(ItemType)


@PROPERTY
@given(st.sampled_from(list(ItemType)).flatmap(lambda t: st.tuples(st.just(t), VALUES[t])))
def test_round_trip_through_storage(case: tuple[ItemType, object]) -> None:
    item_type, given_value = case
    item = spec(item_type)
    value = coerce(item, given_value)
    stored = to_json(item, value)
    assert json.loads(json.dumps(stored)) == stored
    back = from_json(item, stored)
    assert back == value
    assert type(back) is type(value)
    assert to_json(item, back) == stored
    assert coerce(item, stored) == value


@PROPERTY
@given(VALUES[T.DATETIME], VALUES[T.DATETIME])
def test_datetime_storage_text_order_is_time_order(a: dt.datetime, b: dt.datetime) -> None:
    item = spec(T.DATETIME)
    stored_a, stored_b = to_json(item, a), to_json(item, b)
    assert isinstance(stored_a, str) and isinstance(stored_b, str)
    assert len(stored_a) == len(stored_b) == len("2026-01-01T00:00:00.000000Z")
    assert (stored_a < stored_b) == (a < b)
    assert (stored_a == stored_b) == (a == b)


@PROPERTY
@given(VALUES[T.DECIMAL], VALUES[T.DECIMAL])
def test_equal_decimals_share_one_storage_form(a: Decimal, b: Decimal) -> None:
    item = spec(T.DECIMAL)
    assert (to_json(item, a) == to_json(item, b)) == (a == b)
    assert "E" not in str(to_json(item, a))


# --- declared scale ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "given_value", "stored"),
    [
        (2, "630", "630.00"),
        (2, "1219.1", "1219.10"),
        (2, "1219.10", "1219.10"),
        (2, "1219.100", "1219.10"),
        (2, Decimal("1E+3"), "1000.00"),
        (2, 5, "5.00"),
        (2, "-0.0", "0.00"),
        (2, "-1.5", "-1.50"),
        (3, "0.5", "0.500"),
        (0, "630", "630"),
        (0, "630.000", "630"),
        (10, "0.0000001", "0.0000001000"),
        (10, "999999999999999999.1", "999999999999999999.1000000000"),
    ],
)
def test_a_declared_scale_gives_every_value_exactly_that_many_places(
    scale: int, given_value: object, stored: str
) -> None:
    item = spec(T.DECIMAL, scale=scale)
    value = coerce(item, given_value)
    assert isinstance(value, Decimal)
    assert value.as_tuple().exponent == -scale
    assert value == Decimal(str(given_value))
    assert to_json(item, value) == stored
    assert format(from_json(item, stored), "f") == stored
    assert coerce(item, stored) == value


@pytest.mark.parametrize(
    ("scale", "given_value", "message"),
    [
        (2, "1.234", "must have at most 2 decimal places"),
        (2, Decimal("0.001"), "must have at most 2 decimal places"),
        (2, "1219.105", "must have at most 2 decimal places"),
        (1, "0.05", "must have at most 1 decimal places"),
        (0, "630.5", "must be a whole number, without decimal places"),
    ],
)
def test_a_declared_scale_refuses_more_places(
    scale: int, given_value: object, message: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        coerce(spec(T.DECIMAL, scale=scale), given_value)
    assert (caught.value.code, caught.value.message) == ("VALIDATION", message)


def test_a_scaled_item_still_checks_its_limits() -> None:
    item = spec(T.DECIMAL, scale=2, min="0.1", max="100")
    assert str(coerce(item, "0.1")) == "0.10"
    with pytest.raises(InvalidValue, match=r"must be at least 0\.1"):
        coerce(item, "0.05")
    with pytest.raises(InvalidValue, match="must be at most 100"):
        coerce(item, "100.01")


def test_without_a_scale_decimals_keep_no_trailing_zeros() -> None:
    item = spec(T.DECIMAL)
    assert to_json(item, coerce(item, "1219.10")) == "1219.1"
    assert to_json(item, coerce(item, "0.1234567891")) == "0.1234567891"


def test_values_stored_before_a_scale_are_padded_and_never_rounded() -> None:
    item = spec(T.DECIMAL, scale=2)
    assert str(from_json(item, "630")) == "630.00"
    assert str(from_json(item, "1219.1")) == "1219.10"
    # A value with more places than a scale declared later is given back whole.
    kept = from_json(item, "1.234")
    assert kept == Decimal("1.234") and str(kept) == "1.234"
    assert to_json(item, kept) == "1.234"
    # New input is held to the scale all the same.
    with pytest.raises(InvalidValue):
        coerce(item, "1.234")


def test_money_has_two_places_whether_or_not_it_says_so() -> None:
    for item in (spec(T.MONEY), spec(T.MONEY, scale=2)):
        assert to_json(item, coerce(item, "100")) == "100.00"
        assert str(from_json(item, "100.50")) == "100.50"
        with pytest.raises(InvalidValue, match="at most 2 decimal places"):
            coerce(item, "0.001")


@pytest.mark.parametrize("scale", [-1, 11, True, "2"])
def test_a_broken_scale_is_the_definitions_fault(scale: object) -> None:
    item = spec(T.DECIMAL, scale=scale)
    with pytest.raises(ValueError, match="invalid scale"):
        coerce(item, "1")
    with pytest.raises(ValueError, match="invalid scale"):
        from_json(item, "1")


@pytest.mark.parametrize(
    ("item", "scale", "places"),
    [
        (spec(T.DECIMAL), None, 10),
        (spec(T.DECIMAL, scale=0), 0, 0),
        (spec(T.DECIMAL, scale=3), 3, 3),
        (spec(T.MONEY), 2, 2),
        (spec(T.INTEGER), None, None),
        (spec(T.STRING), None, None),
    ],
)
def test_scale_of_and_most_places(
    item: DataItemSpec, scale: int | None, places: int | None
) -> None:
    assert (scale_of(item), most_places(item)) == (scale, places)


scaled_decimals = st.integers(0, 10).flatmap(
    lambda scale: st.tuples(
        st.just(scale),
        st.decimals(
            min_value=Decimal("-999999999999999999"),
            max_value=Decimal("999999999999999999"),
            places=scale,
        ),
        st.decimals(
            min_value=Decimal("-999999999999999999"),
            max_value=Decimal("999999999999999999"),
            places=scale,
        ),
    )
)


@PROPERTY
@given(scaled_decimals)
def test_scaled_values_keep_their_value_order_and_equality(
    case: tuple[int, Decimal, Decimal],
) -> None:
    scale, a, b = case
    item = spec(T.DECIMAL, scale=scale)
    value_a, value_b = coerce(item, a), coerce(item, b)
    assert value_a == a and value_b == b
    stored_a, stored_b = to_json(item, value_a), to_json(item, value_b)
    assert isinstance(stored_a, str) and "E" not in stored_a
    assert len(stored_a.partition(".")[2]) == scale
    assert (stored_a == stored_b) == (a == b)
    back_a, back_b = from_json(item, stored_a), from_json(item, stored_b)
    assert isinstance(back_a, Decimal) and isinstance(back_b, Decimal)
    assert (back_a < back_b) == (a < b)
    assert format(back_a, "f") == stored_a


# --- literals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item_type", "text", "expected"),
    [
        (T.INTEGER, "10", 10),
        (T.INTEGER, "-2147483648", -(2**31)),
        (T.INTEGER, "+7", 7),
        (T.DECIMAL, "0.1", Decimal("0.1")),
        (T.DECIMAL, "100.50", Decimal("100.5")),
        (T.MONEY, "0.1", Decimal("0.10")),
        (T.MONEY, "5", Decimal("5.00")),
        (T.DATE, "2026-01-01", dt.date(2026, 1, 1)),
        (T.DATETIME, "2026-01-01T00:00:00+08:00", dt.datetime(2025, 12, 31, 16, tzinfo=UTC)),
        (T.DATETIME, "2026-01-01T00:00:00Z", dt.datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_literal(item_type: ItemType, text: str, expected: object) -> None:
    result = parse_literal(item_type, text)
    assert result == expected
    assert str(result) == str(expected)


@pytest.mark.parametrize(
    ("item_type", "text"),
    [
        (T.INTEGER, "1.0"),
        (T.INTEGER, "2147483648"),
        pytest.param(T.INTEGER, "9" * 5000, id="INTEGER-5000-nines"),
        (T.INTEGER, ""),
        (T.INTEGER, "ten"),
        (T.DECIMAL, "1e3"),
        (T.DECIMAL, "NaN"),
        (T.DECIMAL, "0.1 "),
        (T.MONEY, "0.001"),
        (T.DATE, "2026-02-30"),
        (T.DATE, "2026/01/01"),
        (T.DATETIME, "2026-01-01T00:00:00"),
        (T.DATETIME, "2026-01-01"),
        (T.STRING, "a"),
        (T.BOOLEAN, "true"),
        (T.ENUM, "A"),
        (T.PHONE, "13812345678"),
    ],
)
def test_parse_literal_refuses(item_type: ItemType, text: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_literal(item_type, text)
    assert caught.value.code == "VALIDATION"


# --- validate_data ----------------------------------------------------------------------

ITEMS: dict[str, DataItemSpec] = {
    "customer_name": DataItemSpec("customer_name", "客户名称", T.STRING, max_length=50),
    "id_number": DataItemSpec("id_number", "证件号码", T.ID_NUMBER),
    "capacity_kva": DataItemSpec("capacity_kva", "申请容量", T.DECIMAL, min="0.1", unit="kVA"),
    "fee": DataItemSpec("fee", "业务费", T.MONEY),
    "households": DataItemSpec("households", "户数", T.INTEGER, min="1"),
    "category": DataItemSpec("category", "用电类别", T.ENUM, options=CATEGORY_OPTIONS),
    "contact_phone": DataItemSpec("contact_phone", "联系电话", T.PHONE),
    "wanted_on": DataItemSpec("wanted_on", "期望送电日期", T.DATE),
    "surveyed_at": DataItemSpec("surveyed_at", "勘查时间", T.DATETIME),
    "is_temporary": DataItemSpec("is_temporary", "临时用电", T.BOOLEAN),
}


def test_validate_data_cleans_every_entry() -> None:
    clean, problems = validate_data(
        ITEMS,
        {
            "customer_name": "张三",
            "id_number": "11010519491231002x",
            "capacity_kva": "630.50",
            "fee": 120,
            "households": 3,
            "category": Category.RESIDENTIAL,
            "contact_phone": "+86 138 1234 5678",
            "wanted_on": "2026-05-01",
            "surveyed_at": "2026-04-01T09:30:00+08:00",
            "is_temporary": False,
        },
    )
    assert problems == []
    assert clean == {
        "customer_name": "张三",
        "id_number": "11010519491231002X",
        "capacity_kva": Decimal("630.5"),
        "fee": Decimal("120.00"),
        "households": 3,
        "category": "RESIDENTIAL",
        "contact_phone": "13812345678",
        "wanted_on": dt.date(2026, 5, 1),
        "surveyed_at": dt.datetime(2026, 4, 1, 1, 30, tzinfo=UTC),
        "is_temporary": False,
    }


def test_validate_data_reports_every_problem_at_once() -> None:
    clean, problems = validate_data(
        ITEMS,
        {
            "customer_name": "x" * 51,
            "id_number": None,
            "capacity_kva": "0.05",
            "fee": "12.345",
            "households": 2,
            "colour": "red",
            "category": "AGRICULTURAL",
            "contact_phone": "12345",
            "wanted_on": None,
            "surveyed_at": "2026-04-01T09:30:00",
            "is_temporary": "yes",
        },
    )
    assert clean == {"id_number": None, "households": 2, "wanted_on": None}
    assert [(p.code, p.path) for p in problems] == [
        ("VALIDATION", ("data", "customer_name")),
        ("VALIDATION", ("data", "capacity_kva")),
        ("VALIDATION", ("data", "fee")),
        ("VALIDATION", ("data", "colour")),
        ("VALIDATION", ("data", "category")),
        ("VALIDATION", ("data", "contact_phone")),
        ("VALIDATION", ("data", "surveyed_at")),
        ("VALIDATION", ("data", "is_temporary")),
    ]
    messages = {p.path[-1]: p.message for p in problems}
    assert "at most 50 characters" in messages["customer_name"]
    assert "at least 0.1" in messages["capacity_kva"]
    assert "2 decimal places" in messages["fee"]
    assert "colour" in messages["colour"]
    assert "needs a time zone" in messages["surveyed_at"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("input", "data"), ("input", "data", "households")),
        (("cases", 3, "data"), ("cases", 3, "data", "households")),
        ((), ("households",)),
    ],
)
def test_validate_data_prefixes_paths(
    path: tuple[str | int, ...], expected: tuple[str | int, ...]
) -> None:
    _, problems = validate_data(ITEMS, {"households": 0}, path=path)
    assert problems == [Problem("VALIDATION", "must be at least 1", expected)]


def test_validate_data_of_nothing() -> None:
    assert validate_data(ITEMS, {}) == ({}, [])


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("1219.10", "1219.10"),  # at its scale: read as it stands
        ("1219.1", "1219.10"),  # from before the scale: padded
        ("630", "630.00"),
        ("1.234", "1.234"),  # more places than a later, smaller scale: whole, never rounded
        ("-0.00", "0.00"),  # zero has one form
        ("-12.50", "-12.50"),
    ],
)
def test_stored_decimals_read_back_at_their_scale(stored: str, read: str) -> None:
    value = from_json(spec(T.DECIMAL, scale=2), stored)
    assert isinstance(value, Decimal) and format(value, "f") == read


def test_a_stored_decimal_that_is_no_number_is_refused() -> None:
    for junk in ("abc", "NaN", "1e5x", ""):
        with pytest.raises(InvalidValue):
            from_json(spec(T.DECIMAL, scale=2), junk)
