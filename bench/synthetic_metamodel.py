"""A synthetic metamodel for the schema benches: a 400-item data dictionary and business types.

Each business type takes 30 dictionary items (a stride, so types differ; every item type
occurs: STRING, TEXT, INTEGER, DECIMAL, MONEY, BOOLEAN, DATE, DATETIME, ENUM, ID_NUMBER, PHONE)
and 4–6 stages. Pure: no database, so the cold-build child loads nothing else.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from metamodel.snapshot import (  # noqa: E402  (the repository root is put on the path first)
    BusinessTypeStatus,
    MetamodelSnapshot,
    PublishedType,
)
from metamodel.specs import (  # noqa: E402
    BusinessGroup,
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    EnumOption,
    ItemType,
    ItemUsage,
    StageSpec,
    StageUsage,
    TimeLimit,
    TimeUnit,
    TransitionSpec,
)

DICTIONARY_SIZE = 400
ITEMS_PER_TYPE = 30
EXTRA_PREFIX = "bench_extra_"


KINDS: tuple[ItemType, ...] = (
    ItemType.STRING,
    ItemType.DECIMAL,
    ItemType.ENUM,
    ItemType.DATE,
    ItemType.INTEGER,
    ItemType.MONEY,
    ItemType.BOOLEAN,
    ItemType.TEXT,
    ItemType.DATETIME,
    ItemType.ID_NUMBER,
    ItemType.PHONE,
)

STAGES: tuple[StageSpec, ...] = (
    StageSpec("accept", "业务受理", TimeLimit(1, TimeUnit.WORKING_DAYS)),
    StageSpec("survey", "现场勘查", TimeLimit(3, TimeUnit.WORKING_DAYS)),
    StageSpec("design", "方案设计", TimeLimit(10, TimeUnit.WORKING_DAYS)),
    StageSpec("review", "设计审核", TimeLimit(5, TimeUnit.WORKING_DAYS)),
    StageSpec("build", "工程施工", TimeLimit(30, TimeUnit.CALENDAR_DAYS)),
    StageSpec("connect", "装表接电", TimeLimit(5, TimeUnit.WORKING_DAYS)),
)


def dictionary_item(index: int) -> DataItemSpec:
    """The dictionary's item number `index`; its type cycles through every item type."""
    kind = KINDS[index % len(KINDS)]
    code = f"{kind.value.lower()}_{index:03d}"
    label = f"项目 {index}"
    if kind is ItemType.ENUM:
        options = tuple(EnumOption(f"OPTION_{k}", f"选项 {k}") for k in range(3 + index % 4))
        return DataItemSpec(code, label, kind, options=options)
    if kind is ItemType.DECIMAL:
        return DataItemSpec(code, label, kind, unit="kVA", min="0", max="100000", indexed=True)
    if kind is ItemType.STRING:
        return DataItemSpec(code, label, kind, max_length=100, description="说明")
    if kind is ItemType.INTEGER:
        return DataItemSpec(code, label, kind, min="0", max="1000")
    return DataItemSpec(code, label, kind)


def extra_item(round_number: int) -> DataItemSpec:
    """An item no synthetic type uses: publish rounds add these to a draft."""
    return DataItemSpec(
        f"{EXTRA_PREFIX}{round_number}", f"新增项目 {round_number}", ItemType.STRING
    )


def dictionary(size: int = DICTIONARY_SIZE) -> dict[str, DataItemSpec]:
    """The whole data dictionary, by code."""
    items = (dictionary_item(i) for i in range(size))
    return {i.code: i for i in items}


def type_code(number: int) -> str:
    """The code of synthetic business type `number`."""
    return f"bench_type_{number:03d}"


def type_spec(
    number: int, items: Sequence[DataItemSpec], extra: Sequence[str] = ()
) -> BusinessTypeSpec:
    """A valid business type: 30 dictionary items (a stride, so types differ), 4–6 stages."""
    chosen = [items[(number * 37 + j * 13) % len(items)] for j in range(ITEMS_PER_TYPE)]
    stages = STAGES[: 4 + number % 3]
    start = stages[0].code
    usages = [
        ItemUsage(item.code, required_at=(start,) if j < 3 else (), editable_at=(start,))
        for j, item in enumerate(chosen)
    ]
    usages.extend(ItemUsage(code, editable_at=(start,)) for code in extra)
    transitions = [
        TransitionSpec(stages[k].code, (stages[k + 1].code,)) for k in range(len(stages) - 1)
    ]
    transitions.append(TransitionSpec("survey", ("accept",), outcome="RETURN"))
    return BusinessTypeSpec(
        code=type_code(number),
        name=f"业务类型 {number}",
        group=tuple(BusinessGroup)[number % len(BusinessGroup)],
        priority=number % 10,
        time_limit=TimeLimit(40, TimeUnit.WORKING_DAYS),
        items=tuple(usages),
        stages=tuple(
            StageUsage(
                s.code, outcomes=("APPROVE", "RETURN") if s.code == "survey" else ("APPROVE",)
            )
            for s in stages
        ),
        transitions=tuple(transitions),
        start=start,
    )


def freeze(
    spec: BusinessTypeSpec, version: int, items: Mapping[str, DataItemSpec]
) -> BusinessTypeVersion:
    """The published version of `spec` (its items and stages frozen alongside)."""
    library = {s.code: s for s in STAGES}
    return BusinessTypeVersion(
        spec=spec,
        version=version,
        items={u.item: items[u.item] for u in spec.items},
        stages={u.stage: library[u.stage] for u in spec.stages},
    )


def snapshot(types: int, *, changed: bool = False) -> MetamodelSnapshot:
    """`types` published business types over the dictionary; `changed`: type 0 at version 2."""
    items = dictionary()
    listed = list(items.values())
    published = []
    for number in range(types):
        extra: tuple[str, ...] = ()
        version = 1
        if changed and number == 0:
            items = {**items, EXTRA_PREFIX + "1": extra_item(1)}
            extra, version = (EXTRA_PREFIX + "1",), 2
        spec = type_spec(number, listed, extra)
        published.append(
            PublishedType(
                code=spec.code,
                name=spec.name,
                group=spec.group,
                status=BusinessTypeStatus.PUBLISHED,
                latest=freeze(spec, version, items),
            )
        )
    return MetamodelSnapshot(revision=2 if changed else 1, types=tuple(published), items=items)
