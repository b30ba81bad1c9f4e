"""GraphQL shapes of milestone spans (DESIGN §6.1): `spans` of a business type.

A span is a limit measured across stages (方案答复 counted from 受理): from `fromStage`'s first
entry to `toStage`'s completion, or to the case's end when `toStage` is null.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry

from metamodel.specs import SpanSpec
from metamodel.specs import TimeLimit as TimeLimitSpec
from schema.common import TimeLimit, TimeLimitInput

SPANS = (
    "Milestone limits measured across stages (方案答复 from 受理, 装表接电 from 竣工检验): each "
    "starts when its fromStage is first entered (a RETURN does not restart it), pauses while the "
    "customer has the case or it is suspended, and is met when its toStage completes (null: when "
    "the case ends)."
)


@strawberry.type(description="A milestone limit from one stage's entry to another's completion.")
class Span:
    """A milestone span of a business type."""

    code: str = strawberry.field(description="The span's code (snake_case, unique in the type).")
    name: str = strawberry.field(description="The name people see, such as 供电方案答复.")
    from_stage: str = strawberry.field(description="The stage whose first entry starts it.")
    to_stage: str | None = strawberry.field(
        description="The stage whose completion meets it; null: the case's end."
    )
    time_limit: TimeLimit = strawberry.field(description="How long it may take.")


@strawberry.input(description="A milestone limit from one stage's entry to another's completion.")
class SpanInput:
    """A milestone span of a business type draft."""

    code: str = strawberry.field(description="The span's code (snake_case, unique in the type).")
    name: str = strawberry.field(description="The name people see, such as 供电方案答复.")
    from_stage: str = strawberry.field(description="The stage whose first entry starts it.")
    time_limit: TimeLimitInput = strawberry.field(description="How long it may take.")
    to_stage: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The stage whose completion meets it; omitted: the case's end.",
    )


def spans_out(
    spans: Sequence[SpanSpec], limit_out: Callable[[TimeLimitSpec], TimeLimit | None]
) -> list[Span]:
    """The spans of a definition for output."""
    out: list[Span] = []
    for span in spans:
        limit = limit_out(span.time_limit)
        assert limit is not None
        out.append(
            Span(
                code=span.code,
                name=span.name,
                from_stage=span.from_stage,
                to_stage=span.to_stage,
                time_limit=limit,
            )
        )
    return out
