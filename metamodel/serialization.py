"""Definitions to and from plain JSON-able dicts, the form they are stored and exported in.

Keys are snake_case like the dataclass fields; absent optional values are left out so stored
definitions stay small and diffs (YAML plans, schema reviews) show only what was set. Reading
goes through metamodel.decode, which checks every field against its declared type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metamodel import decode, decode_rules
from metamodel.effect_specs import CaseEnd, CustomerRequirement, EffectSpec
from metamodel.specs import (
    DEFAULT_OUTCOME,
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    FeeRuleSpec,
    OrgUnitSpec,
    PostSpec,
    ResponsibilitySpec,
    StageSpec,
    TimeLimit,
)

JsonDict = dict[str, Any]


def _compact(values: Mapping[str, Any]) -> JsonDict:
    """Drop None, empty tuples and False flags so stored JSON carries only what was set."""
    return {
        k: v for k, v in values.items() if v is not None and v != () and v != [] and v is not False
    }


def time_limit_to_dict(limit: TimeLimit | None) -> JsonDict | None:
    """A time limit as a dict, or None."""
    if limit is None:
        return None
    if limit.expression is not None:
        return {"expression": limit.expression, "unit": limit.unit.value}
    return {"amount": limit.amount, "unit": limit.unit.value}


def time_limit_from_dict(raw: Mapping[str, Any] | None) -> TimeLimit | None:
    """The inverse of time_limit_to_dict."""
    return decode.time_limit(raw)


def data_item_to_dict(item: DataItemSpec) -> JsonDict:
    """A data item as a dict."""
    return _compact(
        {
            "code": item.code,
            "label": item.label,
            "type": item.type.value,
            "options": [{"value": o.value, "label": o.label} for o in item.options],
            "unit": item.unit,
            "min": item.min,
            "max": item.max,
            "max_length": item.max_length,
            "pattern": item.pattern,
            "indexed": item.indexed,
            "description": item.description,
            "scale": item.scale,
            "fields": [data_item_to_dict(f) for f in item.fields],
            "min_count": item.min_count,
            "max_count": item.max_count,
            "required": item.required,
        }
    )


def data_item_from_dict(raw: Mapping[str, Any]) -> DataItemSpec:
    """The inverse of data_item_to_dict."""
    return decode.data_item(raw)


def stage_to_dict(stage: StageSpec) -> JsonDict:
    """A library stage as a dict."""
    return _compact(
        {
            "code": stage.code,
            "name": stage.name,
            "time_limit": time_limit_to_dict(stage.time_limit),
            "description": stage.description,
        }
    )


def stage_from_dict(raw: Mapping[str, Any]) -> StageSpec:
    """The inverse of stage_to_dict."""
    return decode.stage(raw)


def post_to_dict(post: PostSpec) -> JsonDict:
    """A post as a dict."""
    return _compact({"code": post.code, "name": post.name, "description": post.description})


def post_from_dict(raw: Mapping[str, Any]) -> PostSpec:
    """The inverse of post_to_dict."""
    return decode.post(raw)


def org_unit_to_dict(unit: OrgUnitSpec) -> JsonDict:
    """An org unit as a dict."""
    return _compact({"code": unit.code, "name": unit.name, "parent": unit.parent})


def org_unit_from_dict(raw: Mapping[str, Any]) -> OrgUnitSpec:
    """The inverse of org_unit_to_dict."""
    return decode.org_unit(raw)


def business_type_to_dict(spec: BusinessTypeSpec) -> JsonDict:
    """A business type definition as a dict."""
    return _compact(
        {
            "code": spec.code,
            "name": spec.name,
            "group": spec.group.value,
            "priority": spec.priority or None,
            "description": spec.description,
            "time_limit": time_limit_to_dict(spec.time_limit),
            "items": [
                _compact(
                    {
                        "item": u.item,
                        "required_at": list(u.required_at),
                        "editable_at": list(u.editable_at),
                        "visible_to": list(u.visible_to),
                        "compute": u.compute,
                    }
                )
                for u in spec.items
            ],
            "stages": [
                _compact(
                    {
                        "stage": s.stage,
                        "time_limit": time_limit_to_dict(s.time_limit),
                        "outcomes": None if s.outcomes == (DEFAULT_OUTCOME,) else list(s.outcomes),
                        "requires_payment": s.requires_payment,
                        "waits_for_customer": s.waits_for_customer,
                        "join": s.join,
                        "end": None if s.end is None else s.end.value,
                        "reason": s.reason,
                    }
                )
                for s in spec.stages
            ],
            "transitions": [
                _compact(
                    {
                        "from": t.from_stage,
                        "outcome": None if t.outcome == DEFAULT_OUTCOME else t.outcome,
                        "to": list(t.to),
                        "condition": t.condition,
                    }
                )
                for t in spec.transitions
            ],
            "start": spec.start,
            "archive": [{"field": a.field, "item": a.item} for a in spec.archive],
            "customer_requirement": _requirement_to_dict(spec.customer_requirement),
            "spans": [
                _compact(
                    {
                        "code": s.code,
                        "name": s.name,
                        "from_stage": s.from_stage,
                        "to_stage": s.to_stage,
                        "time_limit": time_limit_to_dict(s.time_limit),
                    }
                )
                for s in spec.spans
            ],
            "rules": [decode_rules.rule_to_dict(r) for r in spec.rules],
        }
    ) | {"effects": [_effect_to_dict(e) for e in spec.effects]}


def _effect_to_dict(effect: EffectSpec) -> JsonDict:
    """An effect as a dict; COMPLETED, the default end, is left out."""
    return _compact(
        {
            "end": None if effect.end is CaseEnd.COMPLETED else effect.end.value,
            "kind": effect.kind.value,
            "entries": effect.entries,
            "fields": [{"field": f.field, "item": f.item} for f in effect.fields],
            "status": effect.status.value if effect.status else None,
            "suspension": effect.suspension.value if effect.suspension else None,
            "contract_type": effect.contract_type,
        }
    )


def _requirement_to_dict(requirement: CustomerRequirement | None) -> JsonDict | None:
    """A customer requirement as a dict (an empty one stays: it still refuses CLOSED)."""
    if requirement is None:
        return None
    return {
        "statuses": [s.value for s in requirement.statuses],
        **(
            {"open_suspension": requirement.open_suspension.value}
            if requirement.open_suspension
            else {}
        ),
    }


def business_type_from_dict(raw: Mapping[str, Any]) -> BusinessTypeSpec:
    """The inverse of business_type_to_dict."""
    return decode.business_type(raw)


def fee_rule_to_dict(rule: FeeRuleSpec) -> JsonDict:
    """A fee rule as a dict (dates as ISO strings)."""
    return _compact(
        {
            "code": rule.code,
            "name": rule.name,
            "business_types": list(rule.business_types),
            "stage": rule.stage,
            "condition": rule.condition,
            "amount": rule.amount,
            "effective_from": rule.effective_from.isoformat() if rule.effective_from else None,
            "effective_to": rule.effective_to.isoformat() if rule.effective_to else None,
            "status": rule.status.value,
            "description": rule.description,
            "pay_at": rule.pay_at,
        }
    )


def fee_rule_from_dict(raw: Mapping[str, Any]) -> FeeRuleSpec:
    """The inverse of fee_rule_to_dict (YAML may give dates as dates)."""
    return decode.fee_rule(raw)


def responsibility_to_dict(spec: ResponsibilitySpec) -> JsonDict:
    """A responsibility as a dict."""
    return _compact(
        {
            "stage": spec.stage,
            "post": spec.post,
            "business_type": spec.business_type,
            "org_unit": spec.org_unit,
        }
    )


def responsibility_from_dict(raw: Mapping[str, Any]) -> ResponsibilitySpec:
    """The inverse of responsibility_to_dict."""
    return decode.responsibility(raw)


def version_to_dict(version: BusinessTypeVersion) -> JsonDict:
    """A published version with its frozen dictionary entries, as stored."""
    return {
        "version": version.version,
        "spec": business_type_to_dict(version.spec),
        "items": [data_item_to_dict(i) for i in version.items.values()],
        "stages": [stage_to_dict(s) for s in version.stages.values()],
    }


def version_from_dict(raw: Mapping[str, Any]) -> BusinessTypeVersion:
    """The inverse of version_to_dict."""
    return decode.version(raw)
