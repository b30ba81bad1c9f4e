"""Who may act on which case or task: rules over the caller and plain values, no I/O.

The same rules decide in SQL which rows a list shows (`database` scopes); here they decide
whether one command may go ahead, on the values the command loaded anyway, so authorising a
command costs no statement of its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from database.records import TaskRecord
from database.user_repo import Principal
from metamodel.specs import Role


def is_admin(principal: Principal | None) -> bool:
    """Whether the caller is an administrator."""
    return principal is not None and Role.ADMIN.value in principal.roles


def manages(principal: Principal | None, org_path: str) -> bool:
    """ADMIN, or a MANAGER whose subtree holds the unit at `org_path`."""
    if principal is None:
        return False
    if is_admin(principal):
        return True
    return (
        Role.MANAGER.value in principal.roles
        and principal.org_path is not None
        and org_path.startswith(principal.org_path)
    )


def may_work(principal: Principal | None, post: str | None, org_path: str) -> bool:
    """Whether the caller holds `post` in a unit at or above the unit at `org_path`."""
    return bool(
        principal
        and post is not None
        and post in principal.posts
        and principal.org_path
        and org_path.startswith(principal.org_path)
    )


def sees_case(
    principal: Principal, *, org_path: str, created_by: str, tasks: Iterable[TaskRecord]
) -> bool:
    """Whether the caller may see a case: the rule `case_scope` compiles to SQL, on values.

    ADMIN: every case; MANAGER: their subtree; STAFF: cases in their subtree with a task of
    one of their posts or assigned to them, or that they opened.
    """
    if is_admin(principal):
        return True
    if not principal.org_path or not org_path.startswith(principal.org_path):
        return False
    if Role.MANAGER.value in principal.roles or created_by == principal.username:
        return True
    return any(t.post in principal.posts or t.assignee_id == principal.id for t in tasks)
