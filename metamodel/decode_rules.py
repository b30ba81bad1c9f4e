"""The declared shape of a business type's rules, and their stored form.

Part of metamodel.decode and metamodel.serialization, kept apart so each stays small: a rule of
the wrong shape is refused by msgspec like any other field, and a rule is stored as the dict it
was written as (ERROR, the default severity, left out).
"""

from __future__ import annotations

from typing import Any

import msgspec

from metamodel.specs import RuleSeverity, RuleSpec


class RuleIn(msgspec.Struct, forbid_unknown_fields=True):
    """One rule on the data (metamodel.specs.RuleSpec)."""

    code: str
    condition: str
    message: str
    from_stage: str | None = None
    severity: RuleSeverity | None = None


def rules(raw: tuple[RuleIn, ...] | None) -> tuple[RuleSpec, ...]:
    """The declared rules, in order."""
    return tuple(
        RuleSpec(
            code=r.code,
            condition=r.condition,
            message=r.message,
            from_stage=r.from_stage,
            severity=r.severity or RuleSeverity.ERROR,
        )
        for r in raw or ()
    )


def rule_to_dict(rule: RuleSpec) -> dict[str, Any]:
    """A rule as a dict; an absent stage and the ERROR severity are left out."""
    out: dict[str, Any] = {"code": rule.code, "condition": rule.condition, "message": rule.message}
    if rule.from_stage is not None:
        out["from_stage"] = rule.from_stage
    if rule.severity is not RuleSeverity.ERROR:
        out["severity"] = rule.severity.value
    return out
