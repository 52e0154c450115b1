"""Runtime fixtures: a SessionManager in the test's trio run, drained at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from vango_actors import SessionManager, open_runtime

from . import pages


@pytest.fixture
async def rt() -> AsyncIterator[SessionManager]:
    async with open_runtime() as manager:
        yield manager


@pytest.fixture(autouse=True)
def _reset_counts() -> None:
    pages.renders.clear()
    pages.Clock.ticks.clear()
    pages.Bomb.mounts = 0
