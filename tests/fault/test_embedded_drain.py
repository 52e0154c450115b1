"""Stopping an app embedded in a trio program drains like SIGTERM: hypercorn's
``shutdown_trigger`` awaits ``app.drain()``, so live pages get GOAWAY after their in-flight
events and a close 1001 at once, instead of a bare close after ``graceful_timeout``."""

from __future__ import annotations

import pytest
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from vango_actors.front import create_app
from vango_actors.protocol import GoAway

from ..liveclient import open_page


@pytest.mark.parametrize("door", ["asgi", "fast"])
async def test_a_shutdown_trigger_that_awaits_drain_sends_goaway_at_once(door: str) -> None:
    overrides = {"live_port": 0} if door == "fast" else {}
    app = create_app("tests.hardening.pages", secret_keys=("embed-key",), **overrides)
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.graceful_timeout = 10.0  # a bare close would come only after this
    stop = trio.Event()

    async def shutdown() -> None:
        await stop.wait()
        await app.drain()

    with trio.fail_after(8):
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(
                lambda task_status: serve(
                    app, config, shutdown_trigger=shutdown, task_status=task_status
                )
            )
            async with open_page(binds[0], "/counter") as client:
                seqs = [await client.click("#inc") for _ in range(5)]
                started = trio.current_time()
                stop.set()
                closed = await client.wait_closed()
            assert trio.current_time() - started < 2
        # serve returned too: the nursery ended well before graceful_timeout
        assert trio.current_time() - started < 5
    assert client.goaways == [GoAway("server shutting down")]
    assert closed.code == 1001
    assert client.acked == seqs[-1] and client.text("#count") == "5"
    assert app.front.manager is None  # sessions ended (unmounted)
