"""On the fast door the poller handles a click itself when the session waits on its socket.

A plain handler runs in the door's poller task (no wake of the session's task); whatever
must wait (a coroutine handler, a child component to mount or unmount) stops before its
first wait and the session's own task carries it on. Either way every event is handled once,
in the order sent, and acknowledged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from tests.servers import serving_in_process
from vango_actors.front import create_app

from ..liveclient import LiveClient, open_page

KEY = "inline-test-key"
TIMEOUT = 15


@asynccontextmanager
async def mixed_page(door: str) -> AsyncIterator[LiveClient]:
    """``/mixed`` (tests/live/routes/mixed.py) through ``door``, connected."""
    extra = {"live_port": 0} if door == "fast" else {}
    app = create_app("tests.live.routes", secret_keys=(KEY,), **extra)
    async with serving_in_process(app) as base_url, open_page(base_url, "/mixed") as client:
        yield client


def _where(client: LiveClient) -> dict[str, str]:
    text = client.text("#where")
    return dict(pair.split("=", 1) for pair in text.split()) if text else {}


async def test_a_plain_handler_runs_in_the_poller_and_an_awaiting_one_in_the_session() -> None:
    with trio.fail_after(TIMEOUT):
        async with mixed_page("fast") as client:
            await client.click("#sync")
            await client.synced()
            assert "ReadPoller.run" in _where(client)["s"]  # the session's task never woke
            await client.click("#async")
            await client.synced()
            assert "ReadPoller" not in _where(client)["a"]  # its body ran in the session's
            await client.click("#toggle")  # the render mounts a child: carried on
            await client.synced()
            assert client.text("#child") == "child"
            await client.click("#toggle")  # the child is unmounted
            await client.synced()
            assert client.document.select("#child") == []
            assert client.text("#log") == "s a t t"
            assert client.errors == [] and client.closed is None


async def test_events_of_every_shape_sent_at_once_are_handled_once_in_order(door: str) -> None:
    """60 events in flight at once, plain, awaiting and mounting ones interleaved: the
    handlings that stop in the poller and those the session's task carries on keep the
    order they were sent in, on both doors."""
    kinds = ["sync", "async", "toggle", "sync", "sync", "async"] * 10
    with trio.fail_after(TIMEOUT):
        async with mixed_page(door) as client:
            hids = {kind: client.hid(f"#{kind}") for kind in ("sync", "async", "toggle")}
            for kind in kinds:
                await client.send_event(hids[kind], "click")
            await client.synced()
            assert client.text("#log") == " ".join(kind[0] for kind in kinds)
            assert client.acked == len(kinds)
            assert client.document.select("#child") == []  # toggled an even number of times
            assert client.errors == [] and client.closed is None


async def test_work_spawned_by_a_handler_in_the_poller_runs_in_the_session() -> None:
    """Background work and timers started from a handler that ran in the door's poller
    belong to the session (its nursery), not to the poller, and report back."""
    with trio.fail_after(TIMEOUT):
        async with mixed_page("fast") as client:
            await client.click("#background")
            await client.synced()
            assert "ReadPoller.run" in _where(client)["g"]
            await client.wait_for(
                lambda: sorted(client.text("#log").split()) == ["done", "g", "later"]
            )
            assert "ReadPoller" not in _where(client)["work"]
            assert "ReadPoller" not in _where(client)["later"]  # a session message
            assert client.errors == [] and client.closed is None
