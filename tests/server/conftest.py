"""The server tests drive the same application as the API tests."""

from __future__ import annotations

from tests.api.conftest import api

__all__ = ["api"]
