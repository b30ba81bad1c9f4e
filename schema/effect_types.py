"""GraphQL shapes of archive effects and customer requirements (DESIGN §6.1).

The input is the camelCase of the stored shape (`effects: [{end, kind, entries, fields: [{field,
item}], status, suspension, contractType}]`, `customerRequirement: {statuses,
openSuspension}`): `resolvers.input_decode` turns it into the snake_case the decoder reads, so
a definition means the same from a file or from the API.
"""

from __future__ import annotations

import strawberry

from metamodel.effect_specs import (
    EFFECT_FIELDS,
    CustomerRequirement,
    CustomerStatus,
    EffectKind,
    EffectSpec,
    SuspensionKind,
    requires_customer,
)
from metamodel.specs import BusinessTypeSpec
from schema.case_types import CaseEndEnum
from schema.common import describe_values

U = strawberry.UNSET

EFFECTS_INPUT = (
    "What each end changes in the customer file, in order. Omitted: the defaults of the group "
    "(NEW, TEMPORARY, OTHER create the customer, add its meters and start a contract; INCREASE, "
    "CHANGE update it, add meters and amend the contract); an empty list: nothing."
)
REQUIREMENT_INPUT = (
    "What the customer a case names must be for the case to start (checked at create and "
    "submit); omitted: nothing is required."
)
REQUIRES_CUSTOMER = (
    "Whether a case must name an existing customer (customerNumber): the type has a customer "
    "requirement, or a COMPLETED effect acts on the customer before creating one."
)

CustomerStatusEnum = describe_values(
    strawberry.enum(
        CustomerStatus,
        name="CustomerStatus",
        description="Where a customer account (户) stands in the customer file.",
    ),
    {
        "ACTIVE": "Supplied under its contract.",
        "SUSPENDED": "Its whole supply is out of use for a period (暂停 of all capacity, 暂拆).",
        "TEMPORARY": "A temporary supply (临时用电), for a limited time.",
        "CLOSED": "Closed (销户), or absorbed by another account (并户).",
    },
)

SuspensionKindEnum = describe_values(
    strawberry.enum(
        SuspensionKind,
        name="SuspensionKind",
        description="A period in which part or all of a customer's capacity is out of use.",
    ),
    {
        "SUSPENSION": "暂停: capacity (all, or some transformers) out of use for a while.",
        "REDUCTION": "减容: contracted capacity reduced for a while.",
        "SWAP": "暂换: a transformer swapped for another; its capacity is the temporary one.",
        "DISCONNECTION": "暂拆: supply stopped and the meter removed for a while.",
    },
)

EffectKindEnum = describe_values(
    strawberry.enum(
        EffectKind,
        name="EffectKind",
        description="What an archive effect does to the customer file.",
    ),
    {
        "CREATE_CUSTOMER": "Open the case's customer account (新装, 临时用电) from its items.",
        "UPDATE_CUSTOMER": "Change fields of the case's customer (变更用电, 增容, 过户).",
        "CLOSE_ACCOUNT": (
            "销户: close the account with final readings; refused while arrears are not cleared."
        ),
        "ADD_METERS": "Install meters (one, or one per entry).",
        "REPLACE_METERS": "Replace meters: the old ones are kept REMOVED with their final reading.",
        "REMOVE_METERS": "Remove meters, kept REMOVED with their final reading.",
        "SUSPEND": "Open a period of capacity or equipment out of use (暂停, 减容, 暂换, 暂拆).",
        "RESTORE": "Close the open period of that kind (恢复, 复装).",
        "MERGE_ACCOUNTS": "并户: the accounts listed are absorbed into the case's and closed.",
        "SPLIT_ACCOUNT": "分户: new accounts from a list, split from the case's customer.",
        "CREATE_ACCOUNTS": "Open accounts in bulk from a list (小区新装 households).",
        "SET_SUPPLY_SOURCES": "Record the customer's supply sources (供电电源) from a list.",
        "START_CONTRACT": "Sign a contract: its type, signing date, term and expiry.",
        "AMEND_CONTRACT": "Amend the customer's contracts (of one type, or every active one).",
        "TERMINATE_CONTRACT": (
            "Terminate the customer's contracts (of one type, or every active one)."
        ),
    },
)


@strawberry.type(description="Which data item fills an archive field.")
class ArchiveMapping:
    """An archive field and its item."""

    field: str = strawberry.field(
        description=(
            "The customer archive field filled when a case ends (customer_name, supply_address, "
            "contract_capacity, ...)."
        )
    )
    item: str = strawberry.field(
        description="The code of the data item whose value the archive field takes."
    )


@strawberry.input(description="Which data item fills an archive field.")
class ArchiveMappingInput:
    """An archive field and its item."""

    field: str = strawberry.field(
        description=(
            "The customer archive field to fill when a case ends (customer_name, id_number, "
            "supply_address, electricity_category, contract_capacity, voltage_level, "
            "meter_asset_no, ct_ratio, pt_ratio, start_reading)."
        )
    )
    item: str = strawberry.field(
        description="The code of the data item whose value the archive field takes."
    )


_KINDS = ", ".join(k.value for k in EffectKind)
_TARGETS = "; ".join(f"{k.value}: {', '.join(sorted(f))}" for k, f in EFFECT_FIELDS.items())


@strawberry.type(description="Which item (or, with entries, which entry field) fills a field.")
class EffectField:
    """One target field of an effect and what fills it."""

    field: str = strawberry.field(description="The target field (see Effect.kind).")
    item: str = strawberry.field(
        description="The data item's code; with entries, the code of a field of the entries."
    )


@strawberry.input(description="Which item (or, with entries, which entry field) fills a field.")
class EffectFieldInput:
    """One target field of an effect and what fills it."""

    field: str = strawberry.field(description=f"The target field of the kind ({_TARGETS}).")
    item: str = strawberry.field(
        description="The data item's code; with entries, the code of a field of the entries."
    )


@strawberry.type(description="One archive effect of a business type, applied on an end.")
class Effect:
    """What one end of a case changes in the customer file, in its declared order."""

    end: CaseEndEnum = strawberry.field(  # type: ignore[valid-type]
        description="The end it runs on."
    )
    kind: EffectKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="What it does."
    )
    entries: str | None = strawberry.field(
        description="The LIST item it applies once per entry of; null: once, from plain items."
    )
    fields: list[EffectField] = strawberry.field(
        description=(
            "Target fields mapped to items; a field left out takes the archive mapping of the "
            "same meaning, else the item of the archive field's or the field's own code."
        )
    )
    status: CustomerStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="The status CREATE_CUSTOMER gives (null: ACTIVE)."
    )
    suspension: SuspensionKindEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="The kind of period SUSPEND opens and RESTORE closes."
    )
    contract_type: str | None = strawberry.field(
        description=(
            "The contract type START_CONTRACT signs (null: from voltage and tariff category), and "
            "the one AMEND_CONTRACT and TERMINATE_CONTRACT act on (null: every active one)."
        )
    )


@strawberry.input(description="One archive effect of a business type, applied on an end.")
class EffectInput:
    """kind is required; end defaults to COMPLETED."""

    kind: EffectKindEnum = strawberry.field(  # type: ignore[valid-type]
        description=f"What it does ({_KINDS})."
    )
    end: CaseEndEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=U, description="The end it runs on; omitted: COMPLETED."
    )
    entries: str | None = strawberry.field(
        default=U,
        description=(
            "A LIST item to apply it once per entry of (meters, households, accounts to merge, "
            "supply sources); omitted: once, from plain items."
        ),
    )
    fields: list[EffectFieldInput] | None = strawberry.field(
        default=U,
        description=(
            "Target fields mapped to items; a field left out takes the archive mapping of the "
            "same meaning, else the item of the archive field's or the field's own code."
        ),
    )
    status: CustomerStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=U, description="CREATE_CUSTOMER only: ACTIVE (omitted) or TEMPORARY."
    )
    suspension: SuspensionKindEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=U, description="SUSPEND and RESTORE: the kind of period."
    )
    contract_type: str | None = strawberry.field(
        default=U,
        description=(
            "Contract effects only: the type signed, amended or terminated (UPPER_SNAKE, such as "
            "HIGH_VOLTAGE or PPA)."
        ),
    )


@strawberry.type(
    name="CustomerRequirement",
    description="What the customer a case names must be for the case to start.",
)
class CustomerRequirementOut:
    """Checked when a case is created and submitted."""

    statuses: list[CustomerStatusEnum] = strawberry.field(  # type: ignore[valid-type]
        description="The statuses allowed; empty: any but CLOSED."
    )
    open_suspension: SuspensionKindEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="An open period of this kind is required (暂停恢复: SUSPENSION)."
    )


@strawberry.input(description="What the customer a case names must be for the case to start.")
class CustomerRequirementInput:
    """Checked when a case is created and submitted."""

    statuses: list[CustomerStatusEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=U, description="The statuses allowed; omitted or empty: any but CLOSED."
    )
    open_suspension: SuspensionKindEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=U,
        description=(
            "Require an open period of this kind (暂停恢复: SUSPENSION; 复装: DISCONNECTION)."
        ),
    )


def effect_out(effect: EffectSpec) -> Effect:
    """An effect for output."""
    return Effect(
        end=effect.end,
        kind=effect.kind,
        entries=effect.entries,
        fields=[EffectField(field=f.field, item=f.item) for f in effect.fields],
        status=effect.status,
        suspension=effect.suspension,
        contract_type=effect.contract_type,
    )


def requirement_out(requirement: CustomerRequirement | None) -> CustomerRequirementOut | None:
    """A customer requirement for output (None: the type requires nothing)."""
    if requirement is None:
        return None
    return CustomerRequirementOut(
        statuses=list(requirement.statuses), open_suspension=requirement.open_suspension
    )


def needs_customer(spec: BusinessTypeSpec) -> bool:
    """Whether a case of the type must name an existing customer (`requires_customer`)."""
    return requires_customer(spec.effects, spec.customer_requirement is not None)
