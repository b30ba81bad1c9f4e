"""The part of the metamodel the GraphQL schema is generated from, frozen at one revision."""

from __future__ import annotations

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
