"""python-stdnum's check characters agree with the GB 11643 / GB 32100 rule on every vector.

`metamodel.identifiers` takes the check character of a 居民身份证 number and of a 统一社会信用代码
from `stdnum.cn.ric` and `stdnum.cn.uscc`. Every vector of test_datatypes goes through the
rule the module used before (the weight tables of the standards, written out here) and
through stdnum; they must agree, and the module's verdict must be the old rule's verdict.
stdnum's whole-number validation is not used: where it disagrees with the standards on
these vectors is pinned below, so a change in stdnum shows here first.
"""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum.cn import ric, uscc

from metamodel import identifiers
from tests.metamodel.test_datatypes import (
    CREDIT_ALPHABET,
    INVALID_CREDIT_CODES,
    INVALID_RESIDENT_IDS,
    PROVINCES,
    VALID_CREDIT_CODES,
    VALID_RESIDENT_IDS,
    credit,
    resident,
)

# The weight tables of the standards, as the module held them before stdnum.
OLD_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
OLD_RESIDENT_CHECK_CHARS = "10X98765432"
OLD_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


RESIDENT_VECTORS = [
    *VALID_RESIDENT_IDS,
    *(str(param.values[0]) for param in INVALID_RESIDENT_IDS),
    *(resident(f"{province:02d}010519491231002") for province in range(100)),
    "11010519491231002X",
    "440524188001010014",
]
CREDIT_VECTORS = [
    *VALID_CREDIT_CODES,
    *(str(param.values[0]) for param in INVALID_CREDIT_CODES),
    credit("91350100M00010000"),
]


def old_resident_id_is_valid(text: str) -> bool:
    """The GB 11643 rule as the module checked it before stdnum, weights and all."""
    if len(text) != 18 or not (
        set(text[:17]) <= set("0123456789") and text[17] in OLD_RESIDENT_CHECK_CHARS
    ):
        return False
    if int(text[:2]) not in PROVINCES:
        return False
    try:
        birth = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    total = sum(int(c) * w for c, w in zip(text, OLD_RESIDENT_WEIGHTS, strict=False))
    return birth.year >= 1900 and text[17] == OLD_RESIDENT_CHECK_CHARS[total % 11]


def old_credit_code_is_valid(text: str) -> bool:
    """The GB 32100 rule as the module checked it before stdnum."""
    if len(text) != 18 or not set(text) <= set(CREDIT_ALPHABET):
        return False
    total = sum(
        CREDIT_ALPHABET.index(c) * w for c, w in zip(text, OLD_CREDIT_WEIGHTS, strict=False)
    )
    return text[17] == CREDIT_ALPHABET[(31 - total % 31) % 31]


def has_resident_shape(text: str) -> bool:
    return len(text) == 18 and text[:17].isascii() and text[:17].isdigit()


def has_credit_shape(text: str) -> bool:
    return len(text) == 18 and set(text[:17]) <= set(CREDIT_ALPHABET)


def test_the_vectors_are_many_and_of_both_verdicts() -> None:
    resident_verdicts = {old_resident_id_is_valid(v) for v in RESIDENT_VECTORS}
    credit_verdicts = {old_credit_code_is_valid(v) for v in CREDIT_VECTORS}
    assert resident_verdicts == credit_verdicts == {True, False}
    assert sum(map(has_resident_shape, RESIDENT_VECTORS)) >= 100
    assert sum(map(has_credit_shape, CREDIT_VECTORS)) >= 8


@pytest.mark.parametrize("number", RESIDENT_VECTORS)
def test_stdnum_computes_the_resident_check_digit_of_gb_11643(number: str) -> None:
    if has_resident_shape(number):
        total = sum(int(c) * w for c, w in zip(number, OLD_RESIDENT_WEIGHTS, strict=False))
        assert ric.calc_check_digit(number) == OLD_RESIDENT_CHECK_CHARS[total % 11]
    assert identifiers.is_valid_resident_id(number) == old_resident_id_is_valid(number)


@pytest.mark.parametrize("code", CREDIT_VECTORS)
def test_stdnum_computes_the_credit_check_character_of_gb_32100(code: str) -> None:
    if has_credit_shape(code):
        total = sum(
            CREDIT_ALPHABET.index(c) * w for c, w in zip(code, OLD_CREDIT_WEIGHTS, strict=False)
        )
        assert uscc.calc_check_digit(code) == CREDIT_ALPHABET[(31 - total % 31) % 31]
    assert identifiers.is_valid_credit_code(code) == old_credit_code_is_valid(code)


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("11010519491231002x", "stdnum upper-cases a lower-case x"),
        (resident("91000019851115002"), "stdnum wants a county in its own list"),
        (resident("65010219000101001"), "stdnum wants a county in its own list"),
    ],
)
def test_stdnum_whole_resident_validation_differs_so_it_is_not_used(number: str, why: str) -> None:
    assert ric.is_valid(number) != identifiers.is_valid_resident_id(number), why


def test_stdnum_whole_credit_validation_refuses_a_letter_first_so_it_is_not_used() -> None:
    code = credit("Y1310115MA1K3TUWX")
    assert identifiers.is_valid_credit_code(code)
    assert not uscc.is_valid(code)
