"""What an applicant is told in plain words: what waits for them, and why a step came back.

`caseProgress` shows the stages and fees; these two sentences say what they mean for the
applicant. A stage that waits for the customer (WAITING) names what it still needs from them:
the fees to pay where the stage holds the case until paid, and the items it requires that the
case does not have yet (by their labels, never their values, and none kept from the applicant
by `visibleTo`). A step that was sent back (RETURN, RECTIFY or any outcome that led to a stage
the case had been in before) is told with the comment of whoever sent it back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from metamodel.specs import DEFAULT_OUTCOME, BusinessTypeVersion

OPEN = frozenset({"ACTIVE", "WAITING"})
"""Visits that hold work now."""
NOT_RETURNS = frozenset({DEFAULT_OUTCOME, "REJECT", "WITHDRAW"})
"""Outcomes that move a case on or end it: never a step sent back."""


class Visit(Protocol):
    """What these notes read of a stage visit."""

    @property
    def id(self) -> int:
        """The visit's row id (its order among visits)."""

    @property
    def stage(self) -> str:
        """The stage visited."""

    @property
    def status(self) -> str:
        """ACTIVE, WAITING, JOINING, DONE or CANCELLED."""

    @property
    def entered_at(self) -> dt.datetime:
        """When the case entered the stage."""

    @property
    def completed_at(self) -> dt.datetime | None:
        """When the visit ended, if it has."""

    @property
    def outcome(self) -> str | None:
        """The outcome it ended with, if any."""


class DueFee(Protocol):
    """What these notes read of a fee."""

    @property
    def name(self) -> str:
        """The fee's name."""

    @property
    def amount(self) -> str:
        """The amount, as stored ("27000.00")."""

    @property
    def status(self) -> str:
        """DUE, PAID or WAIVED."""


def waiting_for(
    version: BusinessTypeVersion,
    visits: Sequence[Visit],
    data: Mapping[str, object],
    fees: Sequence[DueFee],
    stage_names: Mapping[str, str],
    hidden: frozenset[str] | None,
) -> str | None:
    """What the applicant must do now, or None when the utility has the case.

    `hidden` are the items kept from the applicant (None: every item).
    """
    notes: list[str] = []
    for visit in visits:
        if visit.status != "WAITING":
            continue
        usage = version.spec.stage_usage(visit.stage)
        name = stage_names.get(visit.stage, visit.stage)
        needs: list[str] = []
        if usage is not None and usage.requires_payment:
            due = [f for f in fees if f.status == "DUE"]
            if due:
                listed = "、".join(f"{f.name} {Decimal(f.amount):.2f} 元" for f in due)
                needs.append(f"缴纳{listed}")
        missing = [
            version.items[u.item].label
            for u in version.spec.items
            if visit.stage in u.required_at
            and data.get(u.item) in (None, "", (), [])
            and hidden is not None
            and u.item not in hidden
            and u.item in version.items
        ]
        if missing:
            needs.append(f"提供{'、'.join(missing)}")
        notes.append(f"{name}：请{'，'.join(needs)}" if needs else f"{name}：待您办理")
    return "；".join(notes) or None


def returned_because(
    visits: Sequence[Visit], comments: Mapping[int, str | None], stage_names: Mapping[str, str]
) -> str | None:
    """Why the step the case is in now came back, or None when nothing was sent back.

    `comments` are the comments of the tasks that completed each visit, by visit id. The step
    came back when the visit that led to an open one ended with an outcome other than going on
    (or ending), and the open stage is one the case had been in before.
    """
    for current in sorted(
        (v for v in visits if v.status in OPEN), key=lambda v: v.entered_at, reverse=True
    ):
        before = [v for v in visits if v.id < current.id]
        if not any(v.stage == current.stage for v in before):
            continue
        sender = max(
            (v for v in before if v.completed_at is not None),
            key=lambda v: (v.completed_at or current.entered_at, v.id),
            default=None,
        )
        if sender is None or (sender.outcome or DEFAULT_OUTCOME) in NOT_RETURNS:
            continue
        name = stage_names.get(sender.stage, sender.stage)
        comment = (comments.get(sender.id) or "").strip()
        return f"{name}退回：{comment}" if comment else f"{name}退回（{sender.outcome}）"
    return None
