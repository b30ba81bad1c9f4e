"""What an applicant is told: the stage waiting for them and what it needs; why a step came back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from casework.progress_notes import returned_because, waiting_for
from metamodel.specs import (
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    ItemType,
    ItemUsage,
    StageUsage,
)

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
NAMES = {"pay": "业务收费", "build": "客户工程施工", "check": "竣工检验", "survey": "现场勘查"}
ITEMS = {
    "report_date": DataItemSpec("report_date", "竣工报验日期", ItemType.DATE),
    "secret_plan": DataItemSpec("secret_plan", "内部方案", ItemType.TEXT),
}
SPEC = BusinessTypeSpec(
    code="t",
    name="t",
    items=(
        ItemUsage("report_date", required_at=("build",)),
        ItemUsage("secret_plan", required_at=("build",), visible_to=("surveyor",)),
    ),
    stages=(
        StageUsage("survey"),
        StageUsage("pay", requires_payment=True, waits_for_customer=True),
        StageUsage("build", waits_for_customer=True),
        StageUsage("check", outcomes=("APPROVE", "RECTIFY")),
    ),
)
VERSION = BusinessTypeVersion(spec=SPEC, version=1, items=ITEMS)


@dataclass(frozen=True)
class V:
    id: int
    stage: str
    status: str
    entered_at: dt.datetime
    completed_at: dt.datetime | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class F:
    name: str
    amount: str
    status: str


def at(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@pytest.mark.parametrize(
    ("visits", "data", "fees", "expected"),
    [
        # The utility has the case: nothing waits for the applicant.
        ([V(1, "survey", "ACTIVE", at(0))], {}, [], None),
        # 业务收费 holds the case until the fee is paid.
        (
            [V(1, "pay", "WAITING", at(0))],
            {},
            [F("高可靠性供电费", "27000.00", "DUE"), F("其他", "5.00", "PAID")],
            "业务收费：请缴纳高可靠性供电费 27000.00 元",
        ),
        # Construction needs the report date; the item kept from applicants is not named.
        (
            [V(1, "build", "WAITING", at(0))],
            {},
            [],
            "客户工程施工：请提供竣工报验日期",
        ),
        (
            [V(1, "build", "WAITING", at(0))],
            {"report_date": "2026-03-09"},
            [],
            "客户工程施工：待您办理",
        ),
    ],
)
def test_what_waits_for_the_applicant(
    visits: list[V], data: dict[str, object], fees: list[F], expected: str | None
) -> None:
    hidden = frozenset({"secret_plan"})
    assert waiting_for(VERSION, visits, data, fees, NAMES, hidden) == expected


def test_nothing_is_named_when_every_item_is_kept_from_the_applicant() -> None:
    visits = [V(1, "build", "WAITING", at(0))]
    assert waiting_for(VERSION, visits, {}, [], NAMES, None) == "客户工程施工：待您办理"


def test_a_rectification_is_told_with_its_comment() -> None:
    visits = [
        V(1, "build", "DONE", at(0), at(5), "APPROVE"),
        V(2, "check", "DONE", at(5), at(8), "RECTIFY"),
        V(3, "build", "WAITING", at(8)),
    ]
    comments = {2: "接地电阻不合格，请整改后复验", 1: None}
    assert returned_because(visits, comments, NAMES) == "竣工检验退回：接地电阻不合格，请整改后复验"
    assert returned_because(visits, {}, NAMES) == "竣工检验退回（RECTIFY）"


@pytest.mark.parametrize(
    "visits",
    [
        # Moving on is no return, even to a stage of the same name later.
        [V(1, "survey", "DONE", at(0), at(1), "APPROVE"), V(2, "pay", "WAITING", at(1))],
        # A first visit is never a return, whatever ended before it.
        [V(1, "check", "DONE", at(0), at(1), "RECTIFY"), V(2, "build", "WAITING", at(1))],
        # Nothing open: nothing to explain.
        [V(1, "build", "DONE", at(0), at(1)), V(2, "build", "DONE", at(1), at(2))],
    ],
)
def test_no_return_is_told_where_there_was_none(visits: list[V]) -> None:
    assert returned_because(visits, {1: "x"}, NAMES) is None
