"""The server tests drive the same application, with the same fixtures, as the API tests."""

from __future__ import annotations

from tests.api.conftest import *  # noqa: F403
