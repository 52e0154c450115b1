"""A client that stops reading: bounded outbox, coalesced resyncs, then detached with state kept."""

from __future__ import annotations

import trio

from bench.stalled import open_stalled

from ..liveclient import load_page, open_live
from .server import running_app


async def test_a_stalled_reader_is_detached_and_its_session_resumes() -> None:
    with trio.fail_after(30):
        async with running_app() as server:
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
            stalled = await open_stalled(port)  # a new page: its own session
            try:
                stats = manager.session_statistics(stalled.session_id)
                while stats.state != "disconnected":  # the firehose overflows its outbox
                    assert stats.outbox_size <= manager.config.outbox_size
                    await trio.sleep(0.05)
                    stats = manager.session_statistics(stalled.session_id)
                assert stats.resyncs == manager.config.max_resyncs + 1
                # the other session was never affected; it resumes with its state
                async with open_live(server.base_url, shell) as again:
                    await again.hello()
                    assert (await again.connected()).resumed
                    await again.wait_for(lambda: again.seq > 0)
                    assert again.text("#count") == "3"
            finally:
                stalled.close()
