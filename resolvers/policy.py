"""Authorisation, in one place: which operations a caller may run, which rows and which fields.

- Operations: every root field has a rule in one table, enforced once per operation before it
  runs (`build_schema` refuses to build a schema with a root field that has no rule).
- Rows: ADMIN sees everything; a MANAGER the cases and tasks of their org subtree; STAFF the
  tasks of their posts within their subtree (and tasks assigned to them), and the cases those
  tasks belong to (and cases they opened). Lists filter by these scopes in SQL.
- Fields: an item whose `visibleTo` (in any published version) excludes every post of the
  caller reads as null, and using it in `where` or `orderBy` is FORBIDDEN; so does everything
  derived from it (a fee's working, the archive fields written from it); ADMIN sees every
  item. Decided when a query runs, never by building a schema per role.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from database import case_reads, task_reads
from database.records import OrgUnitRecord
from database.user_repo import Principal
from metamodel.snapshot import PublishedType
from metamodel.specs import Role
from service.access import is_admin as is_admin  # the read resolvers ask it too
from service.access import manages as manages  # the read resolvers ask it too


class Access(Enum):
    """What a root field needs from the caller."""

    PUBLIC = "PUBLIC"
    SIGNED_IN = "SIGNED_IN"
    MANAGER = "MANAGER"
    ADMIN = "ADMIN"


STATIC_RULES: dict[tuple[str, str], Access] = {
    ("mutation", "login"): Access.PUBLIC,
    ("query", "me"): Access.SIGNED_IN,
    ("query", "dataItems"): Access.SIGNED_IN,
    ("query", "stages"): Access.SIGNED_IN,
    ("query", "posts"): Access.SIGNED_IN,
    ("query", "orgUnits"): Access.SIGNED_IN,
    ("query", "businessTypes"): Access.SIGNED_IN,
    ("query", "businessType"): Access.SIGNED_IN,
    ("query", "validateBusinessType"): Access.ADMIN,
    ("query", "exportMetamodel"): Access.ADMIN,
    ("query", "case"): Access.SIGNED_IN,
    ("query", "cases"): Access.SIGNED_IN,
    ("mutation", "upsertDataItem"): Access.ADMIN,
    ("mutation", "upsertStage"): Access.ADMIN,
    ("mutation", "upsertPost"): Access.ADMIN,
    ("mutation", "upsertOrgUnit"): Access.ADMIN,
    ("mutation", "saveBusinessTypeDraft"): Access.ADMIN,
    ("mutation", "publishBusinessType"): Access.ADMIN,
    ("mutation", "retireBusinessType"): Access.ADMIN,
    ("query", "myTasks"): Access.SIGNED_IN,
    ("query", "tasks"): Access.SIGNED_IN,
    ("query", "responsibilities"): Access.MANAGER,
    ("query", "calendar"): Access.SIGNED_IN,
    ("query", "customer"): Access.SIGNED_IN,
    ("query", "customers"): Access.SIGNED_IN,
    ("query", "verifyCaseHistory"): Access.MANAGER,
    ("mutation", "claimTask"): Access.SIGNED_IN,
    ("mutation", "assignTask"): Access.MANAGER,
    ("mutation", "releaseTask"): Access.SIGNED_IN,
    ("mutation", "completeTask"): Access.SIGNED_IN,
    ("mutation", "suspendCase"): Access.MANAGER,
    ("mutation", "resumeCase"): Access.MANAGER,
    ("mutation", "cancelCase"): Access.MANAGER,
    ("mutation", "submitCase"): Access.SIGNED_IN,
    ("mutation", "assignResponsibility"): Access.MANAGER,
    ("mutation", "setCalendarDays"): Access.ADMIN,
    ("query", "feeRules"): Access.SIGNED_IN,
    ("query", "feeRuleProblems"): Access.ADMIN,
    ("query", "caseProgress"): Access.PUBLIC,
    ("query", "users"): Access.MANAGER,
    ("mutation", "reorganizePosts"): Access.MANAGER,
    ("query", "taskStatistics"): Access.MANAGER,
    ("query", "caseStatistics"): Access.MANAGER,
    ("query", "deadlines"): Access.SIGNED_IN,
    ("mutation", "upsertUser"): Access.ADMIN,
    ("mutation", "upsertFeeRule"): Access.ADMIN,
    ("mutation", "recordPayment"): Access.SIGNED_IN,
    ("mutation", "refundPayment"): Access.SIGNED_IN,
    ("mutation", "waiveFee"): Access.MANAGER,
}
"""Who may call each static root field; generated fields are added per business type."""


INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename"})
"""Introspection stays open: the SDL is published at /schema.graphql anyway."""


def denial(access: Access, principal: Any) -> tuple[str, str] | None:
    """(code, message) when `principal` may not use a field that needs `access`, else None."""
    if access is Access.PUBLIC:
        return None
    if principal is None:
        return ("UNAUTHENTICATED", "sign in first: send `Authorization: Bearer <token>`")
    roles = principal.roles
    if access is Access.ADMIN and Role.ADMIN.value not in roles:
        return ("FORBIDDEN", "this operation needs the ADMIN role")
    if access is Access.MANAGER and not roles & {Role.ADMIN.value, Role.MANAGER.value}:
        return ("FORBIDDEN", "this operation needs the MANAGER or ADMIN role")
    return None


def root_fields(
    selection_set: SelectionSetNode,
    fragments: Mapping[str, Any],
    seen: set[str] | None = None,
) -> Iterator[str]:
    """Names of the root fields an operation selects, through fragments, each fragment once.

    Spreading a fragment twice adds no root field; expanding it on every path would grow
    exponentially with fragments that spread another twice.
    """
    seen = set() if seen is None else seen
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                seen.add(name)
                yield from root_fields(fragment.selection_set, fragments, seen)


class Authorize(SchemaExtension):
    """Refuse the whole operation, before anything runs, if any root field is not allowed."""

    def __init__(self, rules: Mapping[tuple[str, str], Access]) -> None:
        super().__init__()
        self.rules = rules

    def on_execute(self) -> Iterator[None]:
        """Check the operation's root fields against the rule table."""
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        named = getattr(context, "_provided_operation_name", None)  # before the default
        several = document is not None and (
            sum(isinstance(d, OperationDefinitionNode) for d in document.definitions) > 1
        )
        if document is not None and (operation is None or (several and named is None)):
            # Several operations and no (or an unknown) operationName: run none of them
            # (strawberry alone would pick the first).
            error = GraphQLError(
                "Must provide a known operationName when the document has several operations.",
                extensions={"code": "OPERATION_RESOLUTION_FAILURE"},
            )
            context.result = ExecutionResult(data=None, errors=[error])
            yield
            return
        if isinstance(operation, OperationDefinitionNode) and document is not None:
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            principal = getattr(context.context, "principal", None)
            kind = operation.operation.value
            for name in root_fields(operation.selection_set, fragments):
                if name in INTROSPECTION_FIELDS:
                    continue
                access = self.rules.get((kind, name), Access.ADMIN)
                refused = denial(access, principal)
                if refused is not None:
                    code, message = refused
                    error = GraphQLError(f"{name}: {message}", extensions={"code": code})
                    context.result = ExecutionResult(data=None, errors=[error])
                    break
        yield


# -- rows -------------------------------------------------------------------------------------


def task_scope(principal: Principal) -> task_reads.TaskScope:
    """Tasks the caller may see."""
    if is_admin(principal):
        return task_reads.TaskScope(everything=True)
    return task_reads.TaskScope(
        posts=principal.posts,
        org_path=principal.org_path,
        user_id=principal.id,
        whole_tree=Role.MANAGER.value in principal.roles,
    )


def case_scope(
    principal: Principal, units: Mapping[int, OrgUnitRecord] | None = None
) -> case_reads.CaseScope:
    """Cases the caller may see; with the org tree at hand (`units`), its subtree as ids."""
    if is_admin(principal):
        return case_reads.CaseScope(everything=True)
    path = principal.org_path
    return case_reads.CaseScope(
        org_path=path,
        whole_tree=Role.MANAGER.value in principal.roles,
        posts=principal.posts,
        user_id=principal.id,
        username=principal.username,
        unit_ids=None
        if units is None or not path
        else frozenset(i for i, u in units.items() if u.path.startswith(path)),
    )


# -- fields -----------------------------------------------------------------------------------


def hidden_items(principal: Principal | None, published: PublishedType) -> frozenset[str]:
    """Items of a business type the caller may not read, in any of its versions (ADMIN: none).

    A case pinned to an older version is read, filtered and sorted with that version's
    restrictions too, so an item a newer version dropped or opened up stays hidden.
    """
    if is_admin(principal):
        return frozenset()
    return published.hidden_from(principal.posts if principal else frozenset())


def forbid_hidden(used: Iterable[str], hidden: frozenset[str], where: str) -> None:
    """Refuse a filter or ordering on an item the caller may not read."""
    blocked = sorted(set(used) & hidden)
    if blocked:
        raise GraphQLError(
            f"{where} uses item(s) you may not read: {', '.join(blocked)}",
            extensions={"code": "FORBIDDEN"},
        )
