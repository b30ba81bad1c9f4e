"""Frozen definitions of the metamodel: what administrators define, as plain values.

Every definition is an immutable dataclass so a published version can be shared between
requests and threads without copying, and compared by value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from metamodel.effect_specs import CaseEnd, CustomerRequirement, EffectSpec


class ItemType(StrEnum):
    """The type of a data item; it decides storage, codec and GraphQL type."""

    STRING = "STRING"
    TEXT = "TEXT"
    INTEGER = "INTEGER"
    DECIMAL = "DECIMAL"
    MONEY = "MONEY"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    DATETIME = "DATETIME"
    ENUM = "ENUM"
    ID_NUMBER = "ID_NUMBER"
    PHONE = "PHONE"
    LIST = "LIST"
    """Repeating data: a list of records whose `fields` are typed by the codecs above."""


class TimeUnit(StrEnum):
    """How a time limit is counted."""

    WORKING_DAYS = "WORKING_DAYS"
    CALENDAR_DAYS = "CALENDAR_DAYS"
    WORKING_HOURS = "WORKING_HOURS"


class BusinessGroup(StrEnum):
    """The family a business type belongs to (新装, 增容, 临时用电, 变更用电, other)."""

    NEW = "NEW"
    INCREASE = "INCREASE"
    TEMPORARY = "TEMPORARY"
    CHANGE = "CHANGE"
    OTHER = "OTHER"


class Role(StrEnum):
    """What a user may do in general; posts and org unit narrow it further."""

    ADMIN = "ADMIN"
    MANAGER = "MANAGER"
    STAFF = "STAFF"


class CaseStatus(StrEnum):
    """Where a case is in its life (the API's statuses)."""

    DRAFT = "DRAFT"
    IN_PROGRESS = "IN_PROGRESS"
    SUSPENDED = "SUSPENDED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    """Ended at a REJECTED end stage (不予受理, 不具备供电条件): nothing archived."""
    WITHDRAWN = "WITHDRAWN"
    """Ended at a WITHDRAWN end stage (客户撤销): nothing archived."""


DEFAULT_OUTCOME = "APPROVE"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a definition or an input: a machine code, a message, a path."""

    code: str
    message: str
    path: tuple[str | int, ...] = ()


@dataclass(frozen=True, slots=True)
class EnumOption:
    """One value of an ENUM item (`value` is UPPER_SNAKE, `label` is shown to people)."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class DataItemSpec:
    """An entry of the data dictionary, shared by every business type that uses it.

    `min` and `max` are kept in the item's own literal form ("0.1", "2026-01-01") and are
    interpreted by the item's codec. `scale` is how many digits after the point a DECIMAL's
    values carry (documents read "1219.10 kVA"); None keeps values without trailing zeros.
    MONEY always has two places.

    A LIST item's value is a list of entries; `fields` type each entry's fields (never LIST
    themselves), `required` marks a field every entry must fill, and `min_count`/`max_count`
    bound the number of entries. Its canonical value is a tuple of dicts holding every declared
    field (None where an entry leaves it empty); its storage form a JSON array of objects
    holding each field's storage form, empty fields left out.
    """

    code: str
    label: str
    type: ItemType
    options: tuple[EnumOption, ...] = ()
    unit: str | None = None
    min: str | None = None
    max: str | None = None
    max_length: int | None = None
    pattern: str | None = None
    indexed: bool = False
    description: str | None = None
    scale: int | None = None
    fields: tuple[DataItemSpec, ...] = ()
    min_count: int | None = None
    max_count: int | None = None
    required: bool = False


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """A time limit such as 15 working days, or one the case's data decides.

    With an `expression` (over the business type's items, NUMBER, a whole number of units,
    e.g. `lookup({"LOW": 7, "HIGH_SINGLE": 15}, supply_class)`) `amount` is unused: the limit is
    worked out from the case's data when it starts (`casework.limits`).
    """

    amount: int
    unit: TimeUnit
    expression: str | None = None


@dataclass(frozen=True, slots=True)
class StageSpec:
    """A standard stage (环节) of the stage library."""

    code: str
    name: str
    time_limit: TimeLimit | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class PostSpec:
    """A post (岗位) that work is routed to."""

    code: str
    name: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class OrgUnitSpec:
    """A unit of the organisation tree (province > city > county > station)."""

    code: str
    name: str
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class ItemUsage:
    """How a business type uses one data item."""

    item: str
    required_at: tuple[str, ...] = ()
    editable_at: tuple[str, ...] = ()
    visible_to: tuple[str, ...] = ()
    compute: str | None = None
    """An expression the item's value is derived from (never written by people); None: entered."""


@dataclass(frozen=True, slots=True)
class StageUsage:
    """How a business type uses one stage of the library."""

    stage: str
    time_limit: TimeLimit | None = None
    outcomes: tuple[str, ...] = (DEFAULT_OUTCOME,)
    requires_payment: bool = False
    waits_for_customer: bool = False
    join: bool = False
    end: CaseEnd | None = None
    """How the case ends when this stage (one with no way out) completes; None is COMPLETED."""
    reason: str | None = None
    """The item that says why (REJECTED, WITHDRAWN ends): required there, shown to applicants."""


@dataclass(frozen=True, slots=True)
class TransitionSpec:
    """Leave `from_stage` with `outcome` for every stage in `to`, when `condition` holds."""

    from_stage: str
    to: tuple[str, ...]
    outcome: str = DEFAULT_OUTCOME
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class SpanSpec:
    """A milestone limit, e.g. 方案答复 counted from 受理.

    It runs from `from_stage`'s first entry to `to_stage`'s completion (None: to the case's
    end), paused while the customer has the case, as the whole-case limit is.
    """

    code: str
    name: str
    from_stage: str
    to_stage: str | None
    time_limit: TimeLimit


@dataclass(frozen=True, slots=True)
class ArchiveField:
    """Which data item fills one field of the customer archive."""

    field: str
    item: str


ARCHIVE_FIELDS: tuple[str, ...] = (
    "customer_name",
    "id_number",
    "supply_address",
    "electricity_category",
    "contract_capacity",
    "voltage_level",
    "meter_asset_no",
    "ct_ratio",
    "pt_ratio",
    "start_reading",
)


class RuleSeverity(StrEnum):
    """Whether a failing rule refuses the command (ERROR) or is only reported (WARNING)."""

    ERROR = "ERROR"
    WARNING = "WARNING"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule on a case's data: `condition` (BOOLEAN) must hold from `from_stage` on.

    `from_stage` None: always, a draft included. A rule whose condition reads an empty item
    is not decided, so it does not fail (requiredAt is what makes an item necessary).
    """

    code: str
    condition: str
    message: str
    from_stage: str | None = None
    severity: RuleSeverity = RuleSeverity.ERROR


@dataclass(frozen=True, slots=True)
class BusinessTypeSpec:
    """A business type (application category) as an administrator defines it in a draft."""

    code: str
    name: str
    group: BusinessGroup = BusinessGroup.OTHER
    priority: int = 0
    description: str | None = None
    time_limit: TimeLimit | None = None
    items: tuple[ItemUsage, ...] = ()
    stages: tuple[StageUsage, ...] = ()
    transitions: tuple[TransitionSpec, ...] = ()
    start: str | None = None
    archive: tuple[ArchiveField, ...] = ()
    effects: tuple[EffectSpec, ...] = ()
    """What each end changes in the customer file, in order (metamodel.effect_specs)."""
    customer_requirement: CustomerRequirement | None = None
    """What the named customer must be for a case to start; None: no requirement."""
    spans: tuple[SpanSpec, ...] = ()
    """Milestone limits measured across stages (metamodel.span_checks validates them)."""
    rules: tuple[RuleSpec, ...] = ()
    """Conditions the case's data must meet, checked at create, update and completeTask."""

    def stage_usage(self, code: str) -> StageUsage | None:
        """The usage of stage `code` in this type, if it uses it."""
        return next((s for s in self.stages if s.stage == code), None)

    def item_usage(self, code: str) -> ItemUsage | None:
        """The usage of item `code` in this type, if it uses it."""
        return next((i for i in self.items if i.item == code), None)


class FeeRuleStatus(StrEnum):
    """Whether a fee is charged today or was abolished (kept for the record)."""

    ACTIVE = "ACTIVE"
    ABOLISHED = "ABOLISHED"


@dataclass(frozen=True, slots=True)
class FeeRuleSpec:
    """A fee (业扩收费) as metadata: where it is assessed, when it applies, how much it is.

    `condition` (BOOLEAN) and `amount` (NUMBER) are expressions over data items, checked against
    the items of every business type the rule names; `business_types` empty means every type
    that uses `stage`. Dates are the validity period in Asia/Shanghai.
    """

    code: str
    name: str
    stage: str
    amount: str
    business_types: tuple[str, ...] = ()
    condition: str | None = None
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    status: FeeRuleStatus = FeeRuleStatus.ACTIVE
    description: str | None = None
    pay_at: str | None = None
    """The stage whose completion waits for payment, at or after `stage`; None: `stage`, and the
    fee is then gated wherever a stage requires payment (the meaning before pay_at existed)."""

    @property
    def payment_stage(self) -> str:
        """Where the fee is to be paid: `pay_at`, else the stage that assesses it."""
        return self.pay_at or self.stage


@dataclass(frozen=True, slots=True)
class ResponsibilitySpec:
    """A responsibility as files carry it: (type or all, stage, unit or all) -> post."""

    stage: str
    post: str
    business_type: str | None = None
    org_unit: str | None = None


@dataclass(frozen=True, slots=True)
class BusinessTypeVersion:
    """A published, immutable version: the spec plus the dictionary entries it was checked with.

    Cases pin a version and are always interpreted with it, so the items and stages it used are
    frozen alongside the spec rather than read from the live dictionary.
    """

    spec: BusinessTypeSpec
    version: int
    items: Mapping[str, DataItemSpec] = field(default_factory=dict)
    stages: Mapping[str, StageSpec] = field(default_factory=dict)

    @property
    def code(self) -> str:
        """The business type code."""
        return self.spec.code

    def item(self, code: str) -> DataItemSpec:
        """The frozen data item `code` (KeyError if the version does not use it)."""
        return self.items[code]
