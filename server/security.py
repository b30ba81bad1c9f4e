"""Passwords (argon2) and Bearer tokens (JWT, HS256): the only place the secret is used."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from database.user_repo import Principal

ALGORITHM = "HS256"
MAX_ID = 2**63 - 1
"""The largest key a 64-bit id column holds."""
_DECIMAL_ID = re.compile(r"[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class Lockout:
    """How failed logins are answered: slower after `slow_after`, locked at `max_failures`."""

    max_failures: int = 5
    lock_for: dt.timedelta = dt.timedelta(minutes=15)
    slow_after: int = 2
    step_seconds: float = 0.5
    max_delay_seconds: float = 3.0

    def delay(self, failures: int) -> float:
        """Seconds to wait before checking a password after `failures` failures in a row."""
        return min(self.max_delay_seconds, self.step_seconds * (failures - self.slow_after + 1))


CLOCK_SKEW = dt.timedelta(seconds=30)
"""Tolerated difference between the clocks of the servers that issue and read a token."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says: whose it is and the token epoch it was issued in."""

    user_id: int
    epoch: int


class Credentials:
    """Hashes and checks passwords, issues and reads tokens."""

    def __init__(
        self,
        secret: str,
        *,
        token_hours: int = 12,
        hasher: PasswordHasher | None = None,
        lockout: Lockout | None = None,
    ) -> None:
        self._secret = secret
        self.lockout = lockout or Lockout()
        # argon2id with the library's RFC 9106 defaults; verification reads a hash's own cost.
        self._hasher = hasher or PasswordHasher()
        self._lifetime = dt.timedelta(hours=token_hours)
        # Checked when the username is unknown, so both failures take the same time.
        self._dummy = self._hasher.hash("no such user")

    def hash_password(self, password: str) -> str:
        """An argon2id hash."""
        return self._hasher.hash(password)

    def verify_password(self, password_hash: str | None, password: str) -> bool:
        """Whether the password matches; an unknown user costs as much as a known one."""
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False

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
        return TokenClaims(user_id=int(sub), epoch=epoch)
