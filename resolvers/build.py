"""Assemble the whole schema: static root fields, then the fields generated per business type."""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import create_type
from strawberry.types.field import StrawberryField

from database import availability
from metamodel import naming
from metamodel.snapshot import MetamodelSnapshot
from resolvers import (
    auth,
    case_commands,
    case_fields,
    case_statistics,
    deadlines,
    engine_admin,
    execution,
    fees,
    input_bounds,
    metadata,
    progress,
    publishing,
    reorganize,
    statistics,
    tasks,
    users,
)
from resolvers.policy import STATIC_RULES, Access, Authorize
from schema import input_checks, scalars
from schema import strawberry_compat as compat
from schema.connections import CaseConnection, CaseEdge
from schema.generated import TypeFactory
from schema.limits import MAX_TOKENS, QueryBounds
from service import definitions as service_definitions

log = logging.getLogger(__name__)


MASKED_MESSAGE = "Unexpected error; it has been logged."
UNAVAILABLE_MESSAGE = "The database is unavailable; retry later."
UNAVAILABLE = "UNAVAILABLE"
VALIDATION_CACHE_SIZE = 256
LITERAL_STRINGS = input_checks.literal_rule(input_bounds.BOUNDS)
"""Created once: the validation cache keys on the rule classes."""


def _should_mask(error: GraphQLError) -> bool:
    """Hide unexpected exceptions; keep GraphQL's own errors and those we raise on purpose."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class MaskUnexpected(MaskErrors):
    """Masks unexpected errors; one caused by the database being away says so (a retry helps)."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        """The masked error, or UNAVAILABLE when the database could not be reached."""
        original = error.original_error
        if original is not None and availability.is_unavailable(original):
            return GraphQLError(
                UNAVAILABLE_MESSAGE,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": UNAVAILABLE},
            )
        return super().anonymise_error(error)


def _fields(fields: Iterable[Any]) -> list[StrawberryField]:
    """Fresh copies: a field object belongs to the one type class it was placed on."""
    return [copy.copy(f) for f in fields]


def build_schema(snapshot: MetamodelSnapshot, factory: TypeFactory) -> strawberry.Schema:
    """The schema for one metadata revision; unchanged business types reuse cached classes."""
    generated = {t.code: factory.types_for(t, snapshot.items) for t in snapshot.types}
    dictionary = factory.dictionary_types(snapshot.items)
    reused = factory.assembled(generated, dictionary, snapshot.items)
    if reused is not None:  # e.g. a publish assembled it to compare with the live schema
        return reused
    rules = dict(STATIC_RULES)
    queries = _fields(
        [
            *auth.QUERIES,
            *metadata.QUERIES,
            *tasks.QUERIES,
            *engine_admin.QUERIES,
            *fees.QUERIES,
            *progress.QUERIES,
            *users.QUERIES,
            *statistics.QUERIES,
            *deadlines.QUERIES,
        ]
    )
    mutations = _fields(
        [
            *auth.MUTATIONS,
            *metadata.MUTATIONS,
            *tasks.MUTATIONS,
            *case_commands.MUTATIONS,
            *engine_admin.MUTATIONS,
            *fees.MUTATIONS,
            *users.MUTATIONS,
            *reorganize.MUTATIONS,
        ]
    )
    queries.extend(
        case_fields.generic_fields(dictionary, snapshot.items, generated, CaseConnection, CaseEdge)
    )
    queries.append(case_statistics.statistics_field(dictionary, snapshot.items, generated))
    for code, types in generated.items():
        more_queries, more_mutations = factory.root_fields(types, case_fields.type_fields)
        queries.extend(_fields(more_queries))
        mutations.extend(_fields(more_mutations))
        for name in naming.field_names(code).values():
            kind = "query" if name.endswith("Cases") else "mutation"
            rules[(kind, name)] = Access.SIGNED_IN
    missing = [
        f.graphql_name or naming.camel(f.python_name)
        for kind, listed in (("query", queries), ("mutation", mutations))
        for f in listed
        if (kind, f.graphql_name or naming.camel(f.python_name)) not in rules
    ]
    if missing:
        raise RuntimeError(f"root fields without an access rule: {', '.join(missing)}")
    query = create_type(
        "Query", queries, description="Reads: metadata, cases, tasks, fees, customers, statistics."
    )
    mutation = create_type(
        "Mutation",
        mutations,
        description="Changes; each is one transaction, refused whole with errors.",
    )
    schema = factory.assemble(
        generated,
        dictionary,
        snapshot.items,
        query=query,
        mutation=mutation,
        types=[t.case for t in generated.values()],
        config=StrawberryConfig(auto_camel_case=True),
        scalar_overrides=scalars.OVERRIDES,
        execution_context_class=execution.Execution,
        extensions=[
            lambda: Authorize(rules),
            lambda: input_checks.InputChecks(input_bounds.BOUNDS, LITERAL_STRINGS),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: AddValidationRules([QueryBounds]),
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=VALIDATION_CACHE_SIZE),
            lambda: MaskUnexpected(should_mask_error=_should_mask, error_message=MASKED_MESSAGE),
        ],
    )
    schema.generated_types = generated  # type: ignore[attr-defined]
    return schema


@functools.cache
def static_names() -> frozenset[str]:
    """GraphQL type and root field names of the schema with no business types: reserved."""
    return publishing.root_names(
        compat.graphql_schema(build_schema(publishing.EMPTY, TypeFactory()))
    )


def standalone_reviewer() -> service_definitions.Reviewer:
    """A reviewer with a type cache of its own, for applies outside a server (CLI, tests)."""
    factory = TypeFactory()
    return publishing.reviewer(lambda snapshot: build_schema(snapshot, factory))
