"""A page that went away (close 1001: tab closed, reloaded, left) ends its session soon; a
connection that only broke keeps it for the whole disconnect grace.

The 1001 rule works on the fast door (the default), which reads the client's CLOSE frame
itself. Under hypercorn the ASGI door cannot see the code: hypercorn 0.18 reports every
client close as 1000 (or 1006) in ``websocket.disconnect``, so there a closed tab keeps its
session for the whole grace."""

from __future__ import annotations

import trio

from vango_actors.lifecycle import SessionState

from ..liveclient import open_page
from .test_socket import TIMEOUT, running_app

GOING_AWAY = 0.5  # going_away_grace of these servers; the disconnect grace stays 60 s


async def test_close_1001_ends_the_session_after_the_going_away_grace() -> None:
    with trio.fail_after(TIMEOUT):
        async with running_app("fast", going_away_grace=GOING_AWAY) as server:
            manager = server.app.front.manager
            assert manager is not None
            async with open_page(server.base_url, "/counter") as client:
                await client.click("#inc")
                await client.synced()
                session_id = client.shell.session_id
                actor = manager.session(session_id)
                await client.ws.aclose(code=1001, reason="page unloaded")
                closed_at = trio.current_time()
            await actor.done.wait()
            waited = trio.current_time() - closed_at
            assert GOING_AWAY <= waited < GOING_AWAY + 5.0, waited
            assert actor.end is not None and actor.end.reason == "expired"
            assert "going_away_grace" in actor.end.detail, actor.end.detail


async def test_a_plain_close_keeps_the_session_for_the_disconnect_grace(door: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with running_app(door, going_away_grace=GOING_AWAY) as server:
            manager = server.app.front.manager
            assert manager is not None
            async with open_page(server.base_url, "/counter") as client:
                await client.synced()
                session_id = client.shell.session_id
                await client.ws.aclose(code=1000)
            actor = manager.session(session_id)
            with trio.move_on_after(GOING_AWAY * 3):
                await actor.done.wait()
            assert actor.state is SessionState.DISCONNECTED  # still there to resume
