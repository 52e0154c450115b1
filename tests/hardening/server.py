"""The real app with the hostile pages (``tests.hardening.pages``) under in-process hypercorn."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import attrs

from tests import servers
from tests.servers import serving_in_process
from vango_actors.front import VangoApp, create_app
from vango_actors.live import LiveStats

from ..liveclient import http_get

KEY = "hardening-test-key"
ROUTES = "tests.hardening.pages"


@attrs.frozen
class Server:
    base_url: str
    app: VangoApp

    @property
    def stats(self) -> LiveStats:
        return self.app.front.live_stats


@asynccontextmanager
async def running_app(door: str = "asgi", **overrides: Any) -> AsyncIterator[Server]:
    """The app on a free loopback port, served by hypercorn's trio worker in this process;
    ``door="fast"`` also serves the fast live door on a free port (pages point there)."""
    if door == "fast":
        overrides.setdefault("live_port", 0)
    app = create_app(ROUTES, secret_keys=(KEY,), **overrides)
    async with serving_in_process(app) as base_url:
        yield Server(base_url, app)


async def metrics(base_url: str) -> dict[str, float]:
    """``/vango/metrics`` as {sample name (with labels): value}."""
    response = await http_get(base_url + "/vango/metrics")
    assert response.status == 200, response.text
    found = re.findall(r"^(vango_[^\s]+)\s+([-+0-9.eE]+)$", response.text, re.M)
    return {name: float(value) for name, value in found}


@contextmanager
def pages_under_hypercorn(key: str) -> Iterator[servers.Server]:
    """The hostile pages under a real ``hypercorn -k trio`` process (for Chromium tests)."""
    env = {"VANGO_ROUTES": ROUTES, "VANGO_SECRET_KEY": key}
    with servers.hypercorn_server(env=env) as running:
        yield running
