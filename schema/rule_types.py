"""GraphQL shapes of a business type's rules on the data (DESIGN §6.1).

`rules: [{code, condition, message, fromStage, severity}]`: the input is the camelCase of the
stored shape, which `resolvers.input_decode` turns into the snake_case the decoder reads, so a
rule means the same from a file or from the API.
"""

from __future__ import annotations

import strawberry

from metamodel.specs import RuleSeverity, RuleSpec
from schema.common import describe_values

U = strawberry.UNSET

RULES = (
    "Conditions on the case's data, checked at create, update, submit and completeTask on the "
    "data as the command leaves it. A rule holds from fromStage on (once the case has entered "
    "it; omitted: always, drafts included). A rule whose condition reads an empty item is not "
    "decided and does not fail."
)
COMPUTE = (
    "An expression the item's value is computed from (docs/expressions.md); omitted: people "
    "enter it. A computed item is refused in inputs and recomputed whenever the data changes."
)
WARNINGS = (
    "WARNING rules the case fails as the command left it: the command went through; each names "
    "the rule's message and an item its condition reads."
)

RuleSeverityEnum = describe_values(
    strawberry.enum(
        RuleSeverity,
        name="RuleSeverity",
        description="What a failing rule does to the command that would break it.",
    ),
    {
        "ERROR": "The command is refused with VALIDATION errors and nothing changes.",
        "WARNING": "The command goes through; the failure is reported in `warnings`.",
    },
)


@strawberry.type(description="A rule on a case's data (数据校验规则).")
class Rule:
    """A rule of a business type."""

    code: str = strawberry.field(description="The rule's code (snake_case), unique in the type.")
    condition: str = strawberry.field(
        description="A BOOLEAN expression over the type's items that must hold."
    )
    message: str = strawberry.field(description="What a person is told when it does not.")
    from_stage: str | None = strawberry.field(
        default=None, description="The stage from whose entry on it holds; null: always."
    )
    severity: RuleSeverityEnum = strawberry.field(  # type: ignore[valid-type]
        default=RuleSeverity.ERROR, description="ERROR refuses the command; WARNING reports it."
    )


@strawberry.input(description="A rule on a case's data (数据校验规则).")
class RuleInput:
    """code, condition and message are required; severity defaults to ERROR."""

    code: str = strawberry.field(description="The rule's code (snake_case), unique in the type.")
    condition: str = strawberry.field(
        description="A BOOLEAN expression over the type's items that must hold."
    )
    message: str = strawberry.field(description="What a person is told when it does not.")
    from_stage: str | None = strawberry.field(
        default=U, description="The stage from whose entry on it holds; omitted: always."
    )
    severity: RuleSeverityEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=U, description="ERROR (omitted) refuses the command; WARNING reports it."
    )


def rule_out(rule: RuleSpec) -> Rule:
    """A rule for output."""
    return Rule(
        code=rule.code,
        condition=rule.condition,
        message=rule.message,
        from_stage=rule.from_stage,
        severity=rule.severity,
    )
