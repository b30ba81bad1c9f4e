"""Run alembic programmatically: migrations are the only way tables come to exist."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from casework import history
from database.session import normalise_url

_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    """An alembic Config for `url` that finds the project's migrations wherever it runs from."""
    config = Config(str(_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(
    url: str, revision: str = "head", *, history_keys: history.Keyring | None = None
) -> None:
    """Migrate the database at `url` to `revision`, creating an SQLite file and its folder.

    With `history_keys`, a migration that anchors existing case histories also seals them.
    """
    parsed = make_url(normalise_url(url))
    if parsed.drivername.startswith("sqlite") and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    config = alembic_config(url)
    config.attributes["history_keys"] = history_keys
    command.upgrade(config, revision)  # synchronous: alembic runs its own loop


def downgrade(url: str, revision: str) -> None:
    """Take the database at `url` back to `revision` (tests of data migrations use it)."""
    command.downgrade(alembic_config(url), revision)


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def heads() -> tuple[str, ...]:
    """The newest revision(s) the migrations define: where `upgrade` takes a database."""
    return tuple(_scripts().get_heads())


def revisions() -> set[str]:
    """Every revision the migrations define."""
    return {script.revision for script in _scripts().walk_revisions()}


def check(url: str) -> None:
    """Fail when the tables and the migrations disagree (alembic check)."""
    command.check(alembic_config(url))
