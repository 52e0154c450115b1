"""A client that stops reading: bounded outbox (server pushes wait past half of it), then
detached by the stall timeout with its state kept."""

from __future__ import annotations

import pytest
import trio

from bench.stalled import open_stalled

from ..liveclient import load_page, open_live
from .server import running_app


@pytest.mark.parametrize("door", ["asgi", "fast"])
async def test_a_stalled_reader_is_detached_and_its_session_resumes(door: str) -> None:
    with trio.fail_after(30):
        async with running_app(door, stall_timeout=1.0) as server:
            manager = server.app.front.manager
            assert manager is not None
            shell = await load_page(server.base_url, "/firehose")
            async with open_live(server.base_url, shell) as client:
                await client.hello()
                await client.connected()
                for _ in range(3):
                    await client.click("#inc")
                await client.synced()
            port = int(server.base_url.rsplit(":", 1)[1])
            live_port = server.app.front.live_port if door == "fast" else None
            stalled = await open_stalled(port, live_port=live_port)  # a new page: its own session
            try:
                stats = manager.session_statistics(stalled.session_id)
                while stats.state != "disconnected":  # the kernel drops the stalled socket
                    # the firehose's renders wait once half the outbox is taken: no resync
                    assert stats.outbox_size * 2 <= manager.config.outbox_size
                    assert stats.resyncs == 0
                    await trio.sleep(0.05)
                    stats = manager.session_statistics(stalled.session_id)
                assert stats.resyncs == 0
                # the other session was never affected; it resumes with its state
                async with open_live(server.base_url, shell) as again:
                    await again.hello()
                    assert (await again.connected()).resumed
                    await again.wait_for(lambda: again.seq > 0)
                    assert again.text("#count") == "3"
            finally:
                stalled.close()


async def _drained(sock: trio.socket.SocketType) -> None:
    """Read until the server's end is gone: EOF, or a reset/timeout from the kernel."""
    while True:
        try:
            if not await sock.recv(65536):
                return
        except OSError:
            return


@pytest.mark.parametrize("door", ["asgi", "fast"])
async def test_a_stalled_socket_is_dropped_after_the_stall_timeout(door: str) -> None:
    """A peer that stops reading is cut by the kernel (TCP_USER_TIMEOUT) on either door,
    although hypercorn's writes cannot be cancelled; its session stays, detached."""
    with trio.fail_after(30):
        async with running_app(door, stall_timeout=1.0) as server:
            manager = server.app.front.manager
            assert manager is not None
            port = int(server.base_url.rsplit(":", 1)[1])
            live_port = server.app.front.live_port if door == "fast" else None
            stalled = await open_stalled(port, live_port=live_port)
            try:
                if door == "asgi":  # hypercorn's listener was found and guarded
                    assert server.app.front.stall_guard.guarded >= 1
                while server.stats.connections_open:  # both live tasks ended: socket closed
                    await trio.sleep(0.05)
                stats = manager.session_statistics(stalled.session_id)
                assert stats.state == "disconnected"  # state kept for a resume
                await _drained(stalled.sock)  # the client sees its connection gone
            finally:
                stalled.close()
