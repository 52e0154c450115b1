"""The demo app served in the benchmark's own process, as in-process benchmarks drive it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from vango_actors.front import VangoApp, create_app


@asynccontextmanager
async def serving_demo(key: str, **overrides: Any) -> AsyncIterator[tuple[VangoApp, str]]:
    """``app_routes`` with the fast door on a free port, under hypercorn's trio worker on a
    free loopback port; no per-session event rate and no per-address socket limit (every
    benchmark client is 127.0.0.1 and clicks as fast as it can). Yields the app and its
    base URL; the server stops on exit."""
    app = create_app(
        "app_routes",
        secret_keys=(key,),
        live_port=0,
        event_rate=0,
        max_connections_per_address=0,
        **overrides,
    )
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.backlog = 4096
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(serve, app, config, shutdown_trigger=stop.wait))
        try:
            yield app, binds[0]
        finally:
            stop.set()
