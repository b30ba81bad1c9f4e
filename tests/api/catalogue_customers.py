"""Customers the catalogue walk acts on: fresh ones, in the state a business type requires.

Imported from an earlier system (no case installed their meter or signed their contract), in
the walk's org unit, so every 变更用电 walk starts from an account of its own: a 销户 closing one
cannot spoil the next walk, and 暂停恢复 or 复装 find the open period they restore.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from database.archive_tables import CapacityPeriodRow, ContractRow, CustomerRow, MeterRow
from database.session import Database
from metamodel.effect_specs import SuspensionKind
from metamodel.specs import BusinessTypeSpec, DataItemSpec

OLD_METER = "3330000001"
"""The asset number of the meter every seeded customer has."""
OLD_CAPACITY = "200.00"
"""The contracted capacity of every seeded customer."""

_seeded = itertools.count(1)


@dataclass
class Seeded:
    """A customer seeded for one walk, and the item values that name it or its neighbours."""

    number: str
    overrides: dict[str, object]
    absorbed: list[str]


async def seed_customer(
    database: Database, root_id: int, spec: BusinessTypeSpec, items: Mapping[str, DataItemSpec]
) -> Seeded:
    """A fresh customer in the state `spec` requires, with a meter and a contract of its own.

    Imported from an earlier system (no case installed its meter or signed its contract), in
    the walk's org unit. For 并户, two neighbouring accounts to absorb are seeded too.
    """
    requirement = spec.customer_requirement
    kind = requirement.open_suspension if requirement else None
    whole = kind is SuspensionKind.DISCONNECTION or (
        requirement is not None and tuple(requirement.statuses) == ("SUSPENDED",)
    )
    temporary = requirement is not None and tuple(requirement.statuses) == ("TEMPORARY",)
    status = "SUSPENDED" if whole else "TEMPORARY" if temporary else "ACTIVE"
    now = dt.datetime.now(dt.UTC)
    numbers = [f"98{next(_seeded):08d}" for _ in range(3)]
    absorbed: list[str] = []
    overrides: dict[str, object] = {}
    if "merge_accounts" in {u.item for u in spec.items}:
        absorbed = numbers[1:]
        overrides["merge_accounts"] = [
            {"customer_number": n, "final_reading": "321.00"} for n in absorbed
        ]
    async with database.transaction() as session:
        for number in [numbers[0], *absorbed]:
            customer = CustomerRow(
                number=number,
                name="老客户",
                capacity=OLD_CAPACITY,
                voltage_level="KV10",
                electricity_category=items["electricity_category"].options[0].value,
                status=status if number == numbers[0] else "ACTIVE",
                org_unit_id=root_id,
                created_at=now,
                updated_at=now,
            )
            session.add(customer)
            await session.flush()
            if not (kind is SuspensionKind.DISCONNECTION and number == numbers[0]):
                session.add(
                    MeterRow(
                        customer_id=customer.id,
                        case_id=None,
                        asset_no=OLD_METER if number == numbers[0] else f"3339{number[-6:]}",
                        installed_at=now,
                    )
                )
            session.add(
                ContractRow(
                    customer_id=customer.id,
                    case_id=None,
                    number=f"HT-OLD-{number}",
                    type="TEMPORARY" if temporary and number == numbers[0] else "HIGH_VOLTAGE",
                    signed_at=now,
                    signed_on=dt.date(2020, 1, 1),
                )
            )
            if kind is not None and number == numbers[0]:
                session.add(
                    CapacityPeriodRow(
                        customer_id=customer.id,
                        case_id=None,
                        kind=kind.value,
                        capacity=None if whole else "50.00",
                        starts_on=dt.date(2026, 1, 5),
                    )
                )
    return Seeded(number=numbers[0], overrides=overrides, absorbed=absorbed)
