"""The live socket through the real app (``create_app``) under real hypercorn, on loopback.

Every kind of bad input gets its ERROR code, message and close code, and afterwards a
correct reconnect to the same session finds its state (the counter value) intact.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import attrs
import pytest
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from vango_actors.front import VangoApp, create_app
from vango_actors.live import LiveStats
from vango_actors.protocol import CloseCode, ErrorCode, Event, Hello, Reload
from vango_actors.tokens import TokenClaims, TokenSigner

from ..liveclient import Closed, LiveClient, PageShell, load_page, open_live, open_page

KEY = "live-test-key"
TIMEOUT = 10  # s: every test is bounded


@attrs.frozen
class Server:
    base_url: str
    app: VangoApp
    scope: trio.CancelScope  # cancel it to kill the server (and only the server)
    stopped: trio.Event  # set once serve() returned: every server task has ended

    @property
    def stats(self) -> LiveStats:
        return self.app.front.live_stats


@asynccontextmanager
async def running_app(door: str = "asgi", **overrides: Any) -> AsyncIterator[Server]:
    """The real app on a free loopback port, served by hypercorn's trio worker in-process;
    ``door="fast"`` also serves the fast live door on another free port (pages point there)."""
    if door == "fast":
        overrides.setdefault("live_port", 0)
    app = create_app("app_routes", secret_keys=(KEY,), **overrides)
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    stop, stopped, scope = trio.Event(), trio.Event(), trio.CancelScope()

    async def run(task_status: trio.TaskStatus[list[str]]) -> None:
        with scope:
            await serve(app, config, shutdown_trigger=stop.wait, task_status=task_status)
        stopped.set()

    async with trio.open_nursery() as nursery:
        binds = await nursery.start(run)
        yield Server(binds[0], app, scope, stopped)
        stop.set()


@pytest.fixture
async def server(door: str) -> AsyncIterator[Server]:
    async with running_app(door, token_max_age=60) as running:
        yield running


async def count_after_reconnect(server: Server, shell: PageShell) -> str:
    """Reconnect to ``shell``'s session the correct way and read ``#count``."""
    async with open_live(server.base_url, shell) as client:
        await client.hello()
        welcome = await client.connected()
        assert welcome.resumed
        await client.wait_for(lambda: client.seq == welcome.seq)  # catch-up applied
        return client.text("#count")


async def counter_at_one(server: Server) -> PageShell:
    """A /counter session whose count is 1, left disconnected."""
    async with open_page(server.base_url, "/counter") as client:
        await client.click("#inc")
        await client.synced()
        assert client.text("#count") == "1"
        return client.shell


async def refused(
    server: Server,
    shell: PageShell,
    attempt: Callable[[LiveClient], Awaitable[None]],
    **options: Any,
) -> tuple[list[tuple[int, str]], Closed]:
    """Open a socket, run ``attempt`` on it; return the ERROR frames and how it closed."""
    async with open_live(server.base_url, shell, **options) as client:
        await attempt(client)
        closed = await client.wait_closed()
        return [(e.code, e.message) for e in client.errors], closed


# ------------------------------------------------------------------------ the happy path


async def test_clicks_update_the_counter_over_the_live_socket(server: Server) -> None:
    with trio.fail_after(TIMEOUT):
        async with open_page(server.base_url, "/counter") as client:
            assert client.text("#count") == "0"
            for _ in range(3):
                await client.click("#inc")
            await client.synced()
            assert client.text("#count") == "3"
        assert server.stats.connections_total == 1


async def test_a_second_connection_replaces_the_first_with_4002(server: Server) -> None:
    with trio.fail_after(TIMEOUT):
        async with open_page(server.base_url, "/counter") as first:
            await first.click("#inc")
            await first.synced()
            async with open_live(server.base_url, first.shell) as second:
                await second.hello()
                await second.connected()
                closed = await first.wait_closed()
                assert closed == Closed(
                    CloseCode.REPLACED, "another connection claimed the session"
                )
                await second.click("#inc")
                await second.synced()
                assert second.text("#count") == "2"


async def test_a_client_hanging_up_detaches_its_session(server: Server) -> None:
    with trio.fail_after(TIMEOUT):
        manager = server.app.front.manager
        assert manager is not None
        async with open_page(server.base_url, "/counter"):
            assert manager.statistics().live == 1
        while server.stats.connections_open:  # the server notices the close asynchronously
            await trio.sleep(0.005)
        counts = manager.statistics()
        assert (counts.live, counts.disconnected) == (0, 1)


# ---------------------------------------------------------------------------- refusals


async def test_a_forged_token_is_refused_and_the_session_survives(server: Server) -> None:
    with trio.fail_after(TIMEOUT):
        shell = await counter_at_one(server)
        forged = TokenSigner(["not-the-key"]).sign(TokenClaims(shell.session_id, "/counter"))
        errors, closed = await refused(server, shell, lambda c: c.hello(token=forged))
        assert errors == [
            (ErrorCode.BAD_TOKEN, "token signature is invalid (forged, damaged or unknown key)")
        ]
        assert closed.code == CloseCode.POLICY_VIOLATION
        assert server.stats.bad_tokens == 1
        assert await count_after_reconnect(server, shell) == "1"


async def test_an_expired_token_is_refused_and_says_so(server: Server) -> None:
    with trio.fail_after(TIMEOUT):
        shell = await counter_at_one(server)
        old = TokenSigner([KEY], clock=lambda: time.time() - 120)
        expired = old.sign(TokenClaims(shell.session_id, "/counter"))
        reloads: list[Reload] = []

        async def hello_and_watch(client: LiveClient) -> None:
            await client.hello(token=expired)
            await client.wait_closed()
            reloads.extend(client.reloads)

        errors, closed = await refused(server, shell, hello_and_watch)
        [(code, message)] = errors
        assert code == ErrorCode.BAD_TOKEN
        assert re.fullmatch(r"token expired: signed 12[01] s ago, max age is 60 s", message)
        assert [r.reason for r in reloads] == [message]  # the page fetches a fresh token
        assert closed.code == CloseCode.POLICY_VIOLATION
        assert await count_after_reconnect(server, shell) == "1"


async def test_another_sessions_token_is_refused(server: Server) -> None:
    with trio.fail_after(TIMEOUT):
        shell = await counter_at_one(server)
        other = await load_page(server.base_url, "/counter")
        errors, closed = await refused(server, shell, lambda c: c.hello(token=other.token))
        assert errors == [(ErrorCode.BAD_TOKEN, "token was issued for another session")]
        assert closed.code == CloseCode.POLICY_VIOLATION
        assert await count_after_reconnect(server, shell) == "1"


async def nothing(client: LiveClient) -> None:
    pass


async def test_a_wrong_origin_is_refused_before_hello(server: Server) -> None:
    with trio.fail_after(TIMEOUT):
        shell = await counter_at_one(server)
        errors, closed = await refused(server, shell, nothing, origin="http://evil.example")
        expected = f"Origin 'http://evil.example' is not allowed: expected '{server.base_url}'"
        assert errors == [(ErrorCode.BAD_ORIGIN, expected)]
        assert closed == Closed(CloseCode.POLICY_VIOLATION, expected)
        assert server.stats.refused_origins == 1
        assert await count_after_reconnect(server, shell) == "1"


async def test_a_missing_origin_is_refused(server: Server) -> None:
    with trio.fail_after(TIMEOUT):
        shell = await counter_at_one(server)
        # refused on accept, before HELLO: sending one could race the close
        errors, closed = await refused(server, shell, nothing, origin=None)
        expected = f"missing Origin header: expected '{server.base_url}'"
        assert errors == [(ErrorCode.BAD_ORIGIN, expected)]
        assert closed.code == CloseCode.POLICY_VIOLATION
        assert await count_after_reconnect(server, shell) == "1"


async def test_an_allowed_foreign_origin_may_connect(door: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with running_app(door, allowed_origins=("https://app.example",)) as server:
            shell = await load_page(server.base_url, "/counter")
            async with open_live(server.base_url, shell, origin="https://app.example") as client:
                await client.hello()
                await client.connected()


async def test_an_unknown_session_is_told_to_reload(door: str) -> None:
    """Unknown here and not remountable (its route is gone): RELOAD. (A token for a live
    route remounts instead: tests/fault/test_remount.py.)"""
    with trio.fail_after(TIMEOUT):
        async with running_app(door) as server:
            real = await load_page(server.base_url, "/counter")
            ghost_id = "x" * 32
            token = TokenSigner([KEY]).sign(TokenClaims(ghost_id, "/gone"))
            live_url = real.live_url and real.live_url.replace(real.session_id, ghost_id)
            ghost = attrs.evolve(real, session_id=ghost_id, token=token, live_url=live_url)
            async with open_live(server.base_url, ghost) as client:
                await client.hello()
                closed = await client.wait_closed()
            detail = "no live page '/gone' to remount here"
            reason = f"session {ghost_id!r} not found (unknown): {detail}"
            assert client.reloads == [Reload(reason)]
            assert closed.code == CloseCode.SESSION_GONE
            assert server.stats.sessions_gone == 1


# --------------------------------------------------------------------- protocol errors


async def hello_then(data: bytes | str, client: LiveClient) -> None:
    await client.hello()
    await client.connected()
    await client.send_raw(data)


@pytest.mark.parametrize(
    ("data", "error", "close_code"),
    [
        pytest.param(
            b"\xc1",
            (ErrorCode.PROTOCOL, "invalid msgpack: malformed data (reserved type byte 0xc1?)"),
            CloseCode.PROTOCOL_ERROR,
            id="malformed",
        ),
        pytest.param(
            b"\x00" * 70_000,
            (ErrorCode.TOO_BIG, "frame of 70000 bytes exceeds the limit of 65536 bytes"),
            CloseCode.TOO_BIG,
            id="oversize",
        ),
        pytest.param(
            "hello",
            (ErrorCode.PROTOCOL, "expected a binary message, got a text message"),
            CloseCode.UNSUPPORTED_DATA,
            id="text",
        ),
    ],
)
async def test_a_bad_frame_after_hello_gets_an_error_and_the_session_survives(
    server: Server, data: bytes | str, error: tuple[int, str], close_code: int
) -> None:
    with trio.fail_after(TIMEOUT):
        shell = await counter_at_one(server)
        errors, closed = await refused(server, shell, partial(hello_then, data))
        assert errors == [error]
        assert closed == Closed(close_code, error[1])
        assert server.stats.protocol_errors == 1
        assert await count_after_reconnect(server, shell) == "1"


async def test_a_frame_before_hello_is_a_protocol_error(server: Server) -> None:
    async def event_first(client: LiveClient) -> None:
        await client.send_frame(Event(1, client.hid("#inc"), "click", {}))

    with trio.fail_after(TIMEOUT):
        shell = await counter_at_one(server)
        errors, closed = await refused(server, shell, event_first)
        assert errors == [(ErrorCode.PROTOCOL, "expected HELLO as the first frame, got EVENT")]
        assert closed.code == CloseCode.PROTOCOL_ERROR
        assert await count_after_reconnect(server, shell) == "1"


async def test_hello_twice_is_a_protocol_error(server: Server) -> None:
    async def hello_twice(client: LiveClient) -> None:
        await client.hello()
        await client.connected()
        await client.hello()

    with trio.fail_after(TIMEOUT):
        shell = await counter_at_one(server)
        errors, closed = await refused(server, shell, hello_twice)
        message = "unexpected HELLO: a connection sends HELLO once, first"
        assert errors == [(ErrorCode.PROTOCOL, message)]
        assert closed.code == CloseCode.PROTOCOL_ERROR
        assert await count_after_reconnect(server, shell) == "1"


async def test_hello_for_another_session_id_than_the_url_is_a_protocol_error(
    server: Server,
) -> None:
    async def mismatched(client: LiveClient) -> None:
        await client.send_frame(Hello(1, "y" * 32, client.shell.token, 0, 0, "/"))

    with trio.fail_after(TIMEOUT):
        shell = await counter_at_one(server)
        errors, closed = await refused(server, shell, mismatched)
        message = f"HELLO names session {'y' * 32!r}, the socket URL names {shell.session_id!r}"
        assert errors == [(ErrorCode.PROTOCOL, message)]
        assert closed.code == CloseCode.PROTOCOL_ERROR


async def test_another_protocol_version_is_told_to_reload(server: Server) -> None:
    with trio.fail_after(TIMEOUT):
        shell = await counter_at_one(server)
        errors, closed = await refused(server, shell, lambda c: c.hello(version=2))
        message = "HELLO: unsupported protocol version 2, this server speaks version 1"
        assert errors == [(ErrorCode.UNSUPPORTED_VERSION, message)]
        assert closed.code == CloseCode.SESSION_GONE
        assert await count_after_reconnect(server, shell) == "1"


async def test_an_event_for_an_unknown_hid_is_reported_and_the_connection_goes_on(
    server: Server,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with open_page(server.base_url, "/counter") as client:
            await client.send_event(99_999, "click")
            await client.synced()
            [error] = client.errors
            assert error.code == ErrorCode.UNKNOWN_TARGET
            assert "99999" in error.message
            await client.click("#inc")
            await client.synced()
            assert client.text("#count") == "1"
            assert client.closed is None


# ------------------------------------------------------------------------- cancellation


async def test_cancelling_the_server_closes_live_sockets_and_leaves_no_tasks(door: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with running_app(door) as server:
            async with open_page(server.base_url, "/counter") as client:
                await client.click("#inc")
                await client.synced()
                server.scope.cancel()
                closed = await client.wait_closed()
            await server.stopped.wait()  # serve() returned: no server task is left
        assert closed.code == CloseCode.GOING_AWAY
        assert server.stats.connections_open == 0
