"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apiserver import FakeApi


@pytest.fixture
def api_server() -> Iterator[FakeApi]:
    """A running local stand-in for the Daily Papers API with no days; fill `.days`."""
    with FakeApi() as api:
        yield api
