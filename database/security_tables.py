"""Tables of who may sign in and what they may send.

Users, their posts, the throttle on wrong guesses, and the persisted GraphQL documents.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from database.table_base import Base, Id, JsonColumn


class UserRow(Base):
    """A person who signs in. `token_epoch` changes when tokens issued before must stop working."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JsonColumn)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    token_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]


class UserPostRow(Base):
    """Which posts a user holds."""

    __tablename__ = "user_post"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id"), primary_key=True)


class AccessThrottleRow(Base):
    """Wrong guesses at a secret counted under one key (see `database.throttle_repo`).

    The key is a digest: no username, case number or address is kept. A row past `expires_at`
    (its counting window over, no lock-out running) says nothing and is deleted.
    """

    __tablename__ = "access_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[dt.datetime]
    locked_until: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class PersistedQueryRow(Base):
    """A GraphQL document registered under its SHA-256 (see `server.persisted_queries`).

    Kept in the database, not in a process, so every server process runs the same documents;
    rows are only added (a hash names one text for ever), never changed.
    """

    __tablename__ = "persisted_query"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
