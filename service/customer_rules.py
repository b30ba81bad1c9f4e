"""What the customer a case names must be: checked when the case is opened and submitted.

A type needs a customer number when its effects act on an existing account before creating one
(metamodel.effect_specs.requires_customer) or when it states a requirement; a CLOSED account is
refused for every type (nothing more may be done on it); a requirement asks for given statuses
(no 变更用电 on a temporary-supply account) or an open period (暂停恢复 needs an open 暂停).
"""

from __future__ import annotations

from database import archive_repo
from database.session import Session
from metamodel.effect_specs import CustomerStatus, requires_customer
from metamodel.specs import BusinessTypeVersion, Problem

PATH = ("input", "customerNumber")


async def customer_problems(
    session: Session, version: BusinessTypeVersion, number: str | None
) -> list[Problem]:
    """Why the customer `number` cannot be named by a case of `version` (empty: it can).

    An unknown number gives no problem here: whether a caller may reach it is checked apart.
    """
    spec = version.spec
    requirement = spec.customer_requirement
    if number is None:
        if requires_customer(spec.effects, requirement is not None):
            return [
                Problem("REQUIRED", f"a {spec.name} case names the customer's number (户号)", PATH)
            ]
        return []
    found = await archive_repo.customer_state(session, number)
    if found is None:
        return []
    status, open_kinds = found
    if status == CustomerStatus.CLOSED:
        return [
            Problem("CUSTOMER_STATE", f"customer {number} is CLOSED: no case may act on it", PATH)
        ]
    if requirement is None:
        return []
    wanted = [s.value for s in requirement.statuses]
    if wanted and status not in wanted:
        return [
            Problem(
                "CUSTOMER_STATE",
                f"customer {number} is {status}; a {spec.name} case needs it {' or '.join(wanted)}",
                PATH,
            )
        ]
    kind = requirement.open_suspension
    if kind is not None and kind not in open_kinds:
        return [
            Problem(
                "CUSTOMER_STATE",
                f"customer {number} is {status} with no open {kind.value} period; a {spec.name} "
                f"case needs one",
                PATH,
            )
        ]
    return []
