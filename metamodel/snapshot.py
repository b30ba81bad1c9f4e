"""The part of the metamodel the GraphQL schema is generated from, frozen at one revision."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
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
    audiences: Mapping[str, tuple[frozenset[str], ...]] = field(default_factory=dict)
    """Item -> the posts each published version restricts it to (versions that restrict it).

    Visibility belongs to the item across versions: cases stay pinned to older versions, so an
    item restricted in any of them stays restricted, whatever the latest version says.
    """

    def hidden_from(self, posts: frozenset[str]) -> frozenset[str]:
        """Items some version restricts to posts none of which are in `posts`."""
        latest = (u for u in self.latest.spec.items if u.visible_to)
        return frozenset(
            code
            for code, restricted in self.audiences.items()
            if any(not posts & audience for audience in restricted)
        ) | frozenset(u.item for u in latest if not posts.intersection(u.visible_to))

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


def audiences_of(
    versions: Iterable[BusinessTypeVersion],
) -> dict[str, tuple[frozenset[str], ...]]:
    """Item -> the distinct `visibleTo` of every version that restricts it."""
    found: dict[str, list[frozenset[str]]] = {}
    for version in versions:
        for usage in version.spec.items:
            audience = frozenset(usage.visible_to)
            if audience and audience not in found.setdefault(usage.item, []):
                found[usage.item].append(audience)
    return {code: tuple(a) for code, a in found.items() if a}


def with_version(snapshot: MetamodelSnapshot, version: BusinessTypeVersion) -> MetamodelSnapshot:
    """The snapshot as it would be once `version` is served."""
    types = [t for t in snapshot.types if t.code != version.code]
    previous = next((t for t in snapshot.types if t.code == version.code), None)
    retired = dict(previous.retired_items) if previous else {}
    if previous:
        retired.update({c: i for c, i in previous.latest.items.items() if c not in version.items})
    retired = {c: i for c, i in retired.items() if c not in version.items}
    audiences = {c: list(a) for c, a in (previous.audiences if previous else {}).items()}
    for code, restricted in audiences_of([version]).items():
        known = audiences.setdefault(code, [])
        known.extend(a for a in restricted if a not in known)
    types.append(
        PublishedType(
            code=version.code,
            name=version.spec.name,
            group=version.spec.group,
            status=BusinessTypeStatus.PUBLISHED,
            latest=version,
            retired_items=retired,
            audiences={c: tuple(a) for c, a in audiences.items()},
        )
    )
    types.sort(key=lambda t: t.code)
    return dataclasses.replace(snapshot, types=tuple(types))
