"""GraphQL shapes of a business type's transitions: how a case moves between stages."""

from __future__ import annotations

import strawberry

U = strawberry.UNSET


@strawberry.type(description="A move from one stage to others.")
class Transition:
    """Leave `from` with `outcome` for every stage in `to` when `condition` holds."""

    from_: str = strawberry.field(name="from", description="The stage the case leaves.")
    outcome: str = strawberry.field(description="The outcome that takes this way.")
    to: list[str] = strawberry.field(
        description="The stages entered; several are a parallel split."
    )
    condition: str | None = strawberry.field(
        description="When this way is taken; null: always. An expression: see docs/expressions.md."
    )


@strawberry.input(description="A move from one stage to others.")
class TransitionInput:
    """outcome defaults to APPROVE; several `to` stages are a parallel split."""

    from_: str = strawberry.field(name="from", description="The stage the case leaves.")
    to: list[str] = strawberry.field(
        description="The stages to enter; several make a parallel split."
    )
    outcome: str | None = strawberry.field(
        default=U, description="The outcome that takes this way; omitted: APPROVE."
    )
    condition: str | None = strawberry.field(
        default=U,
        description=(
            "When this way is taken, over the case's data items; omitted: always. An expression: "
            "see docs/expressions.md."
        ),
    )
