"""How a case ends and what it changes in the customer file, as metadata (DESIGN §6.1).

An end stage declares how the case ends (`CaseEnd`); a business type declares, per end, an
ordered list of archive effects (`EffectSpec`) and what the named customer must be before a
case may start (`CustomerRequirement`). The effects are applied in the command's transaction
by one place (`casework.effects` plans them, the database layer writes them), and none of them
is chosen by business group: a type says what it changes.

Each effect kind names the target fields it reads (`EFFECT_FIELDS`) and the item types a field
may be filled from. A target field is filled, in this order, by the effect's own mapping, by
the type's `archive` mapping of the archive field of the same meaning (`ARCHIVE_FIELD_OF`), and
by the item whose code is that archive field or the target field itself. With `entries` (a LIST
item), the effect applies once per entry and its fields are the entry's fields, named the same
way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class CaseEnd(StrEnum):
    """How an end stage ends its case: with effects, refused, or withdrawn by the applicant."""

    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"


class CustomerStatus(StrEnum):
    """Where a customer account (户) stands in the customer file."""

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    TEMPORARY = "TEMPORARY"
    CLOSED = "CLOSED"


class SuspensionKind(StrEnum):
    """A period in which part or all of a customer's capacity or equipment is out of use.

    SUSPENSION is 暂停, REDUCTION 减容, SWAP 暂换 (a larger transformer swapped in; its capacity
    is the temporary one), DISCONNECTION 暂拆 (supply stopped, meter removed).
    """

    SUSPENSION = "SUSPENSION"
    REDUCTION = "REDUCTION"
    SWAP = "SWAP"
    DISCONNECTION = "DISCONNECTION"


class EffectKind(StrEnum):
    """What an archive effect does to the customer file."""

    CREATE_CUSTOMER = "CREATE_CUSTOMER"
    UPDATE_CUSTOMER = "UPDATE_CUSTOMER"
    CLOSE_ACCOUNT = "CLOSE_ACCOUNT"
    ADD_METERS = "ADD_METERS"
    REPLACE_METERS = "REPLACE_METERS"
    REMOVE_METERS = "REMOVE_METERS"
    SUSPEND = "SUSPEND"
    RESTORE = "RESTORE"
    MERGE_ACCOUNTS = "MERGE_ACCOUNTS"
    SPLIT_ACCOUNT = "SPLIT_ACCOUNT"
    CREATE_ACCOUNTS = "CREATE_ACCOUNTS"
    SET_SUPPLY_SOURCES = "SET_SUPPLY_SOURCES"
    START_CONTRACT = "START_CONTRACT"
    AMEND_CONTRACT = "AMEND_CONTRACT"
    TERMINATE_CONTRACT = "TERMINATE_CONTRACT"


@dataclass(frozen=True, slots=True)
class EffectField:
    """Which item (or, with `entries`, which field of an entry) fills one target field."""

    field: str
    item: str


@dataclass(frozen=True, slots=True)
class EffectSpec:
    """One archive effect of a business type, applied when a case reaches `end`.

    `entries` names a LIST item: the effect applies once per entry (a meter, a household, an
    account to merge, a supply source). `status` is the status CREATE_CUSTOMER gives (ACTIVE by
    default, TEMPORARY for 临时用电). `suspension` is the kind of period SUSPEND opens and
    RESTORE closes. `contract_type` is the contract START_CONTRACT signs (absent: worked out
    from the customer's voltage level and tariff category) and the one AMEND_CONTRACT and
    TERMINATE_CONTRACT act on (absent: every active contract of the customer).
    """

    kind: EffectKind
    end: CaseEnd = CaseEnd.COMPLETED
    entries: str | None = None
    fields: tuple[EffectField, ...] = ()
    status: CustomerStatus | None = None
    suspension: SuspensionKind | None = None
    contract_type: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerRequirement:
    """What the customer a case names must be for the case to start (checked at create, submit).

    `statuses` empty means any status but CLOSED; `open_suspension` requires an open period of
    that kind (暂停恢复 needs an open SUSPENSION, 复装 an open DISCONNECTION).
    """

    statuses: tuple[CustomerStatus, ...] = ()
    open_suspension: SuspensionKind | None = None


STRINGS = frozenset({"STRING", "TEXT", "ENUM", "ID_NUMBER", "PHONE"})
"""Item types whose value is written to a text field as it stands."""
NUMBERS = frozenset({"INTEGER", "DECIMAL", "MONEY"})
"""Item types whose value is a number."""
NUMBER_TEXTS = NUMBERS | {"STRING"}
"""Item types accepted for readings and ratios (a ratio may be written "200/5")."""

CUSTOMER_FIELDS: Mapping[str, frozenset[str]] = {
    "name": STRINGS,
    "id_number": STRINGS,
    "address": STRINGS,
    "tariff_category": STRINGS,
    "capacity": NUMBERS,
    "voltage_level": STRINGS,
    "meter_reading_segment": STRINGS,
    "archive_no": STRINGS,
    "archive_location": STRINGS,
}
"""Customer fields an effect may set, with the item types that may fill each."""
METER_FIELDS: Mapping[str, frozenset[str]] = {
    "asset_no": STRINGS,
    "purpose": STRINGS,
    "ct_ratio": NUMBER_TEXTS,
    "pt_ratio": NUMBER_TEXTS,
    "start_reading": NUMBER_TEXTS,
}
"""Fields of a meter being installed."""
PERIOD_FIELDS: Mapping[str, frozenset[str]] = {
    "capacity": NUMBERS,
    "starts_on": frozenset({"DATE"}),
    "ends_on": frozenset({"DATE"}),
}
"""Fields of a suspension period (capacity absent: the whole contracted capacity)."""
CONTRACT_FIELDS: Mapping[str, frozenset[str]] = {
    "signed_on": frozenset({"DATE"}),
    "term_months": frozenset({"INTEGER"}),
    "expires_on": frozenset({"DATE"}),
}
"""Fields of a contract being signed or amended."""

EFFECT_FIELDS: Mapping[EffectKind, Mapping[str, frozenset[str]]] = {
    EffectKind.CREATE_CUSTOMER: CUSTOMER_FIELDS,
    EffectKind.UPDATE_CUSTOMER: CUSTOMER_FIELDS,
    EffectKind.CLOSE_ACCOUNT: {
        "arrears_cleared": frozenset({"BOOLEAN"}),
        "asset_no": STRINGS,
        "final_reading": NUMBER_TEXTS,
        "closed_on": frozenset({"DATE"}),
    },
    EffectKind.ADD_METERS: METER_FIELDS,
    EffectKind.REPLACE_METERS: {
        **METER_FIELDS,
        "old_asset_no": STRINGS,
        "final_reading": NUMBER_TEXTS,
    },
    EffectKind.REMOVE_METERS: {"asset_no": STRINGS, "final_reading": NUMBER_TEXTS},
    EffectKind.SUSPEND: PERIOD_FIELDS,
    EffectKind.RESTORE: {"restored_on": frozenset({"DATE"})},
    EffectKind.MERGE_ACCOUNTS: {"customer_number": STRINGS, "final_reading": NUMBER_TEXTS},
    EffectKind.SPLIT_ACCOUNT: {**CUSTOMER_FIELDS, **METER_FIELDS},
    EffectKind.CREATE_ACCOUNTS: {**CUSTOMER_FIELDS, **METER_FIELDS},
    EffectKind.SET_SUPPLY_SOURCES: {
        "kind": STRINGS,
        "substation": STRINGS,
        "feeder": STRINGS,
        "capacity_kva": NUMBERS,
        "boundary": STRINGS,
    },
    EffectKind.START_CONTRACT: CONTRACT_FIELDS,
    EffectKind.AMEND_CONTRACT: CONTRACT_FIELDS,
    EffectKind.TERMINATE_CONTRACT: {"terminated_on": frozenset({"DATE"})},
}
"""Target fields of each effect kind, with the item types that may fill each."""

REQUIRED_FIELDS: Mapping[EffectKind, frozenset[str]] = {
    EffectKind.CLOSE_ACCOUNT: frozenset({"arrears_cleared", "final_reading"}),
    EffectKind.ADD_METERS: frozenset({"asset_no"}),
    EffectKind.REPLACE_METERS: frozenset({"asset_no", "final_reading"}),
    EffectKind.REMOVE_METERS: frozenset({"final_reading"}),
    EffectKind.MERGE_ACCOUNTS: frozenset({"customer_number"}),
}
"""Target fields an effect cannot do without: publishing refuses a type that fills none."""

ENTRIES_REQUIRED = frozenset(
    {
        EffectKind.MERGE_ACCOUNTS,
        EffectKind.SPLIT_ACCOUNT,
        EffectKind.CREATE_ACCOUNTS,
        EffectKind.SET_SUPPLY_SOURCES,
    }
)
"""Kinds that only make sense once per entry of a LIST item."""
ENTRIES_ALLOWED = ENTRIES_REQUIRED | {
    EffectKind.CLOSE_ACCOUNT,
    EffectKind.ADD_METERS,
    EffectKind.REPLACE_METERS,
    EffectKind.REMOVE_METERS,
}
"""Kinds that may apply once per entry (several meters) or once from plain items (one)."""
CREATES_CUSTOMER = frozenset({EffectKind.CREATE_CUSTOMER})
"""Kinds that make the case's customer, so later effects have one to act on."""
NEEDS_NO_CUSTOMER = frozenset({EffectKind.CREATE_CUSTOMER, EffectKind.CREATE_ACCOUNTS})
"""Kinds that act without the case's customer: every other kind acts on it."""

ARCHIVE_FIELD_OF: Mapping[str, str] = {
    "name": "customer_name",
    "id_number": "id_number",
    "address": "supply_address",
    "tariff_category": "electricity_category",
    "capacity": "contract_capacity",
    "voltage_level": "voltage_level",
    "asset_no": "meter_asset_no",
    "ct_ratio": "ct_ratio",
    "pt_ratio": "pt_ratio",
    "start_reading": "start_reading",
}
"""Target field -> the archive field (`BusinessTypeSpec.archive`) of the same meaning."""


def requires_customer(effects: tuple[EffectSpec, ...], has_requirement: bool) -> bool:
    """Whether a case must name an existing customer: a COMPLETED effect acts on one first.

    A type with a customer requirement always needs one; otherwise the first COMPLETED effect
    that acts on the case's customer must come after a CREATE_CUSTOMER.
    """
    if has_requirement:
        return True
    for effect in effects:
        if effect.end is not CaseEnd.COMPLETED:
            continue
        if effect.kind in CREATES_CUSTOMER:
            return False
        if effect.kind not in NEEDS_NO_CUSTOMER:
            return True
    return False
