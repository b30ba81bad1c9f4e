"""Identity and contact numbers: 居民身份证 (GB 11643), 统一社会信用代码 (GB 32100) and phones.

The check characters are computed by python-stdnum (`stdnum.cn.ric`, `stdnum.cn.uscc`); the
rest of each check is this module's own, because stdnum's full validation disagrees with the
standards on our vectors: `ric.validate` requires the first six digits to be a county in its
bundled GB/T 2260 list (so a valid number from a renamed or test county fails, and some codes
raise KeyError), accepts lower-case and full-width characters, and does not bound the birth
year; `uscc.validate` requires the first eight characters to be digits, which refuses the
registration-authority letters GB 32100 allows (``Y1310115MA1K3TUWX``). Only the check
characters agree on every vector (tests/metamodel/test_identifiers.py).
"""

from __future__ import annotations

import datetime as dt
import re

from stdnum.cn import ric, uscc

from metamodel.specs import DataItemSpec
from metamodel.value_forms import InvalidValue, expect_str

_DIGITS = frozenset("0123456789")
_RESIDENT_CHECK_CHARS = "10X98765432"
_PROVINCE_CODES = frozenset(
    {
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        *range(81, 84),
        91,
    }
)
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CHARS = frozenset(_CREDIT_ALPHABET)

_MOBILE = re.compile(r"(?:\+86)?(1[3-9][0-9]{9})")
# Area codes 010 and 020-029 have three digits, every other one (03xx-09xx) four, so the
# split between area code and local number is never ambiguous once separators are gone.
_FIXED_LINE = re.compile(r"(0(?:10|2[0-9]|[3-9][0-9]{2}))([1-9][0-9]{6,7})")
_EXTENSION = re.compile(r"[0-9]{1,6}")


def resident_id_problem(text: str) -> str | None:
    """Why `text` is not a valid 居民身份证 number, or None if it is one."""
    if len(text) != 18:
        return "must be 18 characters"
    if not (set(text[:17]) <= _DIGITS and text[17] in _RESIDENT_CHECK_CHARS):
        return "must be 17 digits followed by a digit or X"
    if int(text[:2]) not in _PROVINCE_CODES:
        return "does not start with a valid province code"
    year, month, day = int(text[6:10]), int(text[10:12]), int(text[12:14])
    try:
        dt.date(year, month, day)
    except ValueError:
        return "birth date is not a real date"
    if year < 1900:
        return "birth year is before 1900"
    if text[17] != ric.calc_check_digit(text):
        return "check digit does not match"
    return None


def credit_code_problem(text: str) -> str | None:
    """Why `text` is not a valid 统一社会信用代码, or None if it is one."""
    if len(text) != 18:
        return "must be 18 characters"
    if not set(text) <= _CREDIT_CHARS:
        return f"may only use digits and the letters {_CREDIT_ALPHABET[10:]}"
    if text[17] != uscc.calc_check_digit(text):
        return "check character does not match"
    return None


def is_valid_resident_id(text: str) -> bool:
    """Whether `text` is a valid 居民身份证 number (GB 11643-1999) in upper case."""
    return resident_id_problem(text) is None


def is_valid_credit_code(text: str) -> bool:
    """Whether `text` is a valid 统一社会信用代码 (GB 32100-2015) in upper case."""
    return credit_code_problem(text) is None


def read_id_number(spec: DataItemSpec, value: object) -> str:
    """`value` as an upper-case 居民身份证 number or 统一社会信用代码, or InvalidValue."""
    text = expect_str(value, "text")
    # Only ASCII is upper-cased: str.upper maps some non-ASCII letters onto ASCII ones.
    if not text.isascii():
        raise InvalidValue("may only use digits and Latin letters")
    text = text.upper()
    resident = resident_id_problem(text)
    if resident is None:
        return text
    credit = credit_code_problem(text)
    if credit is None:
        return text
    if len(text) != 18:
        raise InvalidValue("must be 18 characters (a resident ID or a unified social credit code)")
    if not (set(text[:17]) <= _DIGITS and text[17] in _RESIDENT_CHECK_CHARS):
        raise InvalidValue(f"is not a valid unified social credit code: {credit}")
    if set(text) <= _CREDIT_CHARS:
        # All digits (and maybe a final X) fits both schemes, so name both failures.
        raise InvalidValue(
            f"is neither a valid resident ID number ({resident}) "
            f"nor a valid unified social credit code ({credit})"
        )
    raise InvalidValue(f"is not a valid resident ID number: {resident}")


def read_phone(spec: DataItemSpec, value: object) -> str:
    """The canonical mobile or fixed-line number `value` is (see `datatypes.coerce`)."""
    text = expect_str(value, "a phone number")
    spaceless = text.replace(" ", "")
    compact = spaceless.replace("-", "")
    mobile = _MOBILE.fullmatch(compact)
    if mobile:
        return mobile[1]
    fixed = _FIXED_LINE.fullmatch(compact)
    if fixed:
        return f"{fixed[1]}-{fixed[2]}"
    # An extension is only recognised after a hyphen, once the digits before it already
    # make a whole number; "010-1234-5678" therefore stays a number without extension.
    head, hyphen, extension = spaceless.rpartition("-")
    if hyphen and _EXTENSION.fullmatch(extension):
        fixed = _FIXED_LINE.fullmatch(head.replace("-", ""))
        if fixed:
            return f"{fixed[1]}-{fixed[2]}-{extension}"
    raise InvalidValue(
        "must be a mobile number such as 13812345678 "
        "or a fixed-line number with area code such as 0755-12345678"
    )
