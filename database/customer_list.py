"""The scoped list of customers: filters, orderings and keyset pages over the customer file.

A customer is listed exactly when `customer(number)` would answer for it (`archive_reads`):
within the reader's org subtree (a customer of no unit: administrators only) and, for staff,
only through a case of it they may see. The scope is part of the statement, so an
out-of-scope customer is never read, counted or used as a cursor's position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, false, func, inspect, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from database import keyset
from database.archive_reads import customer_record
from database.archive_tables import CustomerRow
from database.case_reads import CaseScope, in_subtree, scope_condition
from database.case_tables import CaseRow
from database.records import CustomerRecord

_COLUMNS = inspect(CustomerRow).columns

ORDERABLE: dict[str, tuple[str, bool]] = {
    "number": ("number", False),
    "name": ("name", True),
    "tariff_category": ("electricity_category", True),
    "created_at": ("created_at", False),
    "updated_at": ("updated_at", False),
}
"""Order key -> (column, whether it can be null)."""


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    """Conditions on customers, combined with and; None leaves a condition out."""

    number_eq: str | None = None
    number_prefix: str | None = None
    name_eq: str | None = None
    name_prefix: str | None = None
    statuses: tuple[str, ...] | None = None
    tariff_categories: tuple[str, ...] | None = None
    voltage_levels: tuple[str, ...] | None = None
    org_path: str | None = None
    """The subtree of an org unit; "" for an org unit that does not exist (matches nothing)."""
    parent_number: str | None = None


def customer_scope(scope: CaseScope) -> ColumnElement[bool]:
    """SQL for the customers a case scope may read (see the module note)."""
    if scope.everything:
        return true()
    if not scope.org_path:
        return false()
    in_tree = (
        in_subtree(CustomerRow.org_unit_id, scope.org_path)
        if scope.unit_ids is None
        else CustomerRow.org_unit_id.in_(sorted(scope.unit_ids))
    )
    if scope.whole_tree:
        return in_tree
    through_a_case = exists().where(
        CaseRow.customer_number == CustomerRow.number, scope_condition(scope)
    )
    return and_(in_tree, through_a_case)


def _prefix(column: Any, prefix: str) -> ColumnElement[bool]:
    """A prefix test, not LIKE: `_` and `%` in a 户号 or a name are no wildcards."""
    return and_(column.is_not(None), func.substr(column, 1, len(prefix)) == prefix)


def filter_condition(wanted: CustomerFilter) -> ColumnElement[bool]:
    """SQL for a customer filter."""
    parts: list[ColumnElement[bool]] = []
    if wanted.number_eq is not None:
        parts.append(CustomerRow.number == wanted.number_eq)
    if wanted.number_prefix is not None:
        parts.append(_prefix(CustomerRow.number, wanted.number_prefix))
    if wanted.name_eq is not None:
        parts.append(CustomerRow.name == wanted.name_eq)
    if wanted.name_prefix is not None:
        parts.append(_prefix(CustomerRow.name, wanted.name_prefix))
    if wanted.statuses is not None:
        parts.append(CustomerRow.status.in_(wanted.statuses))
    if wanted.tariff_categories is not None:
        parts.append(CustomerRow.electricity_category.in_(wanted.tariff_categories))
    if wanted.voltage_levels is not None:
        parts.append(CustomerRow.voltage_level.in_(wanted.voltage_levels))
    if wanted.org_path is not None:
        parts.append(
            in_subtree(CustomerRow.org_unit_id, wanted.org_path) if wanted.org_path else false()
        )
    if wanted.parent_number is not None:
        parts.append(CustomerRow.parent_number == wanted.parent_number)
    return and_(true(), *parts)


def condition(scope: CaseScope, wanted: CustomerFilter) -> ColumnElement[bool]:
    """The customers of a scope that a filter keeps."""
    return and_(customer_scope(scope), filter_condition(wanted))


def sort_keys(orders: Sequence[tuple[str, bool]]) -> list[keyset.SortKey]:
    """ORDER BY keys for (order key, descending) pairs, ending with the id (the tie-break).

    A key given twice counts once (the first); no orders: by 户号.
    """
    keys: list[keyset.SortKey] = []
    seen: set[str] = set()
    for name, descending in orders or (("number", False),):
        if name in seen:
            continue
        seen.add(name)
        column, nullable = ORDERABLE[name]
        keys.append(keyset.SortKey(_COLUMNS[column], descending=descending, nullable=nullable))
    last = keys[-1].descending
    keys.append(keyset.SortKey(_COLUMNS["id"], descending=last, nullable=False))
    return keys


@dataclass(frozen=True, slots=True)
class CustomerPage:
    """One page of customers in list order, each with its position, and whether more lie beyond."""

    customers: list[CustomerRecord]
    positions: list[tuple[object, ...]]
    more: bool


async def page(
    session: AsyncSession,
    condition: ColumnElement[bool],
    keys: Sequence[keyset.SortKey],
    window: keyset.Window,
) -> CustomerPage:
    """Customers matching a condition (scope included), one keyset page (see `keyset.fetch`).

    LookupError when the window names a customer by id that is gone.
    """
    rows, more = await keyset.fetch(
        session, select(CustomerRow).where(condition), keys, window, id_column=_COLUMNS["id"]
    )
    return CustomerPage(
        customers=[customer_record(row[0]) for row in rows],
        positions=[tuple(row[1:]) for row in rows],
        more=more,
    )


async def count(session: AsyncSession, condition: ColumnElement[bool]) -> int:
    """How many customers match a condition (scope included)."""
    statement = select(func.count()).select_from(CustomerRow).where(condition)
    return int(await session.scalar(statement) or 0)
