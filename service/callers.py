"""Who is calling, per token, known without a statement of its own while nobody changes.

A token names a user and the token epoch it was issued in. Whether that user still exists,
is not disabled, still has that epoch, and which roles, posts and org unit they hold, is read
from the database once and kept for as long as the security revision (moved by triggers on
every write to users and their posts) and the reference stamp (org units) stay where they were
when it was read. Every request reads both numbers in one statement with the reference stamp;
only after a change does a request read its caller again, in one more statement.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from database import reference_repo, user_repo
from database.reference_repo import Stamp
from database.session import Session
from database.user_repo import Principal

MOST_CALLERS = 10_000
"""Callers kept per process (least recently seen go first): bounded whatever the traffic."""


@dataclass(frozen=True, slots=True)
class Checked:
    """What one request learnt in its one statement: the stamps, and its caller if any."""

    stamp: Stamp
    security: int
    principal: Principal | None


class CallerCache:
    """The callers seen lately, valid for one (security revision, reference stamp)."""

    def __init__(self, size: int = MOST_CALLERS) -> None:
        self._size = size
        self._as_of: tuple[int, Stamp] | None = None
        self._known: OrderedDict[tuple[int, int], Principal | None] = OrderedDict()

    def peek(self, user_id: int, epoch: int) -> Checked | None:
        """The caller as last read, and the stamps it was current at, without a statement.

        For a reader that checks those stamps in its own statement (`resolvers.fast_lane`): it
        is the caller still only if the stamps have not moved since. None: not known.
        """
        if self._as_of is None:
            return None
        principal = self._known.get((user_id, epoch))
        if principal is None:
            return None
        security, stamp = self._as_of
        return Checked(stamp, security, principal)

    async def check(self, session: Session, user_id: int | None, epoch: int) -> Checked:
        """The stamps now and the caller a token names (None: unknown, disabled or stale)."""
        stamp, security = await reference_repo.stamps(session)
        if user_id is None:
            return Checked(stamp, security, None)
        if self._as_of != (security, stamp):
            self._known.clear()  # users, posts or units changed: everyone is read again
            self._as_of = (security, stamp)
        key = (user_id, epoch)
        if key in self._known:
            self._known.move_to_end(key)
            return Checked(stamp, security, self._known[key])
        found = await user_repo.get_principal(session, user_id)
        current = found is not None and not found.disabled and found.token_epoch == epoch
        principal = found if current else None
        if self._as_of == (security, stamp):  # the world did not move while we read
            self._known[key] = principal
            while len(self._known) > self._size:
                self._known.popitem(last=False)
        return Checked(stamp, security, principal)
