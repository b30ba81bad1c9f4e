"""What a business type is validated against, and the version a publish freezes.

One rule for every way a type is published (the API's publish, a metamodel apply) and for
checking a draft: the catalogue is the live dictionary, stage library and posts, the names every
other served type generates, the static schema's names, and the stages someone is responsible
for; the version freezes the dictionary entries and stages the spec uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from metamodel import responsibilities, validation
from metamodel.snapshot import MetamodelSnapshot
from metamodel.specs import (
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    PostSpec,
    StageSpec,
)


def freeze(
    spec: BusinessTypeSpec,
    items: Mapping[str, DataItemSpec],
    stages: Mapping[str, StageSpec],
    number: int,
) -> BusinessTypeVersion:
    """The version to publish: the spec with the dictionary entries and stages it uses."""
    return BusinessTypeVersion(
        spec=spec,
        version=number,
        items={u.item: items[u.item] for u in spec.items},
        stages={s.stage: stages[s.stage] for s in spec.stages},
    )


def served_names(
    snapshot: MetamodelSnapshot, items: Mapping[str, DataItemSpec]
) -> dict[str, frozenset[str]]:
    """The GraphQL names each served type generates, its items read from the live dictionary."""
    return {
        t.code: validation.generated_names(t.latest.spec, {**t.latest.items, **items})
        for t in snapshot.types
    }


def catalog(
    code: str,
    *,
    items: Mapping[str, DataItemSpec],
    stages: Mapping[str, StageSpec],
    posts: Mapping[str, PostSpec],
    reserved_names: frozenset[str],
    names: Mapping[str, frozenset[str]],
    routes: Iterable[responsibilities.Responsibility],
    now: dt.datetime,
) -> validation.Catalog:
    """What business type `code` is validated against; `names` by type, its own left out."""
    return validation.Catalog(
        items=items,
        stages=stages,
        posts=posts,
        reserved_names=reserved_names,
        other_types={c: n for c, n in names.items() if c != code},
        responsible_stages=responsibilities.covered_stages(routes, business_type=code, now=now),
    )
