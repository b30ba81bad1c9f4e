"""The schema of the standard catalogue, built without a database (for the SDL tests)."""

from __future__ import annotations

from graphql import print_schema

from metamodel.snapshot import BusinessTypeStatus, MetamodelSnapshot, PublishedType
from metamodel.specs import BusinessTypeVersion
from resolvers.build import build_schema
from schema import strawberry_compat as compat
from schema.generated import TypeFactory
from service import bundle_files


def catalogue_snapshot() -> MetamodelSnapshot:
    """Every business type of the standard catalogue, published as version 1."""
    bundle = bundle_files.load_catalogue()
    items = {i.code: i for i in bundle.items}
    stages = {s.code: s for s in bundle.stages}
    types = tuple(
        PublishedType(
            code=spec.code,
            name=spec.name,
            group=spec.group,
            status=BusinessTypeStatus.PUBLISHED,
            latest=BusinessTypeVersion(
                spec=spec,
                version=1,
                items={u.item: items[u.item] for u in spec.items},
                stages={u.stage: stages[u.stage] for u in spec.stages},
            ),
        )
        for spec in bundle.business_types
    )
    return MetamodelSnapshot(revision=1, types=types, items=items)


def catalogue_served_sdl() -> str:
    """The SDL clients of a server running the standard catalogue see (strawberry's printer)."""
    return build_schema(catalogue_snapshot(), TypeFactory()).as_str()


def catalogue_printed_sdl(factory: TypeFactory | None = None) -> str:
    """The same schema printed by graphql-core (`print_schema`), ending with a newline."""
    schema = build_schema(catalogue_snapshot(), factory or TypeFactory())
    return print_schema(compat.graphql_schema(schema)) + "\n"
