"""Server pushes faster than the client reads: the session holds its renders back while the
outbox is half full and sends the latest one when the client took frames, instead of
replacing the page (resync) and ending the connection (1011) after ``max_resyncs``."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from vango_actors.protocol import Patches, Reload

from ..liveclient import LiveClient, load_page, open_live
from .pages.burst import POSTS
from .server import running_app


def _read_slowly(client: LiveClient, pause: float) -> None:
    """Make ``client`` take ``pause`` seconds per frame (a browser busy applying patches)."""
    apply = client._on_frame

    async def slow(frame: Any) -> None:
        await apply(frame)
        await trio.sleep(pause)

    client._on_frame = slow  # type: ignore[method-assign]


def _resyncs(client: LiveClient) -> list[Patches]:
    return [f for f in client.of_type(Patches) if f.ops and f.ops[0][:2] == [7, 0]]


@pytest.mark.parametrize("door", ["asgi", "fast"])
async def test_a_burst_of_posts_to_a_slow_reader_is_coalesced_without_a_resync(door: str) -> None:
    with trio.fail_after(60):
        async with running_app(door) as server:
            manager = server.app.front.manager
            assert manager is not None
            shell = await load_page(server.base_url, "/burst")
            async with open_live(server.base_url, shell) as client:
                await client.hello()
                await client.connected()
                _read_slowly(client, 0.002)
                await client.click("#go")
                await client.wait_for(lambda: client.text("#n") == str(POSTS))
                await client.click("#inc")  # the page still answers events, in order
                await client.synced()
                assert client.text("#count") == "1" and client.text("#n") == str(POSTS)
                assert client.closed is None and not client.of_type(Reload)
                assert _resyncs(client) == []  # the page was never replaced
                assert len(client.of_type(Patches)) < POSTS  # coalesced into fewer frames
                stats = manager.session_statistics(shell.session_id)
                assert stats.state == "live" and stats.resyncs == 0
