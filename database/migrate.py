"""Run alembic programmatically: migrations are the only way tables come to exist."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from database.session import normalise_url

_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    """An alembic Config for `url` that finds the project's migrations wherever it runs from."""
    config = Config(str(_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision`; synchronous (alembic runs its own loop)."""
    command.upgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Fail when the tables and the migrations disagree (alembic check)."""
    command.check(alembic_config(url))
