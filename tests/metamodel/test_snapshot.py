"""Which items a business type hides from a reader: every version's `visibleTo` counts."""

from __future__ import annotations

from metamodel import snapshot
from metamodel.snapshot import BusinessTypeStatus, MetamodelSnapshot, PublishedType
from metamodel.specs import (
    BusinessGroup,
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    ItemType,
    ItemUsage,
)

ITEMS = {c: DataItemSpec(c, c, ItemType.STRING) for c in ("name", "id_number", "notes")}


def version(number: int, *usages: ItemUsage) -> BusinessTypeVersion:
    spec = BusinessTypeSpec(code="t", name="t", group=BusinessGroup.NEW, items=usages)
    return BusinessTypeVersion(spec=spec, version=number, items=ITEMS)


V1 = version(
    1,
    ItemUsage("name"),
    ItemUsage("id_number", visible_to=("acceptor",)),
    ItemUsage("notes", visible_to=("surveyor",)),
)
V2 = version(2, ItemUsage("name"), ItemUsage("notes"))  # drops id_number, opens notes


def published(*versions: BusinessTypeVersion) -> PublishedType:
    return PublishedType(
        code="t",
        name="t",
        group=BusinessGroup.NEW,
        status=BusinessTypeStatus.PUBLISHED,
        latest=versions[-1],
        audiences=snapshot.audiences_of(versions),
    )


def test_an_item_restricted_in_an_older_version_stays_hidden() -> None:
    both = published(V1, V2)
    assert both.hidden_from(frozenset()) == {"id_number", "notes"}
    assert both.hidden_from(frozenset({"acceptor"})) == {"notes"}
    assert both.hidden_from(frozenset({"acceptor", "surveyor"})) == frozenset()


def test_the_latest_version_restricts_even_without_recorded_audiences() -> None:
    bare = PublishedType(
        code="t", name="t", group=BusinessGroup.NEW, status=BusinessTypeStatus.PUBLISHED, latest=V1
    )
    assert bare.hidden_from(frozenset({"surveyor"})) == {"id_number"}


def test_publishing_a_version_keeps_the_older_audiences() -> None:
    before = MetamodelSnapshot(revision=1, types=(published(V1),), items=ITEMS)
    after = snapshot.with_version(before, V2)
    assert after.types[0].hidden_from(frozenset({"surveyor"})) == {"id_number"}
