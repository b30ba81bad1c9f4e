"""Root fields per business type (list, create, update) and the cross-type `case` / `cases`."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any

import strawberry
from strawberry.types.field import StrawberryField

from casework import archive, lifecycle
from casework import cases as casework_cases
from casework.model import Refused
from database import archive_reads, case_reads, case_repo, metadata_repo
from metamodel import datatypes, naming
from metamodel import filters as f
from metamodel.specs import CaseStatus, DataItemSpec, Problem
from resolvers import case_commands, case_filters, policy
from resolvers.case_reads import case_object, page
from resolvers.context import Context
from resolvers.convert import given, row_id
from schema.case_types import Case
from schema.common import AFTER, FIRST, ErrorCode, user_error, user_errors
from schema.generated import DictionaryTypes, GeneratedTypes, attr_name

ACCESS_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""No 0/O or 1/I: the applicant reads the code off a receipt."""


def new_access_code() -> tuple[str, str]:
    """A random 12-character access code (60 bits) and the hash that is stored."""
    code = "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(12))
    return code, hash_access_code(code)


def hash_access_code(code: str) -> str:
    """Access codes are random and long, so a plain SHA-256 cannot be reversed by guessing."""
    return hashlib.sha256(code.encode()).hexdigest()


def _values(data_input: Any, generated: GeneratedTypes) -> dict[str, object]:
    """A DataInput as {item code: value} with only the given fields (null kept: it clears)."""
    if data_input is None or data_input is strawberry.UNSET:
        return {}
    codes = {a: c for c, a in generated.attrs.items()}
    out: dict[str, object] = {}
    for attr, value in vars(data_input).items():
        if value is strawberry.UNSET or attr not in codes:
            continue
        out[codes[attr]] = getattr(value, "value", value) if value is not None else None
    return out


def _coerce(
    items: Mapping[str, DataItemSpec], values: Mapping[str, object]
) -> tuple[dict[str, object], list[Problem]]:
    """Values checked by the item codecs; every problem at once."""
    return datatypes.validate_data(items, values, path=("input", "data"))


ORDER_BY = "Ordering keys, most significant first, each setting one field; omitted: newest first."
"""The description of every case list's `orderBy` argument."""


def _resolver(name: str, fn: Any, annotations: dict[str, Any], description: str) -> StrawberryField:
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
    ) -> Any:
        ctx = info.context
        condition: f.Filter = f.Compare(f.SystemField.BUSINESS_TYPE, f.Op.EQ, code)
        if where is not None:
            condition = f.AllOf((condition, case_filters.to_filter(where, items, generated.attrs)))
        orders = case_filters.to_orders(order_by, items, generated.attrs)
        types, _, _ = await ctx.codes()
        return await page(
            ctx,
            where=condition,
            orders=orders,
            first=first,
            after=after,
            generated_by_type={i: generated for i, c in types.items() if c == code},
            connection=generated.connection,
            edge=generated.edge,
        )

    async def create_case(info: strawberry.Info[Context, Any], input: Any) -> Any:
        return await _create(info.context, input, generated)

    async def update_case(info: strawberry.Info[Context, Any], input: Any) -> Any:
        return await _update(info.context, input, generated)

    names = naming.field_names(code)
    query = [
        _resolver(
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
                "return": generated.connection,
            },
            f"{published.name} cases; first is at most 200 (default 50).",
        )
    ]
    query[0].graphql_name = names["list"]
    mutation = []
    if published.status.value == "PUBLISHED":
        create = _resolver(
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
    update = _resolver(
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
    """Open a case: codec-checked data, org unit, idempotency, number, events; one transaction."""
    principal = ctx.principal
    assert principal is not None  # the policy lets only signed-in callers here
    version = generated.published.latest
    now = ctx.now()
    payload = generated.create_payload
    clean, problems = _coerce(version.items, _values(value.data, generated))
    if problems:
        return payload(errors=user_errors(problems))
    ctx.versions.put(version)
    definition = await ctx.versions.definition(ctx.db, version.code, version.version)
    try:
        state, events = casework_cases.open_case(version, clean)
        if value.submit:
            state, submitted = lifecycle.submit(
                state, definition, now=now, clock=await ctx.calendar()
            )
            events.extend(submitted)
    except Refused as refused:
        return payload(errors=user_errors(refused.problems))
    customer_number = given(value.customer_number)
    if customer_number is None and version.spec.group in archive.EXISTING_CUSTOMER_GROUPS:
        return payload(
            errors=[
                user_error(
                    ErrorCode.REQUIRED,
                    f"a {version.spec.group.value} case names the customer's number (户号)",
                    ("input", "customerNumber"),
                )
            ]
        )
    unit_code = given(value.org_unit) or principal.org_unit
    if unit_code is None:
        return payload(
            errors=[
                user_error(ErrorCode.REQUIRED, "name the case's org unit", ("input", "orgUnit"))
            ]
        )
    key = given(value.idempotency_key)
    scope = f"create:{version.code}:{principal.id}"  # within the 120 characters of its column
    access_code, access_hash = new_access_code()
    try:
        async with ctx.db.transaction() as session:
            earlier = await case_repo.find_idempotent(session, scope, key) if key else None
            if earlier is not None:
                found = await case_reads.get(session, int(earlier["case_id"]))
                return payload(case=await case_object(ctx, found, generated) if found else None)
            reachable = customer_number and await archive_reads.reachable_customer(
                session, customer_number, policy.case_scope(principal)
            )
            if customer_number and not reachable:  # unknown and out of scope answer alike
                return payload(
                    errors=[
                        user_error(
                            ErrorCode.NOT_FOUND,
                            f"no customer '{customer_number}'",
                            ("input", "customerNumber"),
                        )
                    ]
                )
            unit = await metadata_repo.get_org_unit(session, unit_code)
            type_row = await metadata_repo.get_business_type(session, version.code)
            if unit is None or type_row is None:
                return payload(
                    errors=[
                        user_error(
                            ErrorCode.NOT_FOUND, f"no org unit '{unit_code}'", ("input", "orgUnit")
                        )
                    ]
                )
            if not policy.is_admin(principal) and not (
                principal.org_path and unit.path.startswith(principal.org_path)
            ):
                return payload(
                    errors=[
                        user_error(
                            ErrorCode.FORBIDDEN,
                            f"org unit '{unit_code}' is outside your org unit",
                            ("input", "orgUnit"),
                        )
                    ]
                )
            new = case_repo.NewCase(
                business_type_id=type_row.id,
                org_unit_id=unit.id,
                priority=int(given(value.priority) or generated.published.latest.spec.priority),
                customer_number=customer_number,
                created_by=principal.username,
                access_code_hash=access_hash,
            )
            row = await case_repo.add(session, state, version, new, events, now=now)
            drafted = replace(state, status=CaseStatus.DRAFT, stages=(), timer=None)
            await case_commands.settle(
                ctx, session, row, drafted, state, definition, actor=principal.username
            )
            if key is not None:
                await case_repo.remember_idempotent(
                    session, scope, key, {"case_id": row.id}, now=now
                )
    except Refused as refused:  # a stage entered on submission could not be settled
        return payload(errors=user_errors(refused.problems))
    except case_repo.DuplicateRequest:
        # Two requests with one key raced and the other committed first: answer with its case.
        async with ctx.db.read() as session:
            earlier = await case_repo.find_idempotent(session, scope, str(key))
            found = await case_reads.get(session, int(earlier["case_id"])) if earlier else None
        return payload(case=await case_object(ctx, found, generated) if found else None)
    return payload(
        case=await case_object(ctx, case_reads.case_record(row), generated), access_code=access_code
    )


async def _update(ctx: Context, value: Any, generated: GeneratedTypes) -> Any:
    """Write data items under optimistic concurrency; one transaction with the row locked."""
    principal = ctx.principal
    assert principal is not None
    payload = generated.update_payload
    now = ctx.now()
    case_id = row_id(value.id)
    async with ctx.db.transaction() as session:
        row = await case_repo.get(session, case_id, lock=True)
        type_row = await metadata_repo.get_business_type(session, generated.published.code)
        if row is not None and not await case_reads.visible(
            session, row.id, policy.case_scope(principal)
        ):
            row = None
        if row is None or type_row is None or row.business_type_id != type_row.id:
            return payload(
                errors=[
                    user_error(
                        ErrorCode.NOT_FOUND,
                        f"no {generated.published.code} case '{value.id}'",
                        ("input", "id"),
                    )
                ]
            )
        if row.version != value.expected_version:
            return payload(
                errors=[
                    user_error(
                        ErrorCode.CONFLICT,
                        f"the case changed since you read it (now version {row.version})",
                        ("input", "expectedVersion"),
                    )
                ]
            )
        version = await ctx.versions.get(
            ctx.db, generated.published.code, row.business_type_version
        )
        clean, problems = _coerce(version.items, _values(value.data, generated))
        if problems:
            return payload(errors=user_errors(problems))
        state, stage_rows = await case_repo.load_state(session, row, version)
        try:
            new_state, events = casework_cases.write_data(state, version, clean)
        except Refused as refused:
            return payload(errors=user_errors(refused.problems))
        if not events:  # the values are already there: nothing changes, not even the version
            return payload(case=await case_object(ctx, case_reads.case_record(row), generated))
        await case_repo.save(
            session,
            row,
            new_state,
            version,
            events,
            known_stages=stage_rows,
            actor=principal.username,
            now=now,
        )
    return payload(case=await case_object(ctx, case_reads.case_record(row), generated))


def generic_fields(
    dictionary: DictionaryTypes,
    items: Mapping[str, DataItemSpec],
    all_types: Mapping[str, GeneratedTypes],
    connection: type,
    edge: type,
) -> list[StrawberryField]:
    """`case(id, number)` and `cases(where, orderBy, first, after)` across business types."""
    attrs = {code: attr_name(code) for code in items}

    async def by_type_id(ctx: Context) -> dict[int, GeneratedTypes]:
        types, _, _ = await ctx.codes()
        return {i: all_types[c] for i, c in types.items() if c in all_types}

    async def one_case(
        info: strawberry.Info[Context, Any],
        id: strawberry.ID | None = None,
        number: str | None = None,
    ) -> Case | None:
        ctx = info.context
        if (id is None) == (number is None):
            raise case_filters.invalid("give exactly one of id and number", ["id"])
        async with ctx.db.read() as session:
            if id is not None:
                row = await case_reads.get(session, row_id(id))
            else:
                row = await case_reads.get_by_number(session, str(number))
            principal = ctx.principal
            assert principal is not None
            if row is not None and not await case_reads.visible(
                session, row.id, policy.case_scope(principal)
            ):
                row = None  # a case out of scope reads as no case at all
        generated = (await by_type_id(ctx)).get(row.business_type_id) if row else None
        return None if row is None or generated is None else await case_object(ctx, row, generated)

    async def list_all(
        info: strawberry.Info[Context, Any],
        where: Any = None,
        order_by: Any = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Any:
        ctx = info.context
        mapping = await by_type_id(ctx)
        types, _, _ = await ctx.codes()
        served = f.Compare(f.SystemField.BUSINESS_TYPE, f.Op.IN, [types[i] for i in mapping])
        condition: f.Filter = served
        if where is not None:
            condition = f.AllOf((served, case_filters.to_filter(where, items, attrs)))
        return await page(
            ctx,
            where=condition,
            orders=case_filters.to_orders(order_by, items, attrs),
            first=first,
            after=after,
            generated_by_type=mapping,
            connection=connection,
            edge=edge,
        )

    one = _resolver(
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
    many = _resolver(
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
            "return": connection,
        },
        "Cases of every business type; first is at most 200 (default 50).",
    )
    return [one, many]
