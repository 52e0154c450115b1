"""Remount on any worker: a page rendered by one server goes live on another sharing
VANGO_SECRET_KEY; the remounted session follows the event-seq rule of PROTOCOL.md 4.1."""

from __future__ import annotations

import trio

from vango_actors.protocol import Patches, Reload, Welcome

from ..liveclient import load_page, open_live
from .inprocess import running_app


async def test_a_page_rendered_by_one_server_is_remounted_by_another() -> None:
    with trio.fail_after(30):
        async with running_app() as a, running_app() as b:
            shell = await load_page(a.base_url, "/counter")
            async with open_live(b.base_url, shell) as client:
                await client.hello()
                welcome = await client.connected()
                assert welcome == Welcome(1, 0, 0, welcome.heartbeat_ms, False)
                await client.wait_for(lambda: client.seq == 1)
                resync = client.of_type(Patches)[0]
                assert resync.ops[0][:2] == [7, 0]  # always a resync after a remount
                # the client's event seqs go on from where they were (here 41): any seq > 0
                client.event_seq = 40
                await client.click("#inc")
                await client.click("#inc")
                await client.synced()
                assert client.text("#count") == "2"
                assert client.acked == 42
            assert b.app.front.live_stats.remounts == 1
            assert b.manager.session_statistics(shell.session_id).events_handled == 2
            # the original, still parked on A, is untouched
            assert a.manager.session_statistics(shell.session_id).state == "parked"


async def _remounted_tab(url: str) -> str:
    """What ``/nav?tab=b`` shows once remounted elsewhere from a HELLO naming ``url``."""
    async with running_app() as a, running_app() as b:
        shell = await load_page(a.base_url, "/nav?tab=b")
        assert "Second tab" in shell.inner_html
        async with open_live(b.base_url, shell) as client:
            await client.hello(url=url)
            await client.connected()
            await client.wait_for(lambda: client.seq == 1)
            return client.text("#tab-content")


async def test_a_remount_keeps_the_query_string_of_the_page() -> None:
    # handle_params sees what the address bar shows, as on the first load: before, a
    # restarted server or another worker showed the first tab under "?tab=b"
    with trio.fail_after(30):
        assert await _remounted_tab("http://127.0.0.1/nav?tab=b") == "Second tab"
        # the token says which page: a HELLO naming another path keeps the page, not its query
        assert await _remounted_tab("http://127.0.0.1/counter?tab=b") == "First tab"


async def test_an_ended_session_is_not_remounted_but_reloaded() -> None:
    with trio.fail_after(30):
        async with running_app() as server:
            shell = await load_page(server.base_url, "/counter")
            server.manager.session(shell.session_id).stop("gone for the test")
            await server.manager.session(shell.session_id).done.wait()
            async with open_live(server.base_url, shell) as client:
                await client.hello()
                closed = await client.wait_closed()
            assert [r.reason for r in client.reloads] == [
                f"session {shell.session_id!r} not found (shutdown): gone for the test"
            ]
            assert closed.code == 4001
            assert isinstance(client.reloads[0], Reload)
