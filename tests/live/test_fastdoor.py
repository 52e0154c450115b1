"""The fast door's own parts: RFC 6455 framing (sans-IO) and what its listener refuses.

The connection logic behind it is live.py's, tested through both doors in test_socket.py.
"""

from __future__ import annotations

import errno
import logging
import os
import socket

import pytest
import trio
import trio.testing

from vango_actors.fastdoor import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    Control,
    FrameReader,
    _accept_loop,
    frame,
)
from vango_actors.protocol import (
    VERSION,
    CloseCode,
    ErrorCode,
    Hello,
    ProtocolError,
    Welcome,
    decode,
    encode,
)

from ..liveclient import http_get, load_page, open_live, open_page
from .test_socket import TIMEOUT, Server, running_app

MASK = b"\x01\x02\x03\x04"


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bytes = MASK) -> bytes:
    """A frame as a browser sends it: masked (``mask=b""``: unmasked, which is illegal)."""
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    masked = 0x80 if mask else 0
    if n < 126:
        head = bytes((first, masked | n))
    elif n < 65536:
        head = bytes((first, masked | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((first, masked | 127)) + n.to_bytes(8, "big")
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if mask else payload
    return head + mask + body


def read_all(data: bytes, max_message: int = 65536) -> list[bytes | Control]:
    reader = FrameReader(max_message)
    reader.feed(data)
    out = []
    while (item := reader.next()) is not None:
        out.append(item)
    return out


# ------------------------------------------------------------------------------ framing


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536])
def test_a_masked_binary_frame_of_any_length_class_is_one_message(size: int) -> None:
    payload = os.urandom(size)
    assert read_all(client_frame(OP_BINARY, payload), max_message=1 << 20) == [payload]


def test_bytes_arriving_one_at_a_time_make_the_same_messages() -> None:
    data = (
        client_frame(OP_BINARY, b"first")
        + client_frame(OP_PING, b"p")
        + client_frame(OP_BINARY, b"second" * 30)
    )
    reader, out = FrameReader(65536), []
    for byte in data:
        reader.feed(bytes([byte]))
        while (item := reader.next()) is not None:
            out.append(item)
    assert out == [b"first", Control(OP_PING, b"p"), b"second" * 30]


def test_a_fragmented_message_is_joined_and_control_frames_may_interleave() -> None:
    data = (
        client_frame(OP_BINARY, b"ab", fin=False)
        + client_frame(OP_PING, b"")
        + client_frame(0x0, b"cd", fin=False)
        + client_frame(0x0, b"ef")
    )
    assert read_all(data) == [Control(OP_PING, b""), b"abcdef"]


def test_a_close_frame_carries_its_code() -> None:
    [close] = read_all(client_frame(OP_CLOSE, (1000).to_bytes(2, "big") + b"bye"))
    assert isinstance(close, Control) and close.close_code() == 1000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            client_frame(OP_BINARY, b"x", mask=b""),
            "unmasked WebSocket frame: a client must mask every frame",
        ),
        (bytes((0xC2, 0x80)) + MASK, "WebSocket frame with RSV bits set: no extension was agreed"),
        (client_frame(0x3, b""), "unknown WebSocket opcode 0x3"),
        (client_frame(OP_PING, b"x" * 126), "WebSocket control frame fragmented or over 125 bytes"),
        (client_frame(0x0, b"x"), "WebSocket continuation frame without a message to continue"),
        (
            client_frame(OP_BINARY, b"a", fin=False) + client_frame(OP_BINARY, b"b"),
            "new WebSocket message while a fragmented one is unfinished",
        ),
    ],
)
def test_frames_a_client_may_not_send_are_protocol_errors(data: bytes, message: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        read_all(data)
    assert (caught.value.message, caught.value.close_code) == (message, CloseCode.PROTOCOL_ERROR)


def test_an_oversize_message_is_refused_from_its_header_alone() -> None:
    header_only = bytes((0x82, 0xFF)) + (1 << 30).to_bytes(8, "big")
    with pytest.raises(ProtocolError) as caught:
        read_all(header_only)
    error = caught.value
    assert error.message == f"frame of {1 << 30} bytes exceeds the limit of 65536 bytes"
    assert (error.code, error.close_code) == (ErrorCode.TOO_BIG, CloseCode.TOO_BIG)


@pytest.mark.parametrize("cut", [1, 9, 40, 70_000])
def test_after_an_oversize_frame_the_peers_close_still_reads(cut: int) -> None:
    # The door lingers after its CLOSE 1009 to read the peer's CLOSE: the refused frame's
    # bytes, arriving in pieces, are dropped (not buffered), and the frames after it parse.
    data = client_frame(OP_BINARY, b"x" * 70_000) + client_frame(
        OP_CLOSE, (1009).to_bytes(2, "big")
    )
    pieces = [data[:cut]] + [data[at : at + 4096] for at in range(cut, len(data), 4096)]
    reader, out, errors = FrameReader(65536), [], []
    for piece in pieces:
        reader.feed(piece)
        for _ in range(10):  # (bounded: a reader stuck on the refused header raises each time)
            try:
                item = reader.next()
            except ProtocolError as error:
                errors.append(error.close_code)
                continue
            if item is None:
                break
            out.append(item)
        assert len(reader._buffer) < 4096  # the 70 KB are never held
    assert errors == [CloseCode.TOO_BIG]
    assert out == [Control(OP_CLOSE, (1009).to_bytes(2, "big"))]


def test_fragments_count_toward_the_limit_together() -> None:
    data = client_frame(OP_BINARY, b"x" * 40, fin=False) + client_frame(0x0, b"y" * 40)
    with pytest.raises(ProtocolError, match="frame of 80 bytes exceeds the limit of 64 bytes"):
        read_all(data, max_message=64)


def test_a_message_of_endless_empty_frames_is_refused() -> None:
    # empty continuation frames carry no byte for the size limit to count: they were
    # collected for ever (and read without a pause: one client froze the worker)
    empty = client_frame(0x0, b"", fin=False)
    with pytest.raises(ProtocolError) as caught:
        read_all(client_frame(OP_BINARY, b"\x95", fin=False) + empty * 10_000)
    assert caught.value.message == "WebSocket message in more than 128 frames"
    assert caught.value.close_code == CloseCode.TOO_BIG
    assert read_all(client_frame(OP_BINARY, b"a", fin=False) + empty * 126 + client_frame(0, b"b"))


@pytest.mark.parametrize("size", [5, 200, 70000])
def test_only_a_whole_frame_counts_as_buffered(size: int) -> None:
    data = client_frame(OP_BINARY, b"x" * size)
    for cut in (1, 2, 3, 9, len(data) - 1):
        reader = FrameReader(1 << 20)
        reader.feed(data[:cut])
        assert not reader.has_frame(), cut
        reader.feed(data[cut:])
        assert reader.has_frame()
        assert reader.next() == b"x" * size
        assert not reader.has_frame()


def test_a_text_message_is_refused_with_1003() -> None:
    with pytest.raises(ProtocolError) as caught:
        read_all(client_frame(0x1, b"hi"))
    assert caught.value.close_code == CloseCode.UNSUPPORTED_DATA


@pytest.mark.parametrize(("size", "header"), [(125, 2), (126, 4), (65535, 4), (65536, 10)])
def test_server_frames_use_the_shortest_length_header(size: int, header: int) -> None:
    encoded = frame(OP_BINARY, b"z" * size)
    assert len(encoded) == size + header and encoded[0] == 0x82


# ----------------------------------------------------------------------------- listener


async def test_pages_point_their_client_at_the_fast_door() -> None:
    with trio.fail_after(TIMEOUT):
        async with running_app("fast") as server:
            shell = await load_page(server.base_url, "/counter")
            port = server.app.front.live_port
            assert port is not None and f":{port}" not in server.base_url
            assert shell.live_url == f"ws://127.0.0.1:{port}/vango/live/{shell.session_id}"


async def test_the_fast_door_refuses_other_paths_and_plain_http() -> None:
    with trio.fail_after(TIMEOUT):
        async with running_app("fast") as server:
            door = f"http://127.0.0.1:{server.app.front.live_port}"
            assert (await http_get(door + "/vango/live/x")).status == 400  # no upgrade
            upgrade = [
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13"),
            ]
            assert (await http_get(door + "/elsewhere", upgrade)).status == 404


async def test_the_live_ports_own_origin_is_not_the_pages() -> None:
    with trio.fail_after(TIMEOUT):
        async with running_app("fast") as server:
            shell = await load_page(server.base_url, "/counter")
            door_origin = f"http://127.0.0.1:{server.app.front.live_port}"
            async with open_live(server.base_url, shell, origin=door_origin) as client:
                closed = await client.wait_closed()
            expected = f"Origin {door_origin!r} is not allowed: expected '{server.base_url}'"
            assert [(e.code, e.message) for e in client.errors] == [
                (ErrorCode.BAD_ORIGIN, expected)
            ]
            assert closed.code == CloseCode.POLICY_VIOLATION


async def test_websocket_level_pings_are_answered_and_the_page_stays_live() -> None:
    with trio.fail_after(TIMEOUT):
        async with running_app("fast") as server, open_page(server.base_url, "/counter") as client:
            await client.ws.ping(b"are you there")  # returns once the PONG arrived
            for _ in range(3):
                await client.click("#inc")
            await client.synced()
            assert client.text("#count") == "3"


def _upgrade(server: Server, session_id: str) -> tuple[int, bytes]:
    """The fast door's port and a browser's upgrade request to it for ``session_id``."""
    port = server.app.front.live_port
    assert port is not None
    request = (
        f"GET /vango/live/{session_id} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nOrigin: {server.base_url}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    return port, request


async def _hello_sent(server: Server) -> trio.SocketStream:
    """A raw socket to the fast door that sent a page's upgrade request and its HELLO, in one
    segment (a client may send its first frame before the 101)."""
    shell = await load_page(server.base_url, "/counter")
    port, request = _upgrade(server, shell.session_id)
    hello = Hello(VERSION, shell.session_id, shell.token, 0, 0, "/counter")
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(request + client_frame(OP_BINARY, encode(hello)))
    return stream


async def test_a_hello_sent_with_the_upgrade_request_is_not_lost() -> None:
    """A client may send its first frame right behind the upgrade request, in the same TCP
    segment, without waiting for the 101: the door must keep those bytes for the connection."""
    with trio.fail_after(TIMEOUT):
        async with running_app("fast") as server:
            stream = await _hello_sent(server)
            async with stream:
                received = b""
                while b"\r\n\r\n" not in received:
                    received += await stream.receive_some(65536)
                head, _, rest = received.partition(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 101 ")
                while (first := server_message(rest)) is None:
                    rest += await stream.receive_some(65536)
                assert type(decode(first)) is Welcome


async def test_a_frame_begun_and_never_finished_does_not_keep_the_socket_alive() -> None:
    """A peer that sends the first bytes of a frame and then nothing is silent: the heartbeat
    closes it (4003) as it closes any silent peer, instead of counting the half frame it
    already read as bytes still waiting (a session held open for ever by 20 bytes)."""
    with trio.fail_after(TIMEOUT):
        async with running_app("fast", heartbeat_ms=500) as server:
            stream = await _hello_sent(server)
            async with stream:
                await stream.send_all(client_frame(OP_BINARY, b"x" * 50)[:20])
                received = b""
                with trio.move_on_after(6):  # 2.5 heartbeats are 1.25 s
                    while more := await stream.receive_some(65536):
                        received += more
            closing = received[received.rindex(bytes((0x80 | OP_CLOSE,))) :]
            assert int.from_bytes(closing[2:4], "big") == CloseCode.IDLE_TIMEOUT
            assert server.stats.heartbeat_timeouts == 1


async def test_websocket_pings_are_answered_at_the_event_rate_and_none_is_lost() -> None:
    """A WebSocket-level PING costs the server a read and a write like a protocol PING, and
    no browser sends one: a flood of them is slowed to the session's event rate (before: every
    one answered at once, a single socket taking most of the worker's CPU)."""
    with trio.fail_after(TIMEOUT):
        async with running_app("fast", event_rate=50, event_burst=20) as server:
            stream = await _hello_sent(server)
            async with stream:
                received = b""
                while b"\r\n\r\n" not in received:
                    received += await stream.receive_some(65536)
                start = trio.current_time()
                await stream.send_all(client_frame(OP_PING, b"ping!") * 60)
                pong = bytes((0x80 | OP_PONG, 5)) + b"ping!"
                early = None
                while received.count(pong) < 60:
                    received += await stream.receive_some(65536)
                    if early is None and trio.current_time() - start >= 0.3:
                        early = received.count(pong)
                took = trio.current_time() - start
            # 20 at once, then 50 a second: the 60th after 0.8 s
            assert took >= 0.7, (took, early)
            assert early is None or early <= 20 + 0.3 * 50 + 5


async def test_sockets_that_never_finish_the_upgrade_count_toward_the_address_limit() -> None:
    """Before its upgrade a socket holds a file descriptor and a task for up to the handshake
    timeout: one address may hold at most the per-address limit of them, as of live sockets
    (before: any number, up to the process's file descriptors, page port included)."""
    with trio.fail_after(TIMEOUT):
        async with running_app("fast", max_connections_per_address=3) as server:
            shell = await load_page(server.base_url, "/counter")
            port, request = _upgrade(server, shell.session_id)
            idle = [await trio.open_tcp_stream("127.0.0.1", port) for _ in range(3)]
            await trio.sleep(0.2)  # accepted, waiting for their request
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                await stream.send_all(request)
                received = b""
                with trio.move_on_after(3):
                    while more := await stream.receive_some(65536):
                        received += more
            assert not received.startswith(b"HTTP/1.1 101"), received
            assert server.stats.refused_connections == 1
            for each in idle:
                await each.aclose()
            await trio.sleep(0.2)
            async with open_page(server.base_url, "/counter") as client:  # free again
                await client.click("#inc")
                await client.synced()
                assert client.text("#count") == "1"


async def test_a_flood_of_empty_frames_is_closed_and_other_sessions_go_on() -> None:
    with trio.fail_after(TIMEOUT):
        async with running_app("fast") as server, open_page(server.base_url, "/counter") as other:
            shell = await load_page(server.base_url, "/counter")
            port, request = _upgrade(server, shell.session_id)
            flood = client_frame(OP_BINARY, b"\x95", fin=False)
            flood += client_frame(0x0, b"", fin=False) * 200  # no payload byte to count
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                await stream.send_all(request)
                received = b""
                while b"\r\n\r\n" not in received:
                    received += await stream.receive_some(65536)
                received = received.partition(b"\r\n\r\n")[2]
                await stream.send_all(flood)
                while (1009).to_bytes(2, "big") not in received:  # CLOSE TOO_BIG
                    received += await stream.receive_some(65536)  # (before: waited for more)
            await other.click("#inc")
            await other.synced()
            assert other.text("#count") == "1"


@pytest.mark.parametrize(
    ("payload", "answer"),
    [
        ((1000).to_bytes(2, "big") + b"bye", 1000),  # echoed
        ((999).to_bytes(2, "big"), 1002),  # not a close code
        ((1005).to_bytes(2, "big"), 1002),  # reserved: never sent on the wire
        (b"\x03", 1002),  # one byte: half a code
        ((1000).to_bytes(2, "big") + b"\xff\xfe", 1007),  # a reason that is not UTF-8
    ],
)
async def test_a_close_frame_is_echoed_if_valid_and_answered_1002_if_not(
    payload: bytes, answer: int
) -> None:
    with trio.fail_after(TIMEOUT):
        async with running_app("fast") as server:
            shell = await load_page(server.base_url, "/counter")
            port, request = _upgrade(server, shell.session_id)
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                await stream.send_all(request + client_frame(OP_CLOSE, payload))
                received = b""
                while more := await stream.receive_some(65536):
                    received += more
            closing = received.partition(b"\r\n\r\n")[2]
            assert closing[0] == 0x80 | OP_CLOSE
            assert int.from_bytes(closing[2:4], "big") == answer


def server_message(data: bytes) -> bytes | None:
    """The payload of the first (unmasked, unfragmented) server frame in ``data``, if whole."""
    if len(data) < 4:
        return None
    assert data[0] == 0x80 | OP_BINARY and data[1] <= 126
    size, start = (data[1], 2) if data[1] < 126 else (int.from_bytes(data[2:4], "big"), 4)
    return data[start : start + size] if len(data) >= start + size else None


async def test_an_idle_fast_door_connection_is_one_task_without_a_nursery() -> None:
    """Memory per idle session: the connection's task waits for its outbox, the heartbeat and
    the reader's failure at once (no writer task, no nursery); the actor reads the socket."""
    with trio.fail_after(TIMEOUT):
        async with running_app("fast") as server, open_page(server.base_url, "/counter") as client:
            await client.click("#inc")
            await client.synced()
            await trio.testing.wait_all_tasks_blocked(0.05)
            tasks, stack = [], [trio.lowlevel.current_root_task()]
            while stack:
                task = stack.pop()
                tasks.append(task)
                stack.extend(t for n in task.child_nurseries for t in n.child_tasks)
            [connection] = [t for t in tasks if t.name.endswith("_serve_socket")]
            assert connection.child_nurseries == []
            # The session actor waits on its socket directly: no read coroutine of its own
            # (read_event, receive, _fill) is kept suspended per idle session.
            [session] = [t for t in tasks if t.name.endswith("_run_session")]
            waiting = _awaited_names(session.coro)
            assert "_serve_reads" in waiting and "wait_readable" in waiting
            assert not {"read_event", "receive", "_fill"} & set(waiting)


def _awaited_names(coro: object) -> list[str]:
    """The names of the coroutines ``coro`` awaits, outermost first."""
    names = []
    while coro is not None and hasattr(coro, "cr_code"):
        names.append(coro.cr_code.co_name)
        coro = coro.cr_await
    return names


class _Exhausted:
    """A listening socket whose ``accept`` fails with EMFILE ``failures`` times first."""

    def __init__(self, listener: socket.socket, failures: int) -> None:
        self.listener, self.failures = listener, failures

    def fileno(self) -> int:
        return self.listener.fileno()

    def accept(self) -> tuple[socket.socket, object]:
        if self.failures:
            self.failures -= 1
            raise OSError(errno.EMFILE, "Too many open files")
        return self.listener.accept()


async def test_running_out_of_file_descriptors_is_logged_once_not_ten_times_a_second(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A flood of connections that takes every fd makes each accept fail until some close:
    one line when accepting starts failing and one when it works again, not one per retry
    (10 a second, for as long as the flood lasts)."""
    listener = socket.socket()
    client = socket.socket()
    with listener, client:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        client.connect(listener.getsockname())  # waits in the backlog: the listener is readable
        served = trio.Event()

        async def handler(sock: socket.socket, peer: str) -> None:
            sock.close()
            served.set()

        caplog.set_level(logging.INFO, logger="vango_actors.fastdoor")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                _accept_loop,
                _Exhausted(listener, 600),  # a minute of failed retries
                nursery,
                handler,
            )
            await served.wait()
            nursery.cancel_scope.cancel()
    lines = [r.getMessage() for r in caplog.records if r.name == "vango_actors.fastdoor"]
    assert len(lines) == 2, lines
    assert "cannot accept" in lines[0] and "Too many open files" in lines[0]
    assert "accepting again" in lines[1] and "600" in lines[1]
