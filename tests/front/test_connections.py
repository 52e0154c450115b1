"""HTTP/1.1 connections on the page port end when they should, under the real hypercorn trio
worker: after ``Connection: close``, and when a kept-alive connection idles past the
keep-alive timeout. (hypercorn closes them from inside the app's last ``send``, which
quart-trio cancels; an open connection per client up to the fd limit was the result.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import h11
import pytest
import trio

from tests.servers import serving_in_process
from vango_actors.front import create_app

from .routes_fixture import live, make_package, static

FILES = {"index.py": static("home", title="Home"), "counter.py": live("count me")}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[str, int]]:
    app = create_app(make_package(tmp_path, FILES), secret_keys="k1")
    async with serving_in_process(app, keep_alive_timeout=1) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        yield host, int(port)


async def _exchange(
    stream: trio.SocketStream, conn: h11.Connection, path: str, close: bool
) -> tuple[int, bytes]:
    """One request on ``stream``; the response's status and body."""
    headers = [("Host", "127.0.0.1")] + ([("Connection", "close")] if close else [])
    await stream.send_all(conn.send(h11.Request(method="GET", target=path, headers=headers)))
    await stream.send_all(conn.send(h11.EndOfMessage()))
    status, body = 0, b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await stream.receive_some(65536))
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            return status, body


async def _eof_within(stream: trio.SocketStream, seconds: float) -> bool:
    """The server closed its side within ``seconds`` (data after the response: not EOF)."""
    with trio.move_on_after(seconds):
        return await stream.receive_some(65536) == b""
    return False


@pytest.mark.parametrize("path", ["/", "/counter", "/missing"])
async def test_connection_close_ends_the_connection(server: tuple[str, int], path: str) -> None:
    stream = await trio.open_tcp_stream(*server)
    async with stream:
        status, body = await _exchange(stream, h11.Connection(h11.CLIENT), path, close=True)
        assert status == (404 if path == "/missing" else 200) and body
        assert await _eof_within(stream, 3), "the server kept the connection open"


async def test_idle_kept_alive_connection_ends_after_the_timeout(
    server: tuple[str, int],
) -> None:
    stream = await trio.open_tcp_stream(*server)
    async with stream:
        conn = h11.Connection(h11.CLIENT)
        for path in ("/", "/counter"):  # kept alive: a second request on the same connection
            status, body = await _exchange(stream, conn, path, close=False)
            assert status == 200 and body
            conn.start_next_cycle()
        assert await _eof_within(stream, 4), "an idle connection outlived keep_alive_timeout=1"


async def test_connection_with_half_a_request_ends_after_the_timeout(
    server: tuple[str, int],
) -> None:
    stream = await trio.open_tcp_stream(*server)
    async with stream:
        await stream.send_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the end
        assert await _eof_within(stream, 4), "a slowloris connection outlived the timeout"
