"""Settings from the environment; secrets are read or generated here and never logged."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path("data")


@dataclass(frozen=True)
class Settings:
    """What the server needs to run."""

    data_dir: Path
    database_url: str
    secret: str = field(repr=False)
    token_hours: int = 12
    poll_seconds: float = 0.25
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    max_body_bytes: int = 1_048_576
    """A larger GraphQL request body is refused (413) before it is parsed."""


def _secret(data_dir: Path) -> str:
    """YEKUO_SECRET, or a random key kept (mode 0600) in the data directory."""
    given = os.environ.get("YEKUO_SECRET")
    if given:
        return given
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key


def load() -> Settings:
    """Settings from the YEKUO_* environment variables (see the README)."""
    data_dir = Path(os.environ.get("YEKUO_DATA_DIR") or DEFAULT_DATA_DIR).resolve()
    url = os.environ.get("YEKUO_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'yekuo.db'}"
    if url.startswith("sqlite"):
        data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        data_dir=data_dir,
        database_url=url,
        secret=_secret(data_dir),
        token_hours=int(os.environ.get("YEKUO_TOKEN_HOURS", "12")),
        poll_seconds=float(os.environ.get("YEKUO_POLL_SECONDS", "0.25")),
        login_max_failures=int(os.environ.get("YEKUO_LOGIN_MAX_FAILURES", "5")),
        login_lock_minutes=int(os.environ.get("YEKUO_LOGIN_LOCK_MINUTES", "15")),
        max_body_bytes=int(os.environ.get("YEKUO_MAX_BODY_BYTES", "1048576")),
    )
