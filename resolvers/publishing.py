"""Validating and publishing business types, with a review of what the publish changes for clients.

A publish builds the schema it would serve and compares it, using graphql-core's breaking and
dangerous change finders, with the schema of the published metadata as stored, read in the
publish's own transaction, so an administrator sees what a change breaks before any client
does. Never with the schema the request started on: that one may lag behind the database (a
data item upserted a moment ago, a version another process published), and a stale baseline
reports changes nobody is making.

The rules (validation, freezing, fee rules) and the transaction are service/definitions's; this
module turns GraphQL in and out and builds the schemas a review compares.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

import strawberry
from graphql import GraphQLSchema, find_breaking_changes, find_dangerous_changes

from metamodel import schema_review
from metamodel.snapshot import MetamodelSnapshot
from resolvers.context import Context
from schema import common, publish_types
from schema import strawberry_compat as compat
from schema.common import ErrorCode, user_error
from service import definitions

log = logging.getLogger(__name__)

EMPTY = MetamodelSnapshot(revision=0, types=(), items={})
"""The metadata of a schema with no business type: the static part alone."""


def root_names(schema: GraphQLSchema) -> frozenset[str]:
    """The type names of a schema and the names of its root fields."""
    names = set(schema.type_map)
    for root in (schema.query_type, schema.mutation_type):
        if root is not None:
            names.update(root.fields)
    return frozenset(names)


@functools.lru_cache(maxsize=8)
def reserved_names(build: Callable[[MetamodelSnapshot], Any]) -> frozenset[str]:
    """The names the static schema `build` makes holds: no business type may generate them."""
    return root_names(compat.graphql_schema(build(EMPTY)))


def found_changes(old: GraphQLSchema, new: GraphQLSchema) -> list[schema_review.SchemaChange]:
    """Breaking, then dangerous, changes from one schema to another, as graphql-core finds them."""
    return [
        *(
            schema_review.SchemaChange(
                schema_review.ChangeKind.BREAKING, c.type.name, c.description
            )
            for c in find_breaking_changes(old, new)
        ),
        *(
            schema_review.SchemaChange(
                schema_review.ChangeKind.DANGEROUS, c.type.name, c.description
            )
            for c in find_dangerous_changes(old, new)
        ),
    ]


def schema_changes_out(found: Sequence[schema_review.SchemaChange]) -> publish_types.SchemaChanges:
    """Found changes in their GraphQL shape."""
    return publish_types.SchemaChanges(
        breaking=[
            publish_types.SchemaChange(type=c.type, description=c.description)
            for c in found
            if c.kind is schema_review.ChangeKind.BREAKING
        ],
        dangerous=[
            publish_types.SchemaChange(type=c.type, description=c.description)
            for c in found
            if c.kind is schema_review.ChangeKind.DANGEROUS
        ],
    )


def schema_changes(old: GraphQLSchema, new: GraphQLSchema) -> publish_types.SchemaChanges:
    """Breaking and dangerous changes from one schema to another."""
    return schema_changes_out(found_changes(old, new))


def reviewer(
    build: Callable[[MetamodelSnapshot], Any],
) -> Callable[[MetamodelSnapshot, MetamodelSnapshot], list[schema_review.SchemaChange]]:
    """What serving one snapshot instead of another changes for clients, with `build`'s schemas."""

    def review(old: MetamodelSnapshot, new: MetamodelSnapshot) -> list[schema_review.SchemaChange]:
        return found_changes(compat.graphql_schema(build(old)), compat.graphql_schema(build(new)))

    return review


def changes_between(
    build: Callable[[MetamodelSnapshot], Any], old: MetamodelSnapshot, new: MetamodelSnapshot
) -> publish_types.SchemaChanges:
    """What serving `new` instead of `old` changes for API clients (builds both; cached classes)."""
    return schema_changes_out(reviewer(build)(old, new))


async def publish(
    info: strawberry.Info[Context, Any], code: str, *, dry_run: bool, allow_breaking: bool
) -> publish_types.PublishBusinessTypePayload:
    """The publish use case in its GraphQL shape; nothing is written on a refusal or a dry run."""
    ctx = info.context
    done = await definitions.publish(
        ctx.db,
        code,
        by=ctx.principal.username if ctx.principal else "system",
        now=ctx.now(),
        review=reviewer(ctx.build_schema),
        reserved_names=reserved_names(ctx.build_schema),
        dry_run=dry_run,
        allow_breaking=allow_breaking,
    )
    if not done.found:
        return publish_types.PublishBusinessTypePayload(
            errors=[user_error(ErrorCode.NOT_FOUND, f"no business type '{code}'", ("code",))]
        )
    if done.problems:
        return publish_types.PublishBusinessTypePayload(
            problems=common.problems(list(done.problems)),
            errors=[
                user_error(
                    ErrorCode.VALIDATION,
                    f"the draft has {len(done.problems)} problem(s); see problems",
                    ("code",),
                )
            ],
        )
    changes = schema_changes_out(done.changes)
    if done.version is None:
        return publish_types.PublishBusinessTypePayload(
            schema_changes=changes,
            errors=[
                user_error(
                    ErrorCode.BREAKING_CHANGE,
                    f"publishing breaks {len(done.breaking)} thing(s) for API clients; "
                    "review schemaChanges and publish with allowBreaking: true",
                    ("allowBreaking",),
                )
            ],
        )
    version = done.version
    if dry_run:
        return publish_types.PublishBusinessTypePayload(
            version=version.version, schema_changes=changes
        )
    ctx.versions.put(version)
    log.info("published %s version %d", code, version.version)
    if ctx.metadata_changed is not None:
        await ctx.metadata_changed()
    return publish_types.PublishBusinessTypePayload(version=version.version, schema_changes=changes)
