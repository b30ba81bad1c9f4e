"""Root fields per business type (list, create, update) and the cross-type `case` / `cases`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import strawberry
from strawberry.types.field import StrawberryField

from database import case_reads
from metamodel import filters as f
from metamodel import naming
from metamodel.specs import DataItemSpec
from resolvers import case_filters, compiled_cases, compiled_pages, policy
from resolvers.case_commands import prime, runtime
from resolvers.case_reads import case_object, page
from resolvers.context import Context
from resolvers.convert import given, row_id
from schema import strawberry_compat as compat
from schema.case_types import Case
from schema.class_maker import attr_name
from schema.common import AFTER, BEFORE, FIRST, LAST, user_errors
from schema.type_classes import DictionaryTypes, GeneratedTypes
from service import case_intake


def _values(data_input: Any, generated: GeneratedTypes) -> dict[str, object]:
    """A DataInput as {item code: value} with only the given fields (null kept: it clears)."""
    if data_input is None or data_input is strawberry.UNSET:
        return {}
    codes = {a: c for c, a in generated.attrs.items()}
    out: dict[str, object] = {}
    entries = generated.entries
    for attr, value in vars(data_input).items():
        if value is strawberry.UNSET or attr not in codes:
            continue
        code = codes[attr]
        if code in entries:  # a LIST: entry inputs as dicts by field code, for the codec
            out[code] = entries[code].from_input(value)
            continue
        out[code] = getattr(value, "value", value) if value is not None else None
    return out


ORDER_BY = (
    "Ordering keys, most significant first, each setting one field; omitted: newest first. "
    "Equal keys are ordered by id, in the last key's direction; an empty value sorts as if "
    "larger than every value (see SortDirection)."
)
"""The description of every case list's `orderBy` argument."""


def root_field(
    name: str, fn: Any, annotations: dict[str, Any], description: str
) -> StrawberryField:
    """A root field from a generated function (annotations set here: the classes are dynamic)."""
    fn.__name__ = name
    fn.__annotations__ = annotations
    field: StrawberryField = strawberry.field(
        resolver=fn, name=naming.camel(name), description=description
    )
    return field


def type_fields(generated: GeneratedTypes) -> tuple[list[StrawberryField], list[StrawberryField]]:
    """The query and mutation fields of one business type."""
    published = generated.published
    code = published.code
    version = published.latest
    items = {**published.retired_items, **version.items}

    async def list_cases(
        info: strawberry.Info[Context, Any],
        where: Any = None,
        order_by: Any = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Any:
        ctx = info.context
        types, _, _ = await ctx.codes()
        # By id, known here: a literal id lets the (business type, created) index serve the page.
        type_ids = [i for i, c in types.items() if c == code]
        condition: f.Filter = f.Compare(f.SystemField.BUSINESS_TYPE, f.Op.IN, type_ids)
        if where is not None:
            wanted = case_filters.to_filter(where, items, generated.attrs, now=ctx.now())
            condition = f.AllOf((condition, wanted))
        orders = case_filters.to_orders(order_by, items, generated.attrs)
        served = {i: generated for i, c in types.items() if c == code}
        return await page(
            ctx,
            list_name=names["list"],
            where=condition,
            orders=orders,
            first=first,
            after=after,
            last=last,
            before=before,
            generated_by_type=served,
            connection=generated.connection,
            edge=generated.edge,
            plan=compiled_list(info, served),
        )

    async def create_case(info: strawberry.Info[Context, Any], input: Any) -> Any:
        return await _create(info.context, input, generated)

    async def update_case(info: strawberry.Info[Context, Any], input: Any) -> Any:
        return await _update(info.context, input, generated)

    names = naming.field_names(code)
    query = [
        root_field(
            f"{code}_cases",
            list_cases,
            {
                "info": strawberry.Info[Context, Any],
                "where": Annotated[
                    generated.where | None,
                    strawberry.argument(description="Which cases; omitted: every case in scope."),
                ],
                "order_by": Annotated[
                    list[generated.order_by] | None,  # type: ignore[name-defined]
                    strawberry.argument(description=ORDER_BY),
                ],
                "first": Annotated[int | None, strawberry.argument(description=FIRST)],
                "after": Annotated[str | None, strawberry.argument(description=AFTER)],
                "last": Annotated[int | None, strawberry.argument(description=LAST)],
                "before": Annotated[str | None, strawberry.argument(description=BEFORE)],
                "return": generated.connection,
            },
            f"{published.name} cases; first (or last) is at most 200 (default: first 50).",
        )
    ]
    query[0].graphql_name = names["list"]
    mutation = []
    if published.status.value == "PUBLISHED":
        create = root_field(
            f"create_{code}_case",
            create_case,
            {
                "info": strawberry.Info[Context, Any],
                "input": Annotated[
                    generated.create_input,
                    strawberry.argument(description="The new case's data, org unit and options."),
                ],
                "return": generated.create_payload,
            },
            f"Open a {published.name} case, as a draft or submitted.",
        )
        create.graphql_name = names["create"]
        mutation.append(create)
    update = root_field(
        f"update_{code}_case_data",
        update_case,
        {
            "info": strawberry.Info[Context, Any],
            "input": Annotated[
                generated.update_input,
                strawberry.argument(description="The case, the version read and the items."),
            ],
            "return": generated.update_payload,
        },
        f"Write data items of a {published.name} case.",
    )
    update.graphql_name = names["update"]
    mutation.append(update)
    return query, mutation


async def _create(ctx: Context, value: Any, generated: GeneratedTypes) -> Any:
    """Open a case through the service; the payload carries the new case and its access code."""
    principal = ctx.principal
    assert principal is not None  # the policy lets only signed-in callers here
    priority = given(value.priority)
    new = case_intake.NewCase(
        version=generated.published.latest,
        data=_values(value.data, generated),
        submit=bool(value.submit),
        customer_number=given(value.customer_number),
        org_unit=given(value.org_unit),
        priority=int(priority) if priority is not None else None,
        idempotency_key=given(value.idempotency_key),
    )
    opened = await case_intake.open_case(runtime(ctx), principal, new, now=ctx.now())
    payload = generated.create_payload
    if opened.problems:
        return payload(errors=user_errors(list(opened.problems)))
    ctx.use_reference(opened.reference)
    if opened.saved is None:
        return payload(case=None)
    case = await prime(ctx, opened.saved, generated)
    warnings = user_errors(list(opened.warnings))
    return (
        payload(case=case, access_code=opened.access_code, warnings=warnings)
        if opened.access_code
        else payload(case=case, warnings=warnings)
    )


async def _update(ctx: Context, value: Any, generated: GeneratedTypes) -> Any:
    """Write data items through the service, under optimistic concurrency."""
    principal = ctx.principal
    assert principal is not None
    outcome = await case_intake.update_data(
        runtime(ctx),
        principal,
        row_id(value.id),
        business_type=generated.published.code,
        expected_version=value.expected_version,
        data=_values(value.data, generated),
        now=ctx.now(),
    )
    payload = generated.update_payload
    if outcome.problems or outcome.saved is None:
        return payload(errors=user_errors(list(outcome.problems)))
    ctx.use_reference(outcome.reference)
    return payload(
        case=await prime(ctx, outcome.saved, generated),
        warnings=user_errors(list(outcome.warnings)),
    )


def hidden_in(ctx: Context, served: Mapping[int, GeneratedTypes]) -> dict[int, frozenset[str]]:
    """Business type id -> the items the caller may not read, for the served types."""
    return {i: policy.hidden_items(ctx.principal, g.published) for i, g in served.items()}


def compiled_list(
    info: strawberry.Info[Context, Any], served: Mapping[int, GeneratedTypes]
) -> compiled_cases.ListPlan | None:
    """The compiled plan of a case list's selection, None where the resolver path answers."""
    ctx = info.context
    if not ctx.compiled_queries:
        return None
    return compiled_cases.list_plan(
        compat.raw_info(info), ctx.db.dialect, served, hidden_in(ctx, served)
    )


async def served_types(
    ctx: Context, all_types: Mapping[str, GeneratedTypes]
) -> dict[int, GeneratedTypes]:
    """Business type id -> generated types, for the types this schema serves."""
    types, _, _ = await ctx.codes()
    return {i: all_types[c] for i, c in types.items() if c in all_types}


async def cross_type_filter(
    ctx: Context,
    where: Any,
    items: Mapping[str, DataItemSpec],
    attrs: Mapping[str, str],
    served: Mapping[int, GeneratedTypes],
) -> f.Filter:
    """A `CaseWhere` as the filter `cases` reads: within the served business types.

    Everything counted over a `CaseWhere` (caseStatistics) takes it from here, so its counts
    are of the very cases the list pages through.
    """
    only_served = f.Compare(f.SystemField.BUSINESS_TYPE, f.Op.IN, sorted(served))  # by id
    if where is None:
        return only_served
    return f.AllOf((only_served, case_filters.to_filter(where, items, attrs, now=ctx.now())))


def generic_fields(
    dictionary: DictionaryTypes,
    items: Mapping[str, DataItemSpec],
    all_types: Mapping[str, GeneratedTypes],
    connection: type,
    edge: type,
) -> list[StrawberryField]:
    """`case(id, number)` and `cases(where, orderBy, first, after)` across business types."""
    attrs = {code: attr_name(code) for code in items}

    async def one_case(
        info: strawberry.Info[Context, Any],
        id: strawberry.ID | None = None,
        number: str | None = None,
    ) -> Case | None:
        ctx = info.context
        if (id is None) == (number is None):
            raise case_filters.invalid("give exactly one of id and number", ["id"])
        principal = ctx.principal
        assert principal is not None
        scope = policy.case_scope(principal, await ctx.org_units())
        served = await served_types(ctx, all_types)
        plan = (
            compiled_cases.case_plan(
                compat.raw_info(info), ctx.db.dialect, served, hidden_in(ctx, served)
            )
            if ctx.compiled_queries
            else None
        )
        if plan is not None:  # the database writes the case's JSON
            return await compiled_pages.run_case(  # type: ignore[return-value]
                ctx,
                plan,
                scope,
                case_id=None if id is None else row_id(id),
                number=None if number is None else str(number),
            )
        async with ctx.db.read() as session:  # a case out of scope reads as no case at all
            row = await case_reads.find_visible(
                session,
                scope,
                case_id=None if id is None else row_id(id),
                number=None if number is None else str(number),
            )
        generated = served.get(row.business_type_id) if row else None
        return None if row is None or generated is None else await case_object(ctx, row, generated)

    async def list_all(
        info: strawberry.Info[Context, Any],
        where: Any = None,
        order_by: Any = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Any:
        ctx = info.context
        mapping = await served_types(ctx, all_types)
        condition = await cross_type_filter(ctx, where, items, attrs, mapping)
        return await page(
            ctx,
            list_name="cases",
            where=condition,
            orders=case_filters.to_orders(order_by, items, attrs),
            first=first,
            after=after,
            last=last,
            before=before,
            generated_by_type=mapping,
            connection=connection,
            edge=edge,
            plan=compiled_list(info, mapping),
        )

    one = root_field(
        "case",
        one_case,
        {
            "info": strawberry.Info[Context, Any],
            "id": Annotated[
                strawberry.ID | None,
                strawberry.argument(description="The case's id; give it or number, not both."),
            ],
            "number": Annotated[
                str | None,
                strawberry.argument(description="The case number (申请编号); or give id."),
            ],
            "return": Case | None,
        },
        "One case by id or by number, whatever its business type.",
    )
    many = root_field(
        "cases",
        list_all,
        {
            "info": strawberry.Info[Context, Any],
            "where": Annotated[
                dictionary.where | None,
                strawberry.argument(description="Which cases; omitted: every case in scope."),
            ],
            "order_by": Annotated[
                list[dictionary.order_by] | None,  # type: ignore[name-defined]
                strawberry.argument(description=ORDER_BY),
            ],
            "first": Annotated[int | None, strawberry.argument(description=FIRST)],
            "after": Annotated[str | None, strawberry.argument(description=AFTER)],
            "last": Annotated[int | None, strawberry.argument(description=LAST)],
            "before": Annotated[str | None, strawberry.argument(description=BEFORE)],
            "return": connection,
        },
        "Cases of every business type; first (or last) is at most 200 (default: first 50).",
    )
    return [one, many]
