"""The `Case` interface every generated case type implements, and what hangs off it.

Fields that need the database (`currentStages`, `events`) read through the per-request
DataLoaders the context carries, so a page of cases costs one query per field, not per case.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from metamodel.effect_specs import CaseEnd
from metamodel.specs import CaseStatus
from schema.common import describe_values

if TYPE_CHECKING:
    from schema.customer_types import Customer
    from schema.deadline_types import Deadline
    from schema.fee_types import Fee
    from schema.task_types import Task

CaseStatusEnum = describe_values(
    strawberry.enum(CaseStatus, name="CaseStatus", description="Where a case stands as a whole."),
    {
        "DRAFT": "Saved but not submitted; no stage has started.",
        "IN_PROGRESS": "Submitted and moving through its stages.",
        "SUSPENDED": "Paused by suspendCase; its deadline clocks stop until resumeCase.",
        "COMPLETED": "Reached a COMPLETED end stage; its archive effects have been applied.",
        "CANCELLED": "Stopped by cancelCase before an end.",
        "REJECTED": "Reached a REJECTED end stage (不予受理, 不具备供电条件); nothing archived.",
        "WITHDRAWN": "Reached a WITHDRAWN end stage (客户撤销); nothing archived.",
    },
)


CaseEndEnum = describe_values(
    strawberry.enum(
        CaseEnd,
        name="CaseEnd",
        description="How reaching an end stage ends the case (the case's status afterwards).",
    ),
    {
        "COMPLETED": "The application is carried out: the type's COMPLETED effects are applied "
        "to the customer file.",
        "REJECTED": "The application is refused (不予受理, 不具备供电条件): the case closes at "
        "once, open work is cancelled, nothing is archived and the applicant is shown the reason.",
        "WITHDRAWN": "The applicant withdrew (客户撤销): the case closes at once, open work is "
        "cancelled, nothing is archived and the applicant is shown the reason.",
    },
)


@strawberry.type(description="A business type, as a case refers to it.")
class BusinessTypeRef:
    """The business type of a case."""

    code: str = strawberry.field(description="The business type's code.")
    name: str = strawberry.field(description="The business type's name, such as 高压新装.")


@strawberry.type(description="An org unit, as a case refers to it.")
class OrgUnitRef:
    """The org unit a case belongs to."""

    code: str = strawberry.field(description="The org unit's code.")
    name: str = strawberry.field(description="The org unit's name.")


@strawberry.type(description="A stage, as a case refers to it.")
class StageRef:
    """A stage a case is in."""

    code: str = strawberry.field(description="The stage's code.")
    name: str = strawberry.field(description="The stage's name.")


@strawberry.type(description="An entry of a case's tamper-evident history.")
class CaseEvent:
    """One event: who did what when, chained to the entry before by `hash`."""

    seq: int = strawberry.field(description="The event's position in the case's history, from 1.")
    at: dt.datetime = strawberry.field(description="When it happened.")
    actor: str = strawberry.field(
        description="The username who did it, or system for the engine and scheduled work."
    )
    action: str = strawberry.field(
        description="What happened, such as CREATED, SUBMITTED, STAGE_ENTERED, PAYMENT_RECORDED."
    )
    data: JSON = strawberry.field(
        description=(
            "The details of the event (values written, outcome, amounts); items the reader may not"
            " see are left out."
        )
    )
    hash: str = strawberry.field(
        description=(
            "A hash over this event and the one before; verifyCaseHistory uses the chain to find "
            "tampering."
        )
    )


@strawberry.interface(description="An application case, whatever its business type.")
class Case:
    """The fields every case has; each business type adds a typed `data` field."""

    id: strawberry.ID = strawberry.field(description="The case's opaque id.")
    number: str = strawberry.field(
        description="The case number (申请编号) people quote, unique across business types."
    )
    business_type: BusinessTypeRef = strawberry.field(
        description="The business type (业务类别) the case is an application of."
    )
    business_type_version: int = strawberry.field(
        description="The version of the business type the case follows to its end."
    )
    status: CaseStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="Where the case stands as a whole (DRAFT until submitted)."
    )
    org_unit: OrgUnitRef = strawberry.field(
        description="The org unit (供电单位) that handles the case."
    )
    customer_number: str | None = strawberry.field(
        description=(
            "The customer's 户号: the existing customer a change applies to, or the one a new "
            "connection created."
        )
    )
    priority: int = strawberry.field(description="Higher is handled first.")
    created_at: dt.datetime = strawberry.field(description="When the case was opened.")
    submitted_at: dt.datetime | None = strawberry.field(
        description="When the case was submitted; null for a draft."
    )
    completed_at: dt.datetime | None = strawberry.field(
        description=(
            "When the case reached an end (completed, rejected, withdrawn or cancelled); null "
            "while open."
        )
    )
    due_at: dt.datetime | None = strawberry.field(
        description=(
            "When the whole case must be done by its business type's time limit; null without one."
        )
    )
    is_overdue: bool = strawberry.field(description="Whether the case is open past dueAt.")
    version: int = strawberry.field(
        description="Increases with every change; send it back as expectedVersion."
    )
    pk: strawberry.Private[int] = 0
    hidden: strawberry.Private[frozenset[str]] = frozenset()
    hidden_event_keys: strawberry.Private[frozenset[tuple[str, str]]] = frozenset()
    """(action, key) of event data worked out from hidden items (an archived meter's number)."""

    @strawberry.field(description="The stages the case is in now.")
    async def current_stages(self, info: strawberry.Info[Any, Any]) -> list[StageRef]:
        """Batched through the request's loader."""
        stages: list[StageRef] = await info.context.loaders.current_stages.load(self.pk)
        return stages

    @strawberry.field(description="The case's tasks, oldest first.")
    async def tasks(
        self, info: strawberry.Info[Any, Any]
    ) -> list[Annotated[Task, strawberry.lazy("schema.task_types")]]:
        """Batched through the request's loader."""
        found: list[Task] = await info.context.loaders.tasks.load(self.pk)
        return found

    @strawberry.field(
        description=(
            "Every limit the case is measured against: each stage visit with a limit (finished "
            "ones keep their due date), each milestone span that started, the whole-case limit."
        )
    )
    async def deadlines(
        self, info: strawberry.Info[Any, Any]
    ) -> list[Annotated[Deadline, strawberry.lazy("schema.deadline_types")]]:
        """Batched through the request's loader."""
        found: list[Deadline] = await info.context.loaders.deadlines.load(self.pk)
        return found

    @strawberry.field(description="Fees assessed on the case, with their working.")
    async def fees(
        self, info: strawberry.Info[Any, Any]
    ) -> list[Annotated[Fee, strawberry.lazy("schema.fee_types")]]:
        """Batched through the request's loader; inputs hidden from the reader are left out."""
        found: list[Fee] = await info.context.case_fees(self.pk, self.hidden)
        return found

    @strawberry.field(description="The customer archive record the case created or changed.")
    async def customer(
        self, info: strawberry.Info[Any, Any]
    ) -> Annotated[Customer, strawberry.lazy("schema.customer_types")] | None:
        """Read when asked for."""
        if self.customer_number is None:
            return None
        found: Customer | None = await info.context.customer(self.customer_number)
        return found

    @strawberry.field(description="The case's history, oldest first.")
    async def events(self, info: strawberry.Info[Any, Any]) -> list[CaseEvent]:
        """Batched through the request's loader."""
        events: list[CaseEvent] = await info.context.loaders.events.load(self.pk)
        if not self.hidden and not self.hidden_event_keys:
            return events
        return [
            CaseEvent(
                seq=e.seq,
                at=e.at,
                actor=e.actor,
                action=e.action,
                data=_redact(
                    e.data, self.hidden | {k for a, k in self.hidden_event_keys if a == e.action}
                ),
                hash=e.hash,
            )
            for e in events
        ]


def _redact(data: Any, hidden: frozenset[str]) -> Any:
    """Event data without the values of items the reader may not see."""
    if not isinstance(data, dict):
        return data
    return {
        k: _redact(v, hidden) if k in ("data", "changes") else v
        for k, v in data.items()
        if k not in hidden
    }
