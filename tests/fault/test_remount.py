"""Remount on any worker: a page rendered by one server goes live on another sharing
VANGO_SECRET_KEY; the remounted session follows the event-seq rule of PROTOCOL.md 4.1."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import attrs
import trio

from vango_actors.protocol import Patches, Reload, Welcome

from ..liveclient import load_page, open_live, origin_of
from .inprocess import InProcessServer, running_app


def another_worker(a: InProcessServer) -> AbstractAsyncContextManager[InProcessServer]:
    """A second server behind the same public origin as ``a`` (here: on another port, so it
    allows ``a``'s origin): the page's socket may reach either."""
    return running_app(allowed_origins=(origin_of(a.base_url),))


async def test_a_page_rendered_by_one_server_is_remounted_by_another() -> None:
    with trio.fail_after(30):
        async with running_app() as a, another_worker(a) as b:
            shell = await load_page(a.base_url, "/counter")
            async with open_live(b.base_url, shell, origin=origin_of(a.base_url)) as client:
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


async def test_a_client_that_missed_the_remount_resync_is_not_told_it_resumed() -> None:
    # Its socket broke after WELCOME (or before it), before the resync: it still has A's DOM
    # and holds its events. A resumed WELCOME would release them with A's hids; it gets a
    # remount's answer again (not resumed, then a resync), and once it applied one it resumes.
    with trio.fail_after(30):
        async with running_app() as a, another_worker(a) as b:
            shell = await load_page(a.base_url, "/counter")
            origin = origin_of(a.base_url)
            async with open_live(b.base_url, shell, origin=origin) as client:
                client.seq = 3  # frames applied from A
                await client.hello()
                assert not (await client.connected()).resumed
                # its resync is numbered past A's frames (seq 4), and is lost
            async with open_live(b.base_url, shell, origin=origin) as client:
                client.seq = 3  # the WELCOME was lost too: still A's last seq
                await client.hello()
                assert not (await client.connected()).resumed  # (resync seq 5: lost)
            async with open_live(b.base_url, shell, origin=origin) as client:
                client.seq = 0  # min(3, WELCOME seq 4), had it got a WELCOME of B's
                await client.hello()
                assert not (await client.connected()).resumed
                await client.wait_for(lambda: client.seq == 6)
                assert client.of_type(Patches)[0].ops[0][:2] == [7, 0]
            async with open_live(b.base_url, shell, origin=origin) as client:
                client.seq = 6
                await client.hello()
                assert (await client.connected()).resumed
                await client.click("#inc")
                await client.synced()
                assert [p.seq for p in client.of_type(Patches)] == [7]


async def _remounted_tab(url: str) -> str:
    """What ``/nav?tab=b`` shows once remounted elsewhere from a HELLO naming ``url``."""
    async with running_app() as a, another_worker(a) as b:
        shell = await load_page(a.base_url, "/nav?tab=b")
        assert "Second tab" in shell.inner_html
        async with open_live(b.base_url, shell, origin=origin_of(a.base_url)) as client:
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


async def test_a_remount_takes_the_page_origin_from_the_token() -> None:
    # the fast door lets a socket for a session it does not know in from the live host's
    # name on any port (so it can hear RELOAD); the remount then recorded that socket's
    # origin, and the page's own tab was refused (1008, "do not reconnect") after it
    with trio.fail_after(30):
        async with running_app() as a, running_app(live_port=0) as b:
            shell = await load_page(a.base_url, "/counter")
            door = f"ws://127.0.0.1:{b.app.front.live_port}/vango/live/{shell.session_id}"
            at_b = attrs.evolve(shell, live_url=door)
            async with open_live(b.base_url, at_b, origin="http://127.0.0.1:9") as intruder:
                await intruder.hello()
                closed = await intruder.wait_closed()
            assert closed.code == 4001 and not intruder.of_type(Welcome)
            assert "is not the page's" in intruder.reloads[0].reason
            async with open_live(b.base_url, at_b, origin=origin_of(a.base_url)) as client:
                await client.hello()
                await client.connected()
                await client.click("#inc")
                await client.synced()
                assert client.text("#count") == "1"


async def test_a_remounted_page_is_a_new_mount_and_runs_its_connected_hook() -> None:
    # /chat joins presence in Component.connected: the session B remounts from the page's
    # token is a new one, first claimed by this socket, so its user is online on B
    with trio.fail_after(30):
        async with running_app() as a, another_worker(a) as b:
            shell = await load_page(a.base_url, "/chat")
            async with open_live(b.base_url, shell, origin=origin_of(a.base_url)) as client:
                await client.hello()
                await client.connected()

                def online() -> list[str]:
                    return [
                        str(li.attrs["data-name"]) for li in client.document.select("#online li")
                    ]

                await client.wait_for(lambda: client.text("#me") in online())
            assert b.app.front.live_stats.remounts == 1
