"""The demo app under hypercorn's trio worker in this process, for the fault tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs

from tests.servers import serving_in_process
from vango_actors.front import VangoApp, create_app
from vango_actors.manager import SessionManager

KEY = "fault-test-key"


@attrs.frozen
class InProcessServer:
    bind: str
    app: VangoApp

    @property
    def base_url(self) -> str:
        return self.bind

    @property
    def port(self) -> int:
        return int(self.bind.rsplit(":", 1)[1])

    @property
    def manager(self) -> SessionManager:
        manager = self.app.front.manager
        assert manager is not None, "the app is not serving"
        return manager


@asynccontextmanager
async def running_app(**overrides: Any) -> AsyncIterator[InProcessServer]:
    """The demo app on a free loopback port (``overrides``: Settings fields)."""
    overrides.setdefault("secret_keys", (KEY,))
    app = create_app("app_routes", **overrides)
    async with serving_in_process(app) as base_url:
        yield InProcessServer(base_url, app)
