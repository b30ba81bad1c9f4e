"""The part of the metamodel the GraphQL schema is generated from, frozen at one revision."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from metamodel.specs import BusinessGroup, BusinessTypeVersion, DataItemSpec


class BusinessTypeStatus(StrEnum):
    """Where a business type is in its life: never published, live, or closed to new cases."""

    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    RETIRED = "RETIRED"


@dataclass(frozen=True, slots=True)
class PublishedType:
    """A business type as served: its latest version and the items only older versions use.

    Items that a newer version dropped stay readable (deprecated) because cases opened under
    the older versions still carry them.
    """

    code: str
    name: str
    group: BusinessGroup
    status: BusinessTypeStatus
    latest: BusinessTypeVersion
    retired_items: Mapping[str, DataItemSpec] = field(default_factory=dict)

    @property
    def cache_key(self) -> tuple[str, int, str, tuple[str, ...]]:
        """What the generated classes of this type depend on; equal keys build equal classes."""
        return (
            self.code,
            self.latest.version,
            self.status.value,
            tuple(sorted(self.retired_items)),
        )


@dataclass(frozen=True, slots=True)
class MetamodelSnapshot:
    """Everything the schema depends on at one metadata revision."""

    revision: int
    types: tuple[PublishedType, ...]
    items: Mapping[str, DataItemSpec]


def with_version(snapshot: MetamodelSnapshot, version: BusinessTypeVersion) -> MetamodelSnapshot:
    """The snapshot as it would be once `version` is served."""
    types = [t for t in snapshot.types if t.code != version.code]
    previous = next((t for t in snapshot.types if t.code == version.code), None)
    retired = dict(previous.retired_items) if previous else {}
    if previous:
        retired.update({c: i for c, i in previous.latest.items.items() if c not in version.items})
    retired = {c: i for c, i in retired.items() if c not in version.items}
    types.append(
        PublishedType(
            code=version.code,
            name=version.spec.name,
            group=version.spec.group,
            status=BusinessTypeStatus.PUBLISHED,
            latest=version,
            retired_items=retired,
        )
    )
    types.sort(key=lambda t: t.code)
    return dataclasses.replace(snapshot, types=tuple(types))
