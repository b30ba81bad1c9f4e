"""Definitions to and from plain JSON-able dicts, the form they are stored and exported in.

Keys are snake_case like the dataclass fields; absent optional values are left out so stored
definitions stay small and diffs (YAML plans, schema reviews) show only what was set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from metamodel.specs import (
    DEFAULT_OUTCOME,
    ArchiveField,
    BusinessGroup,
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    EnumOption,
    FeeRuleSpec,
    FeeRuleStatus,
    ItemType,
    ItemUsage,
    OrgUnitSpec,
    PostSpec,
    ResponsibilitySpec,
    StageSpec,
    StageUsage,
    TimeLimit,
    TimeUnit,
    TransitionSpec,
)

JsonDict = dict[str, Any]


def _compact(values: Mapping[str, Any]) -> JsonDict:
    """Drop None, empty tuples and False flags so stored JSON carries only what was set."""
    return {
        k: v for k, v in values.items() if v is not None and v != () and v != [] and v is not False
    }


def time_limit_to_dict(limit: TimeLimit | None) -> JsonDict | None:
    """A time limit as a dict, or None."""
    return None if limit is None else {"amount": limit.amount, "unit": limit.unit.value}


def time_limit_from_dict(raw: Mapping[str, Any] | None) -> TimeLimit | None:
    """The inverse of time_limit_to_dict."""
    return None if raw is None else TimeLimit(int(raw["amount"]), TimeUnit(raw["unit"]))


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
        }
    )


def data_item_from_dict(raw: Mapping[str, Any]) -> DataItemSpec:
    """The inverse of data_item_to_dict."""
    return DataItemSpec(
        code=raw["code"],
        label=raw["label"],
        type=ItemType(raw["type"]),
        options=tuple(EnumOption(o["value"], o["label"]) for o in raw.get("options", ())),
        unit=raw.get("unit"),
        min=raw.get("min"),
        max=raw.get("max"),
        max_length=raw.get("max_length"),
        pattern=raw.get("pattern"),
        indexed=bool(raw.get("indexed", False)),
        description=raw.get("description"),
    )


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
    return StageSpec(
        code=raw["code"],
        name=raw["name"],
        time_limit=time_limit_from_dict(raw.get("time_limit")),
        description=raw.get("description"),
    )


def post_to_dict(post: PostSpec) -> JsonDict:
    """A post as a dict."""
    return _compact({"code": post.code, "name": post.name, "description": post.description})


def post_from_dict(raw: Mapping[str, Any]) -> PostSpec:
    """The inverse of post_to_dict."""
    return PostSpec(code=raw["code"], name=raw["name"], description=raw.get("description"))


def org_unit_to_dict(unit: OrgUnitSpec) -> JsonDict:
    """An org unit as a dict."""
    return _compact({"code": unit.code, "name": unit.name, "parent": unit.parent})


def org_unit_from_dict(raw: Mapping[str, Any]) -> OrgUnitSpec:
    """The inverse of org_unit_to_dict."""
    return OrgUnitSpec(code=raw["code"], name=raw["name"], parent=raw.get("parent"))


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
        }
    )


def business_type_from_dict(raw: Mapping[str, Any]) -> BusinessTypeSpec:
    """The inverse of business_type_to_dict."""
    return BusinessTypeSpec(
        code=raw["code"],
        name=raw["name"],
        group=BusinessGroup(raw.get("group", BusinessGroup.OTHER.value)),
        priority=int(raw.get("priority") or 0),
        description=raw.get("description"),
        time_limit=time_limit_from_dict(raw.get("time_limit")),
        items=tuple(
            ItemUsage(
                item=u["item"],
                required_at=tuple(u.get("required_at", ())),
                editable_at=tuple(u.get("editable_at", ())),
                visible_to=tuple(u.get("visible_to", ())),
            )
            for u in raw.get("items", ())
        ),
        stages=tuple(
            StageUsage(
                stage=s["stage"],
                time_limit=time_limit_from_dict(s.get("time_limit")),
                outcomes=tuple(s.get("outcomes") or (DEFAULT_OUTCOME,)),
                requires_payment=bool(s.get("requires_payment", False)),
                waits_for_customer=bool(s.get("waits_for_customer", False)),
                join=bool(s.get("join", False)),
            )
            for s in raw.get("stages", ())
        ),
        transitions=tuple(
            TransitionSpec(
                from_stage=t["from"],
                to=tuple(t["to"]),
                outcome=t.get("outcome") or DEFAULT_OUTCOME,
                condition=t.get("condition"),
            )
            for t in raw.get("transitions", ())
        ),
        start=raw.get("start"),
        archive=tuple(ArchiveField(a["field"], a["item"]) for a in raw.get("archive", ())),
    )


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
        }
    )


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def fee_rule_from_dict(raw: Mapping[str, Any]) -> FeeRuleSpec:
    """The inverse of fee_rule_to_dict (YAML may give dates as dates)."""
    return FeeRuleSpec(
        code=raw["code"],
        name=raw["name"],
        stage=raw["stage"],
        amount=str(raw["amount"]),
        business_types=tuple(raw.get("business_types") or ()),
        condition=raw.get("condition"),
        effective_from=_date(raw.get("effective_from")),
        effective_to=_date(raw.get("effective_to")),
        status=FeeRuleStatus(raw.get("status", FeeRuleStatus.ACTIVE.value)),
        description=raw.get("description"),
    )


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
    return ResponsibilitySpec(
        stage=raw["stage"],
        post=raw["post"],
        business_type=raw.get("business_type"),
        org_unit=raw.get("org_unit"),
    )


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
    items = (data_item_from_dict(i) for i in raw.get("items", ()))
    stages = (stage_from_dict(s) for s in raw.get("stages", ()))
    return BusinessTypeVersion(
        spec=business_type_from_dict(raw["spec"]),
        version=int(raw["version"]),
        items={i.code: i for i in items},
        stages={s.code: s for s in stages},
    )
