"""Alembic environment: runs migrations over the async engine of the configured database."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from database import case_expressions, tables
from database.session import normalise_url

config = context.config
target_metadata = tables.Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: set sqlalchemy.url on the alembic Config")
    return normalise_url(url)


def _include(_object: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave the item indexes out: `database/item_indexes.py` builds and drops them, not alembic.

    Without this, autogenerate (and `alembic check`) would ask to drop every one it finds.
    """
    return not (
        type_ == "index"
        and reflected
        and compare_to is None
        and (name or "").startswith(case_expressions.INDEX_PREFIX)
    )


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_include,
    )
    with warnings.catch_warnings(), context.begin_transaction():
        # SQLAlchemy cannot reflect SQLite's expression indexes and says so; they are left out.
        warnings.filterwarnings(
            "ignore",
            message="Skipped unsupported reflection of expression-based index "
            + case_expressions.INDEX_PREFIX,
        )
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
