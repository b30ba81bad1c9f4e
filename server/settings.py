"""Settings from the environment; secrets are read or generated here and never logged."""

from __future__ import annotations

import ipaddress
import math
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from casework import history
from database import readiness
from resolvers import cursors

DEFAULT_DATA_DIR = Path("data")
N = TypeVar("N", int, float)
URL_FORMS = "sqlite:///PATH/yekuo.db or postgresql://USER@HOST[:PORT]/NAME"
"""What YEKUO_DATABASE_URL looks like, for the message that says it is wrong."""


class SettingsError(ValueError):
    """A YEKUO_* setting that cannot be used; the message names it and says what it must be."""


@dataclass(frozen=True)
class Settings:
    """What the server needs to run."""

    data_dir: Path
    database_url: str
    secret: str = field(repr=False)
    token_hours: int = 12
    poll_seconds: float = 0.25
    login_max_failures: int = 5
    """Wrong passwords for one account from one address before that address is locked out."""
    login_lock_minutes: int = 15
    login_account_max_failures: int = 20
    """Wrong passwords for one account from all addresses before it is locked for everyone."""
    login_source_max_failures: int = 50
    """Wrong passwords from one address, at any usernames, before the address is blocked."""
    max_body_bytes: int = 1_048_576
    """A larger GraphQL request body is refused (413) before it is parsed."""
    trusted_proxies: tuple[str, ...] = ()
    """Proxies (addresses, networks) whose X-Forwarded-For names the client; none by default."""
    persisted_only: bool = False
    """YEKUO_PERSISTED_ONLY: run only documents registered by `yekuo queries add`."""
    compiled_queries: bool = True
    """YEKUO_COMPILED_QUERIES: case lists and cases answered by the query compiler (on by
    default; 0 answers every field on the resolver path, as a check or a way around a fault)."""
    previous_secrets: tuple[str, ...] = field(default=(), repr=False)
    """Secrets used before `secret`: their history seals are still accepted until re-keyed."""

    def history_keys(self) -> history.Keyring:
        """The keys that seal case histories: derived from the secret, then the previous ones."""
        return history.keyring(self.secret, self.previous_secrets)

    def cursor_key(self) -> bytes:
        """The key that signs page cursors: derived from the current secret only."""
        return cursors.derive_key(self.secret)


def _secret(data_dir: Path) -> str:
    """YEKUO_SECRET, or a random key kept (mode 0600) in the data directory."""
    given = os.environ.get("YEKUO_SECRET")
    if given:
        return given
    path = data_dir / "secret.key"
    try:
        if path.exists():
            return path.read_text().strip()
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key)
    except OSError as error:
        raise SettingsError(
            f"YEKUO_DATA_DIR must be a directory yekuo can keep its secret key in "
            f"({path}: {error.strerror}), or set YEKUO_SECRET"
        ) from error
    return key


def previous_secrets() -> tuple[str, ...]:
    """YEKUO_SECRET_PREVIOUS: earlier secrets, separated by spaces or new lines."""
    return tuple(os.environ.get("YEKUO_SECRET_PREVIOUS", "").split())


def data_dir() -> Path:
    """YEKUO_DATA_DIR as an absolute path (default `./data`); nothing is created."""
    return Path(os.environ.get("YEKUO_DATA_DIR") or DEFAULT_DATA_DIR).resolve()


def database_url() -> str:
    """YEKUO_DATABASE_URL, or the SQLite file in the data directory; checked, nothing created."""
    url = os.environ.get("YEKUO_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir() / 'yekuo.db'}"
    try:
        readiness.check_url(url)
    except readiness.BadUrl as bad:
        # The URL itself is not repeated: it may carry a password.
        raise SettingsError(f"YEKUO_DATABASE_URL {bad}; use {URL_FORMS}") from None
    return url


def _number(name: str, kind: Callable[[str], N], default: N, what: str) -> N:
    """An environment number greater than 0 (finite), or SettingsError naming the variable."""
    given = os.environ.get(name)
    if given is None or given.strip() == "":
        return default
    try:
        value = kind(given)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name} must be {what} greater than 0, not {given!r}")
    return value


def trusted_proxies() -> tuple[str, ...]:
    """YEKUO_TRUSTED_PROXIES: comma-separated addresses or networks (CIDR); none when unset."""
    given = os.environ.get("YEKUO_TRUSTED_PROXIES") or ""
    found: list[str] = []
    for item in (part.strip() for part in given.split(",")):
        if not item:
            continue
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(
                "YEKUO_TRUSTED_PROXIES must be a list of IP addresses or networks separated by "
                f"commas (such as 10.0.0.5,192.168.0.0/16), not {item!r}"
            ) from None
    return tuple(found)


def load() -> Settings:
    """Settings from the YEKUO_* environment variables (see the README); SettingsError if bad.

    Every value is checked before the secret key is read or generated, the only thing this
    writes; SQLite's folder is made by `yekuo db upgrade`, which creates the database.
    """
    url = database_url()
    token_hours = _number("YEKUO_TOKEN_HOURS", int, 12, "a whole number of hours")
    poll_seconds = _number("YEKUO_POLL_SECONDS", float, 0.25, "a number of seconds")
    max_failures = _number("YEKUO_LOGIN_MAX_FAILURES", int, 5, "a whole number")
    lock_minutes = _number("YEKUO_LOGIN_LOCK_MINUTES", int, 15, "a whole number of minutes")
    account_max_failures = _number(
        "YEKUO_LOGIN_ACCOUNT_MAX_FAILURES", int, max(20, 2 * max_failures), "a whole number"
    )
    if account_max_failures < 2 * max_failures:
        # Below that, one address could lock an account by guessing at the end of one of its
        # windows and again in the next (see database.throttle_repo).
        raise SettingsError(
            "YEKUO_LOGIN_ACCOUNT_MAX_FAILURES must be at least twice YEKUO_LOGIN_MAX_FAILURES "
            f"({2 * max_failures}), so that one address cannot lock an account, "
            f"not {account_max_failures}"
        )
    source_max_failures = _number("YEKUO_LOGIN_SOURCE_MAX_FAILURES", int, 50, "a whole number")
    proxies = trusted_proxies()
    max_body_bytes = _number("YEKUO_MAX_BODY_BYTES", int, 1_048_576, "a whole number of bytes")
    directory = data_dir()
    return Settings(
        data_dir=directory,
        database_url=url,
        secret=_secret(directory),
        token_hours=token_hours,
        poll_seconds=poll_seconds,
        login_max_failures=max_failures,
        login_lock_minutes=lock_minutes,
        login_account_max_failures=account_max_failures,
        login_source_max_failures=source_max_failures,
        max_body_bytes=max_body_bytes,
        previous_secrets=previous_secrets(),
        trusted_proxies=proxies,
        persisted_only=persisted_only(),
        compiled_queries=_switch("YEKUO_COMPILED_QUERIES", default=True),
    )


def persisted_only() -> bool:
    """YEKUO_PERSISTED_ONLY: on for 1, true, yes or on; off when unset or 0, false, no, off."""
    return _switch("YEKUO_PERSISTED_ONLY", default=False)


def _switch(name: str, *, default: bool) -> bool:
    """An on/off setting: 1, true, yes or on; 0, false, no or off; unset: the default."""
    given = (os.environ.get(name) or "").strip().lower()
    if not given:
        return default
    if given in ("0", "false", "no", "off"):
        return False
    if given in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1 or 0 (true or false), not {given!r}")
