"""The customer file as the effects of a case see it, and the writes they plan, as plain values.

The database layer reads a snapshot (the case's customer, the accounts a 并户 names, with their
active meters, open capacity periods and active contracts), `casework.effects` plans from it,
and the database layer carries the plan out in the command's transaction. A row is named by its
id when it exists and by `New` when the plan makes it, so later effects of the same case can act
on what earlier ones made (a contract for the customer just created) before any number exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from metamodel.effect_specs import EffectKind, SuspensionKind


@dataclass(frozen=True, slots=True)
class New:
    """A row the plan creates: the `index`-th of its `table` (customer, meter, ...)."""

    table: str
    index: int


Ref = int | New
"""A row of the file: its id, or the new row the plan makes."""


@dataclass(frozen=True, slots=True)
class MeterSnap:
    """An active meter of an account."""

    id: int
    asset_no: str


@dataclass(frozen=True, slots=True)
class PeriodSnap:
    """An open capacity period (暂停, 减容, 暂换, 暂拆) of an account."""

    id: int
    kind: SuspensionKind
    capacity: str | None


@dataclass(frozen=True, slots=True)
class ContractSnap:
    """An active contract of an account."""

    id: int
    number: str
    type: str
    signed_on: dt.date | None


@dataclass(frozen=True, slots=True)
class AccountSnap:
    """An account (户) as the file holds it; `values` by effect field (name, capacity, ...)."""

    id: int
    number: str
    status: str
    values: Mapping[str, str | None]
    suspended_capacity: str | None = None
    org_unit_id: int | None = None
    meters: tuple[MeterSnap, ...] = ()
    periods: tuple[PeriodSnap, ...] = ()
    contracts: tuple[ContractSnap, ...] = ()


@dataclass(frozen=True, slots=True)
class FileSnapshot:
    """What a case's effects may act on: its customer and the accounts it names, in scope."""

    customer: AccountSnap | None = None
    accounts: Mapping[str, AccountSnap] = field(default_factory=dict)
    """Accounts a 并户 names, by 户号, among those the case's org unit reaches."""


@dataclass(frozen=True, slots=True)
class CreateAccount:
    """A new account; `values` by column, `parent` the account it was split from or made under."""

    ref: New
    values: Mapping[str, str | None]
    status: str
    parent: Ref | None = None
    org_unit_id: int | None = None


@dataclass(frozen=True, slots=True)
class UpdateAccount:
    """Columns of an account set, and whether it closes or merges.

    `closed` stamps it closed, on `closed_on` (a date an item gave) or else when the case ends;
    `merged_into` names the survivor.
    """

    ref: Ref
    values: Mapping[str, str | None] = field(default_factory=dict)
    closed: bool = False
    merged_into: Ref | None = None
    closed_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class InstallMeter:
    """A meter installed on `account` (or, with `ref` an id, an active one rewritten)."""

    ref: Ref
    account: Ref
    values: Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class RemoveMeter:
    """A meter taken out with its final reading; it stays in the file, REMOVED."""

    ref: Ref
    final_reading: str | None


@dataclass(frozen=True, slots=True)
class MoveMeter:
    """An active meter moved to another account (并户)."""

    ref: Ref
    account: Ref


@dataclass(frozen=True, slots=True)
class OpenPeriod:
    """A capacity period opened (capacity None: the whole)."""

    ref: New
    account: Ref
    kind: SuspensionKind
    capacity: str | None
    starts_on: dt.date | None
    ends_on: dt.date | None


@dataclass(frozen=True, slots=True)
class ClosePeriod:
    """An open capacity period closed."""

    ref: Ref
    restored_on: dt.date


@dataclass(frozen=True, slots=True)
class SetSupplySources:
    """An account's supply sources, replacing those it had; each by column."""

    account: Ref
    sources: tuple[Mapping[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class StartContract:
    """A contract signed (its number is drawn when it is written)."""

    ref: New
    account: Ref
    type: str
    signed_on: dt.date
    term_months: int | None
    expires_on: dt.date | None


@dataclass(frozen=True, slots=True)
class AmendContract:
    """An active contract amended: its term and expiry, when given, replace the old ones."""

    ref: Ref
    amended_on: dt.date
    term_months: int | None
    expires_on: dt.date | None


@dataclass(frozen=True, slots=True)
class TerminateContract:
    """An active contract terminated."""

    ref: Ref
    terminated_on: dt.date


Operation = (
    CreateAccount
    | UpdateAccount
    | InstallMeter
    | RemoveMeter
    | MoveMeter
    | OpenPeriod
    | ClosePeriod
    | SetSupplySources
    | StartContract
    | AmendContract
    | TerminateContract
)


@dataclass(frozen=True, slots=True)
class Step:
    """What one effect does: its writes, and what its event tells.

    `data` holds what is known when planning (meters installed and removed, accounts merged);
    the database layer adds the 户号 acted on and the numbers drawn for `created` accounts and
    `contracts` started.
    """

    effect: int
    kind: EffectKind
    account: Ref | None
    operations: tuple[Operation, ...]
    data: Mapping[str, object] = field(default_factory=dict)
    created: tuple[New, ...] = ()
    contracts: tuple[Ref, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """The steps of a case's end, in order, and the case's customer afterwards."""

    steps: tuple[Step, ...] = ()
    customer: Ref | None = None
    created_customer: bool = False
    """Whether a CREATE_CUSTOMER made the case's customer (the case takes its number)."""
