"""Fee rules (ADMIN), assessed fees on cases, payments and waivers."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import strawberry

from casework import fees as fee_rules
from database import case_reads as stored_cases
from database import case_repo, fee_repo, keyset, metadata_reads, metadata_repo
from database.session import Session
from metamodel import fee_rule_checks, naming
from metamodel import filters as f
from metamodel.specs import BusinessTypeSpec, CaseStatus, DataItemSpec, FeeRuleSpec, FeeRuleStatus
from resolvers import case_reads
from resolvers.case_commands import runtime
from resolvers.context import Context
from resolvers.convert import given, row_id
from resolvers.objects import fee_out
from resolvers.paging import page_size
from schema import fee_types as ft
from schema.common import ErrorCode, UserError, user_error, user_errors
from service import fee_commands

Info = strawberry.Info[Context, Any]


def rule_out(rule: FeeRuleSpec, version: int) -> ft.FeeRule:
    """A fee rule for output."""
    return ft.FeeRule(
        code=rule.code,
        name=rule.name,
        business_types=list(rule.business_types),
        stage=rule.stage,
        condition=rule.condition,
        amount=rule.amount,
        effective_from=rule.effective_from,
        effective_to=rule.effective_to,
        status=rule.status,
        description=rule.description,
        pay_at=rule.pay_at,
        version=version,
    )


@strawberry.field(description="Every fee rule, charged or abolished.")
async def fee_rules_field(info: Info) -> list[ft.FeeRule]:
    """By code, with their current version."""
    async with info.context.db.read() as session:
        found = await fee_repo.rules(session)
    return [rule_out(r, v) for r, v in found]


async def _items_for(
    session: Session, rule: FeeRuleSpec, *, stage_exists: bool
) -> tuple[dict[str, dict[str, DataItemSpec]], list[UserError]]:
    """The items of each type a rule names (latest published, else the draft), and its errors."""
    snapshot = await metadata_repo.load_snapshot(session)
    published = {t.code: dict(t.latest.items) for t in snapshot.types}
    versions = {t.code: t.latest.spec for t in snapshot.types}
    errors: list[UserError] = []
    business_types, stage = list(rule.business_types), rule.stage
    named = business_types or [
        t.code for t in snapshot.types if t.latest.spec.stage_usage(stage) is not None
    ]
    found: dict[str, dict[str, DataItemSpec]] = {}
    dictionary = await metadata_repo.get_data_items(session)
    for index, code in enumerate(named):
        draft = await metadata_reads.business_type_draft(session, code)
        if draft is None:
            errors.append(
                user_error(
                    ErrorCode.NOT_FOUND,
                    f"no business type '{code}'",
                    ("input", "businessTypes", index),
                )
            )
            continue
        # A rule at a stage the type never enters would never be assessed: a typo, refused.
        # The draft counts too, so a rule can be ready before the version that needs it.
        drafted = {u.get("stage") for u in draft.get("stages", ())}
        latest = versions.get(code)
        unused = stage not in drafted and (latest is None or latest.stage_usage(stage) is None)
        if stage_exists and unused:  # an unknown stage is reported as such
            errors.append(
                user_error(
                    ErrorCode.VALIDATION,
                    f"business type '{code}' does not use stage '{stage}'",
                    ("input", "stage"),
                )
            )
        paid = _pay_at_problem(rule, code, draft, latest)
        if stage_exists and not unused and paid is not None:
            errors.append(user_error(ErrorCode.VALIDATION, paid, ("input", "payAt")))
        if code in published:
            found[code] = published[code]
            continue
        used = [u["item"] for u in draft.get("items", ())]
        found[code] = {c: dictionary[c] for c in used if c in dictionary}
    return found, errors


def _pay_at_problem(
    rule: FeeRuleSpec, code: str, draft: dict[str, Any], latest: BusinessTypeSpec | None
) -> str | None:
    """Why `rule.pay_at` fails for type `code`: None when the draft or the latest version takes it.

    The draft counts as for the stage, so a rule can be ready before the version that needs it.
    """
    drafted = {u.get("stage") for u in draft.get("stages", ())}
    flow = [(t.get("from", ""), t.get("to", ())) for t in draft.get("transitions", ())]
    paid = fee_rule_checks.pay_at_problem(
        rule,
        code,
        {s for s in drafted if isinstance(s, str)},
        fee_rule_checks.reachable(flow, rule.stage),
    )
    if paid is None or latest is None:
        return paid
    used = {s.stage for s in latest.stages}
    flow_of_latest = fee_rule_checks.reachable(fee_rule_checks.edges(latest), rule.stage)
    return fee_rule_checks.pay_at_problem(rule, code, used, flow_of_latest)


@strawberry.mutation(description="Create or replace a fee rule; it is type-checked when saved.")
async def upsert_fee_rule(
    info: Info,
    input: Annotated[
        ft.UpsertFeeRuleInput,
        strawberry.argument(description="The fee rule; saving makes a new version."),
    ],
) -> ft.UpsertFeeRulePayload:
    """The condition must be BOOLEAN and the amount NUMBER over every named type's items."""
    ctx = info.context
    rule = FeeRuleSpec(
        code=input.code,
        name=input.name,
        stage=input.stage,
        amount=input.amount,
        business_types=tuple(given(input.business_types, [])),
        condition=given(input.condition),
        effective_from=given(input.effective_from),
        effective_to=given(input.effective_to),
        status=FeeRuleStatus(given(input.status, FeeRuleStatus.ACTIVE)),
        description=given(input.description),
        pay_at=given(input.pay_at),
    )
    errors: list[UserError] = []
    if not naming.is_valid_code(rule.code):
        errors.append(
            user_error(
                ErrorCode.VALIDATION, f"'{rule.code}' is not a valid code", ("input", "code")
            )
        )
    if rule.effective_from and rule.effective_to and rule.effective_to <= rule.effective_from:
        errors.append(
            user_error(
                ErrorCode.VALIDATION,
                "effectiveTo must be after effectiveFrom",
                ("input", "effectiveTo"),
            )
        )
    async with ctx.db.transaction() as session:
        known = await metadata_repo.get_stages(session)
        stage_exists = rule.stage in known
        if not stage_exists:
            errors.append(
                user_error(ErrorCode.NOT_FOUND, f"no stage '{rule.stage}'", ("input", "stage"))
            )
        if rule.pay_at is not None and rule.pay_at not in known:
            errors.append(
                user_error(ErrorCode.NOT_FOUND, f"no stage '{rule.pay_at}'", ("input", "payAt"))
            )
            rule = replace(rule, pay_at=None)  # reported here, not again per type
        by_type, missing = await _items_for(session, rule, stage_exists=stage_exists)
        errors.extend(missing)
        for code, items in by_type.items():
            for field, message in fee_rules.check(rule, items):
                errors.append(
                    user_error(ErrorCode.VALIDATION, f"{code}: {message}", ("input", field))
                )
        if errors:
            return ft.UpsertFeeRulePayload(errors=errors)
        by = ctx.principal.username if ctx.principal else "system"
        version, _ = await fee_repo.save_rule(session, rule, by=by, now=ctx.now())
    return ft.UpsertFeeRulePayload(fee_rule=rule_out(rule, version))


@strawberry.mutation(
    description="Record the payment of a fee (实收); retries with one key are safe."
)
async def record_payment(
    info: Info,
    input: Annotated[
        ft.RecordPaymentInput, strawberry.argument(description="The case, the fee and the payment.")
    ],
) -> ft.FeePayload:
    """Whole or part of what is outstanding; the fee becomes PAID once it is covered."""
    ctx = info.context
    principal = ctx.principal
    assert principal is not None
    outcome = await fee_commands.pay(
        runtime(ctx),
        principal,
        row_id(input.case_id),
        input.fee_code,
        amount=input.amount,
        method=input.method,
        reference=given(input.reference),
        idempotency_key=given(input.idempotency_key),
        now=ctx.now(),
        invoice_no=given(input.invoice_no),
    )
    return await _fee_payload(ctx, outcome)


@strawberry.mutation(
    description="Refund money taken on a fee, at most what was paid; retries with one key are "
    "safe. Below its amount the fee is DUE again."
)
async def refund_payment(
    info: Info,
    input: Annotated[
        ft.RefundPaymentInput,
        strawberry.argument(description="The case, the fee, the amount and why."),
    ],
) -> ft.FeePayload:
    """Who may record a payment on the case may refund one; the refund is in the history."""
    ctx = info.context
    principal = ctx.principal
    assert principal is not None
    outcome = await fee_commands.refund(
        runtime(ctx),
        principal,
        row_id(input.case_id),
        input.fee_code,
        amount=input.amount,
        reason=input.reason,
        idempotency_key=given(input.idempotency_key),
        now=ctx.now(),
    )
    return await _fee_payload(ctx, outcome)


@strawberry.mutation(description="Waive a fee (MANAGER of the case's org unit, or ADMIN).")
async def waive_fee(
    info: Info,
    input: Annotated[
        ft.WaiveFeeInput, strawberry.argument(description="The case, the fee and why.")
    ],
) -> ft.FeePayload:
    """The fee becomes WAIVED; the reason is kept in the history."""
    ctx = info.context
    principal = ctx.principal
    assert principal is not None
    outcome = await fee_commands.waive(
        runtime(ctx),
        principal,
        row_id(input.case_id),
        input.fee_code,
        reason=input.reason,
        now=ctx.now(),
    )
    return await _fee_payload(ctx, outcome)


async def _fee_payload(ctx: Context, outcome: fee_commands.FeeOutcome) -> ft.FeePayload:
    """The fee as its reader may see it, or the problems."""
    if outcome.fee is None or outcome.business_type_id is None:
        return ft.FeePayload(errors=user_errors(list(outcome.problems)))
    ctx.use_reference(outcome.reference)
    hidden = await case_reads.hidden_by_type(ctx)
    visible = case_reads.hidden_of(hidden, ctx, outcome.business_type_id)
    return ft.FeePayload(fee=fee_out(outcome.fee, visible))


PROBLEM_SCAN = 1000
"""Open cases one `feeRuleProblems` call examines at most (the most recent first)."""


@strawberry.field(
    description="Open cases a failing fee rule blocks: their next stage is the rule's and the "
    "rule cannot be assessed on their data (e.g. its amount is over the largest fee). Examines "
    "the 1000 most recent cases in progress; first is at most 200 (default 50)."
)
async def fee_rule_problems(
    info: Info,
    code: Annotated[
        str | None,
        strawberry.argument(description="Only this rule's problems (default: every active rule)."),
    ] = None,
    first: Annotated[
        int | None, strawberry.argument(description="How many problems to return at most.")
    ] = None,
) -> list[ft.FeeRuleProblem]:
    """ADMIN: each blocked case with the rule, the stages and the rule's error."""
    ctx = info.context
    size = page_size(first)
    async with ctx.db.read() as session:
        wanted = [
            (rule, version)
            for rule, version in await fee_repo.rules(session)
            if rule.status is FeeRuleStatus.ACTIVE and code in (None, rule.code)
        ]
    if not wanted:
        return []
    types, _, _ = await ctx.codes()
    day = (await ctx.calendar()).local_date(ctx.now())
    in_progress = f.Compare(f.SystemField.STATUS, f.Op.EQ, CaseStatus.IN_PROGRESS.value)
    found: list[ft.FeeRuleProblem] = []
    async with ctx.db.read() as session:
        rows = (
            await stored_cases.page_rows(
                session,
                in_progress,
                [f.Order(f.SystemField.ID, descending=True)],
                keyset.Window(size=PROBLEM_SCAN),
            )
        ).cases
        current = await stored_cases.current_stages(session, [r.id for r in rows])
        for row in rows:
            code_of_type = types.get(row.business_type_id)
            if code_of_type is None:
                continue
            definition = await ctx.versions.definition(
                ctx.db, code_of_type, row.business_type_version
            )
            data = case_repo.from_json_data(definition.version, row.data)
            for from_stage in current[row.id]:
                ahead = {
                    s
                    for t in definition.version.spec.transitions
                    if t.from_stage == from_stage
                    for s in t.to
                }
                for rule, version in wanted:
                    if rule.stage not in ahead:
                        continue
                    try:
                        fee_rules.assess(
                            [(rule, version)],
                            business_type=code_of_type,
                            stage=rule.stage,
                            items=definition.version.items,
                            data=data,
                            day=day,
                        )
                    except fee_rules.RuleFailed as failed:
                        if failed.message == fee_rules.MISSING_ITEM:
                            continue  # the completion may still bring the item
                        found.append(
                            ft.FeeRuleProblem(
                                rule=rule.code,
                                case_id=strawberry.ID(str(row.id)),
                                number=row.number,
                                from_stage=from_stage,
                                stage=rule.stage,
                                error=failed.message,
                            )
                        )
            if len(found) >= size:
                break
    return found[:size]


fee_rules_field.graphql_name = "feeRules"  # the Python name avoids the casework module's name
QUERIES: list[Any] = [fee_rules_field, fee_rule_problems]
MUTATIONS: list[Any] = [upsert_fee_rule, record_payment, refund_payment, waive_fee]
