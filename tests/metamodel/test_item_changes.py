"""What changing a data item's scale means for the published versions that use it."""

from __future__ import annotations

import pytest

from metamodel.item_changes import ItemUse, PropertyChange, Verdict, judge, property_changes
from metamodel.specs import DataItemSpec, ItemType


def capacity(scale: int | None, item_type: ItemType = ItemType.DECIMAL) -> DataItemSpec:
    return DataItemSpec("capacity_kva", "申请容量", item_type, unit="kVA", scale=scale)


def used(frozen: DataItemSpec) -> tuple[ItemUse, ...]:
    return (ItemUse("hv_new", "高压新装", (1,), (frozen,)),)


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        (2, 1, "lowers scale from 2 to 1 decimal places"),
        (3, 0, "lowers scale from 3 to 0 decimal places"),
        (None, 2, "sets scale 2 where up to 10 decimal places were accepted"),
        (None, 0, "sets scale 0 where up to 10 decimal places were accepted"),
    ],
)
def test_fewer_places_on_a_used_item_need_allow_breaking(
    before: int | None, after: int, message: str
) -> None:
    judged = judge(capacity(before), capacity(after), used(capacity(before)))
    [finding] = judged.findings
    assert (finding.verdict, finding.property) == (Verdict.NEEDS_ALLOW_BREAKING, "scale")
    assert message in finding.message and "hv_new" in finding.message
    assert judged.refusals(allow_breaking=False) == (finding,)
    assert judged.refusals(allow_breaking=True) == ()


@pytest.mark.parametrize(
    ("before", "after"),
    [(2, 3), (0, 10), (2, None), (None, 10), (2, 2)],
    ids=["more-places", "zero-to-ten", "scale-dropped", "ten-of-ten", "unchanged"],
)
def test_as_many_places_or_more_are_allowed(before: int | None, after: int | None) -> None:
    judged = judge(capacity(before), capacity(after), used(capacity(before)))
    assert judged.findings == ()


def test_any_scale_change_of_an_unused_item_is_allowed() -> None:
    assert judge(capacity(4), capacity(0), ()).findings == ()


def test_money_naming_its_two_places_changes_nothing_it_accepts() -> None:
    money = DataItemSpec("deposit", "预付费", ItemType.MONEY)
    named = DataItemSpec("deposit", "预付费", ItemType.MONEY, scale=2)
    assert judge(money, named, used(money)).findings == ()


def test_a_scale_change_is_reported_as_a_property_change() -> None:
    assert property_changes(capacity(None), capacity(2)) == (PropertyChange("scale", None, "2"),)
    assert property_changes(capacity(2), capacity(0)) == (PropertyChange("scale", "2", "0"),)
    assert property_changes(capacity(2), capacity(2)) == ()
