"""GraphQL names derived from metadata codes (never from labels), and the rules for codes."""

from __future__ import annotations

import re

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
"""Codes of items, stages, posts, org units and business types: snake_case, 2 to 63 chars."""

ENUM_VALUE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,62}$")
"""ENUM option values and outcomes: UPPER_SNAKE."""

GENERATED_SUFFIXES: tuple[str, ...] = (
    "Case",
    "Data",
    "DataInput",
    "Where",
    "DataWhere",
    "OrderBy",
    "DataOrderBy",
    "CaseConnection",
    "CaseEdge",
)
"""Type names generated per business type: the prefix followed by each suffix."""


def is_valid_code(code: str) -> bool:
    """Whether `code` is a well-formed snake_case code."""
    return bool(CODE_PATTERN.fullmatch(code)) and "__" not in code and not code.endswith("_")


def pascal(code: str) -> str:
    """`lv_resident_new` -> `LvResidentNew`."""
    return "".join(part[:1].upper() + part[1:] for part in code.split("_") if part)


def camel(code: str) -> str:
    """`capacity_kva` -> `capacityKva` (the GraphQL field name of an item)."""
    head = pascal(code)
    return head[:1].lower() + head[1:]


def type_names(business_type_code: str) -> dict[str, str]:
    """Every GraphQL type name generated for a business type, by suffix."""
    prefix = pascal(business_type_code)
    names = {suffix: prefix + suffix for suffix in GENERATED_SUFFIXES}
    names["CreateInput"] = f"Create{prefix}CaseInput"
    names["CreatePayload"] = f"Create{prefix}CasePayload"
    names["UpdateInput"] = f"Update{prefix}CaseDataInput"
    names["UpdatePayload"] = f"Update{prefix}CaseDataPayload"
    return names


def field_names(business_type_code: str) -> dict[str, str]:
    """Root field names generated for a business type."""
    prefix = pascal(business_type_code)
    return {
        "list": camel(business_type_code) + "Cases",
        "create": f"create{prefix}Case",
        "update": f"update{prefix}CaseData",
    }


def enum_type_name(item_code: str) -> str:
    """The GraphQL enum of an ENUM item: `electricity_category` -> `ElectricityCategory`."""
    return pascal(item_code)


def enum_filter_name(item_code: str) -> str:
    """The filter input generated for an ENUM item."""
    return pascal(item_code) + "Filter"


def entry_names(item_code: str) -> dict[str, str]:
    """The types a LIST item generates, by role (`meters` -> `MetersEntry`, ...).

    `MetersEntry`, `MetersEntryInput`, `MetersEntryWhere` (one entry's conditions) and
    `MetersEntryListWhere` (`{any: …}`).
    """
    head = pascal(item_code) + "Entry"
    return {
        "Entry": head,
        "EntryInput": head + "Input",
        "EntryWhere": head + "Where",
        "EntryListWhere": head + "ListWhere",
    }


def entry_enum_name(item_code: str, field_code: str) -> str:
    """The enum of an ENUM field of a LIST item: `meters`, `purpose` -> `MetersEntryPurpose`."""
    return pascal(item_code) + "Entry" + pascal(field_code)
