"""GraphQL shapes of the customer file (用户档案): customers, meters, contracts, periods, lists.

What a reader may not see (a field filled from an item hidden from them) is null here, and a
meter or contract known only through hidden items is left out; the resolvers decide that
(`resolvers.customers`), these types only carry it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated

import strawberry

from metamodel.effect_specs import CustomerStatus
from schema.common import PageInfo, SortDirection
from schema.effect_types import CustomerStatusEnum, SuspensionKindEnum

U = strawberry.UNSET


@strawberry.enum(description="Whether a meter is in use or kept as history.")
class MeterStatus(Enum):
    """ACTIVE or REMOVED."""

    ACTIVE = strawberry.enum_value("ACTIVE", description="Installed and read.")
    REMOVED = strawberry.enum_value(
        "REMOVED", description="Removed (换表, 暂拆, 销户); kept with its final reading."
    )


@strawberry.enum(description="Whether a contract is in force.")
class ContractStatus(Enum):
    """ACTIVE or TERMINATED."""

    ACTIVE = strawberry.enum_value("ACTIVE", description="In force.")
    TERMINATED = strawberry.enum_value(
        "TERMINATED", description="Ended (销户, 并户, or replaced by another contract)."
    )


@strawberry.type(description="A metering point of a customer, in use or kept as history.")
class Meter:
    """Asset number, CT and PT ratios, 综合倍率 (CT × PT), readings and what it measures."""

    asset_no: str = strawberry.field(description="The meter's asset number.")
    ct_ratio: str | None = strawberry.field(
        description="The current transformer ratio, such as 200/5."
    )
    pt_ratio: str | None = strawberry.field(
        description="The voltage transformer ratio, such as 10000/100."
    )
    multiplier: str | None = strawberry.field(description="综合倍率: CT ratio × PT ratio.")
    start_reading: str | None = strawberry.field(
        description="The reading when the meter was installed (起度)."
    )
    purpose: str | None = strawberry.field(
        default=None,
        description="What it measures, a code of the item that filled it (GRID, GENERATION, …).",
    )
    status: MeterStatus = strawberry.field(
        default=MeterStatus.ACTIVE, description="In use, or removed and kept as history."
    )
    installed_at: dt.datetime | None = strawberry.field(
        default=None, description="When the case that installed it was archived."
    )
    final_reading: str | None = strawberry.field(
        default=None, description="止码: the reading when it was removed."
    )
    removed_at: dt.datetime | None = strawberry.field(
        default=None, description="When it was removed; null while in use."
    )


@strawberry.type(description="A supply contract (供用电合同).")
class Contract:
    """A contract signed by a case, with its term, and its amendments and termination."""

    number: str = strawberry.field(description="The contract number.")
    type: str = strawberry.field(
        description="The kind of contract, such as HIGH_VOLTAGE, LOW_VOLTAGE, TEMPORARY or PPA."
    )
    signed_at: dt.datetime = strawberry.field(
        description="When the case that made it was archived (see signedOn for the signing date)."
    )
    signed_on: dt.date | None = strawberry.field(
        default=None, description="The signing date entered on the case."
    )
    term_months: int | None = strawberry.field(
        default=None, description="The term in months; null: open-ended."
    )
    expires_on: dt.date | None = strawberry.field(default=None, description="When it expires.")
    status: ContractStatus = strawberry.field(
        default=ContractStatus.ACTIVE, description="In force or terminated."
    )
    terminated_on: dt.date | None = strawberry.field(
        default=None, description="When it was terminated; null while in force."
    )
    amended_on: dt.date | None = strawberry.field(
        default=None, description="When it was last amended (变更用电, 增容); null: never."
    )


@strawberry.type(description="A supply source of a customer (供电电源).")
class SupplySource:
    """MAIN or BACKUP, from which substation and feeder, with the property boundary."""

    kind: str | None = strawberry.field(description="MAIN or BACKUP (主供, 备用).")
    substation: str | None = strawberry.field(description="The substation (变电站).")
    feeder: str | None = strawberry.field(description="The feeder line (线路).")
    capacity_kva: str | None = strawberry.field(description="The capacity it carries, in kVA.")
    boundary: str | None = strawberry.field(description="The property boundary (产权分界点).")


@strawberry.type(description="A period of part or all of a customer's capacity out of use.")
class CapacityPeriod:
    """Opened by a case (暂停, 减容, 暂换, 暂拆) and closed by another (恢复, 复装)."""

    kind: SuspensionKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="What kind of period it is."
    )
    capacity: str | None = strawberry.field(
        description="The capacity out of use (kVA); null: the whole contracted capacity."
    )
    starts_on: dt.date | None = strawberry.field(description="When it starts.")
    ends_on: dt.date | None = strawberry.field(description="When it is planned to end.")
    restored_on: dt.date | None = strawberry.field(
        description="When it was restored; null while open."
    )


@strawberry.type(description="A customer of the file (用户档案), kept by the cases about it.")
class Customer:
    """A customer by 户号."""

    number: str = strawberry.field(description="The customer's 户号.")
    name: str | None = strawberry.field(description="The customer's name (户名).")
    id_number: str | None = strawberry.field(description="The customer's identity or credit code.")
    address: str | None = strawberry.field(description="The supply address (用电地址).")
    electricity_category: str | None = strawberry.field(
        description="The electricity category (用电类别) the tariff follows; as tariffCategory."
    )
    capacity: str | None = strawberry.field(
        description="The contracted capacity (合同容量) in kVA."
    )
    voltage_level: str | None = strawberry.field(description="The supply voltage level.")
    contracts: list[Contract] = strawberry.field(
        description="The contracts signed by the customer's cases, terminated ones included."
    )
    cases: list[str] = strawberry.field(description="Numbers of the cases about this customer.")
    tariff_category: str | None = strawberry.field(
        default=None, description="The tariff category (用电类别, a code of the item that set it)."
    )
    status: CustomerStatusEnum = strawberry.field(  # type: ignore[valid-type]
        default=CustomerStatus.ACTIVE, description="Where the account stands."
    )
    meter_reading_segment: str | None = strawberry.field(
        default=None, description="抄表段: the reading route the account is read on."
    )
    suspended_capacity: str | None = strawberry.field(
        default=None,
        description="Capacity out of use under open 暂停 or 减容 periods (kVA); null: none.",
    )
    supply_sources: list[SupplySource] = strawberry.field(
        default_factory=list, description="Its supply sources, in their recorded order."
    )
    capacity_periods: list[CapacityPeriod] = strawberry.field(
        default_factory=list, description="Its periods of capacity out of use, open and closed."
    )
    archive_no: str | None = strawberry.field(
        default=None, description="档案号: the number of the paper file."
    )
    archive_location: str | None = strawberry.field(
        default=None, description="Where the paper file is kept."
    )
    closed_at: dt.datetime | None = strawberry.field(
        default=None, description="When the account was closed (销户, or absorbed by 并户)."
    )
    merged_into: str | None = strawberry.field(
        default=None, description="The 户号 that absorbed this account (并户)."
    )
    parent_number: str | None = strawberry.field(
        default=None,
        description="The 户号 this account was split from (分户) or created under (小区新装).",
    )
    held_meters: strawberry.Private[list[Meter]] = strawberry.field(default_factory=list)

    @strawberry.field(description="The customer's metering points.")
    def meters(
        self,
        include_removed: Annotated[
            bool,
            strawberry.argument(
                description="Also the meters removed (with their final readings), as history."
            ),
        ] = False,
    ) -> list[Meter]:
        """Meters in use, or with the removed ones too."""
        return [m for m in self.held_meters if include_removed or m.status is MeterStatus.ACTIVE]


@strawberry.input(description="Operators on a customer's text field.")
class CustomerTextFilter:
    """Equal to, or begins with (no wildcards)."""

    eq: str | None = strawberry.field(default=U, description="Equal to this value.")
    starts_with: str | None = strawberry.field(default=U, description="Begins with this text.")


@strawberry.input(description="Conditions on customers; fields combine with and.")
class CustomerWhere:
    """Which customers to list. A field hidden from the caller cannot be filtered on."""

    number: CustomerTextFilter | None = strawberry.field(default=U, description="The 户号.")
    name: CustomerTextFilter | None = strawberry.field(default=U, description="The 户名.")
    status: list[CustomerStatusEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=U, description="Any of these statuses."
    )
    tariff_category: list[str] | None = strawberry.field(
        default=U, description="Any of these tariff categories."
    )
    voltage_level: list[str] | None = strawberry.field(
        default=U, description="Any of these voltage levels."
    )
    org_unit: str | None = strawberry.field(
        default=U, description="Customers of this org unit (code) and every unit below."
    )
    parent_number: str | None = strawberry.field(
        default=U, description="Accounts split from or created under this 户号."
    )


@strawberry.input(description="One key to order customers by: set exactly one field.")
class CustomerOrderBy:
    """Keys apply in the order listed; the 户号's row breaks ties."""

    number: SortDirection | None = strawberry.field(default=U, description="By 户号.")
    name: SortDirection | None = strawberry.field(default=U, description="By 户名.")
    tariff_category: SortDirection | None = strawberry.field(
        default=U, description="By tariff category."
    )
    created_at: SortDirection | None = strawberry.field(
        default=U, description="By when the account was opened."
    )
    updated_at: SortDirection | None = strawberry.field(
        default=U, description="By when the file last changed."
    )


@strawberry.type(description="One customer and its position in the list.")
class CustomerEdge:
    """A customer with its cursor."""

    cursor: str = strawberry.field(
        description=(
            "Pass it as `after` to customers with the same where and orderBy to read the "
            "customers after this one, or as `before` to read those before it."
        )
    )
    node: Customer = strawberry.field(description="The customer.")


@strawberry.type(description="A page of customers.")
class CustomerConnection:
    """Customers in the caller's scope, in the order asked for."""

    edges: list[CustomerEdge] = strawberry.field(
        description="The customers of this page with their cursors, in list order."
    )
    nodes: list[Customer] = strawberry.field(
        description="The customers of this page (the edges' nodes, without cursors)."
    )
    page_info: PageInfo = strawberry.field(description="Where this page stands in the list.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many customers match, across all pages.")
    async def total_count(self) -> int:
        """Counted only when asked for."""
        return await self.count()
