"""Migrations are the only way tables come to exist, and they match the table definitions."""

from __future__ import annotations

from database import migrate


def test_migrated_database_matches_the_tables(database_url: str) -> None:
    migrate.check(database_url)  # alembic check: raises when autogenerate would find changes


def test_upgrade_is_idempotent(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.check(database_url)
