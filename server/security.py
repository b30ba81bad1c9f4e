"""Passwords (argon2) and Bearer tokens (JWT, HS256): the only place the secret is used.

How wrong passwords are answered (`Lockout`, counted by `database.throttle_repo`): each guess is
counted before it is checked, under the caller's address, the account, and the account from
that address. By default five wrong passwords for an account from one address lock that
address out of that account; twenty for an account from all addresses together lock the account
for everyone; fifty from one address, at any usernames, block the address; each lock-out lasts
fifteen minutes (settings: see the README). After ten wrong passwords in a window an address
waits a little before each further check. So a guesser at one address gets five tries
at an account, cannot lock its user out (that takes several addresses), and is stopped when it
sprays one guess at many accounts; every username, known or not, is counted and answered
alike. An administrator setting the password lifts the account's lock-outs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from database import throttle_repo
from database.user_repo import Principal

ALGORITHM = "HS256"
T = TypeVar("T")
MAX_ID = 2**63 - 1
"""The largest key a 64-bit id column holds."""
_DECIMAL_ID = re.compile(r"[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class Lockout:
    """How wrong passwords are answered (the module docstring says why these numbers)."""

    max_failures: int = 5
    """Wrong passwords for one account from one address before that address is locked out."""
    account_max_failures: int = 20
    """Wrong passwords for one account from all addresses before it is locked for everyone."""
    source_max_failures: int = 50
    """Wrong passwords from one address, at any usernames, before the address is blocked."""
    lock_for: dt.timedelta = dt.timedelta(minutes=15)
    """How long a lock-out lasts, and the window failures are counted in."""
    slow_after: int = 10
    step_seconds: float = 0.5
    max_delay_seconds: float = 3.0

    @property
    def limits(self) -> throttle_repo.Limits:
        """The counters' limits."""
        return throttle_repo.Limits(
            per_target_from_source=self.max_failures,
            per_source=self.source_max_failures,
            per_target=self.account_max_failures,
            window=self.lock_for,
            lock_for=self.lock_for,
        )

    def delay(self, failures: int) -> float:
        """Seconds to wait before checking a password from an address with `failures` so far."""
        if failures < self.slow_after:
            return 0.0
        return min(self.max_delay_seconds, self.step_seconds * (failures - self.slow_after + 1))


CLOCK_SKEW = dt.timedelta(seconds=30)
MOST_VERIFIED_TOKENS = 10_000
"""Verified tokens kept per process (a few MB at most)."""
LONGEST_TOKEN = 2048
"""Longer is not a token this server issued: refused before any decoding."""
"""Tolerated difference between the clocks of the servers that issue and read a token."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says: whose it is and the token epoch it was issued in."""

    user_id: int
    epoch: int


class Credentials:
    """Hashes and checks passwords, issues and reads tokens.

    argon2 costs about 200 ms of CPU per password at production cost: it runs on a pool of
    `threads` threads (default: one per core), never on the event loop, and calls beyond the
    pool wait their turn, so a flood of logins neither stalls other requests nor starts more
    threads (each check also holds its own 64 MiB).
    """

    def __init__(
        self,
        secret: str,
        *,
        token_hours: int = 12,
        hasher: PasswordHasher | None = None,
        lockout: Lockout | None = None,
        threads: int | None = None,
    ) -> None:
        self._secret = secret
        self.lockout = lockout or Lockout()
        # argon2id with the library's RFC 9106 defaults; verification reads a hash's own cost.
        self._hasher = hasher or PasswordHasher()
        self._lifetime = dt.timedelta(hours=token_hours)
        # Checked when the username is unknown, so both failures cost the same work.
        self._dummy = self._hasher.hash("no such user")
        self._pool = ThreadPoolExecutor(
            max_workers=threads or os.cpu_count() or 1, thread_name_prefix="argon2"
        )
        # Tokens already verified, with when they expire: a caller sends the same token with
        # every request, and checking its signature and claims again cost more than the rest
        # of reading who it is. Bounded; the least recently used go first.
        self._verified: OrderedDict[str, tuple[TokenClaims, float]] = OrderedDict()

    async def _off_loop(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)

    async def hash_password(self, password: str) -> str:
        """An argon2id hash."""
        return await self._off_loop(self._hasher.hash, password)

    async def verify_password(self, password_hash: str | None, password: str) -> bool:
        """Whether the password matches; an unknown user (None) costs as much as a known one."""
        return await self._off_loop(self._verify, password_hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            matches = self._hasher.verify(password_hash or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False
        return matches and bool(password_hash)

    def issue_token(
        self, principal: Principal, *, now: dt.datetime | None = None
    ) -> tuple[str, dt.datetime]:
        """A signed token naming the user and its token epoch; wall-clock time unless given."""
        now = now or dt.datetime.now(dt.UTC)
        expires = now + self._lifetime
        claims = {
            "sub": str(principal.id),
            "name": principal.username,
            "epoch": principal.token_epoch,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires

    def read_token(self, token: str) -> TokenClaims | None:
        """The claims of a valid, unexpired token as issued here, or None.

        A token signed with the secret but whose claims are not what `issue_token` writes (a
        `sub` that is not a user id, an `epoch` that is not a whole number) is no token either.
        """
        known = self._verified.get(token)
        if known is not None:
            claims, expires = known
            if time.time() < expires + CLOCK_SKEW.total_seconds():
                self._verified.move_to_end(token)
                return claims
            del self._verified[token]
            return None
        found = self._verify_token(token)
        if found is not None:
            self._verified[token] = found
            while len(self._verified) > MOST_VERIFIED_TOKENS:
                self._verified.popitem(last=False)
        return None if found is None else found[0]

    def _verify_token(self, token: str) -> tuple[TokenClaims, float] | None:
        """Check a token's signature and claims: its claims and when it expires."""
        if len(token) > LONGEST_TOKEN:
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "exp", "epoch"]},
                leeway=CLOCK_SKEW,  # a token issued by a server a little ahead is not "future"
            )
        except jwt.PyJWTError:
            return None
        sub, epoch = claims["sub"], claims["epoch"]
        if not isinstance(sub, str) or not _DECIMAL_ID.fullmatch(sub) or int(sub) > MAX_ID:
            return None
        if type(epoch) is not int or not 0 <= epoch <= MAX_ID:
            return None
        return TokenClaims(user_id=int(sub), epoch=epoch), float(claims["exp"])


def guess_source(host: str | None) -> str:
    """The address wrong guesses are counted against, from the client's host.

    An IPv6 client counts as its /64, the block one subscriber is given (it can pick any
    address in it); an IPv4-mapped IPv6 address as its IPv4 address.
    """
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:100]  # not an address (a Unix socket, a test client): counted as itself
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
