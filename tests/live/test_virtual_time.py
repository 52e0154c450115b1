"""The live connection under virtual time (autojump_clock) over an in-memory socket.

Heartbeat, HELLO timeout and cancellation against the real runtime; exact virtual times.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import trio

from vango_actors import dom
from vango_actors.fastdoor import OP_BINARY, OP_CLOSE, FastTransport
from vango_actors.live import LiveSettings, LiveStats, Transport, serve_connection
from vango_actors.manager import SessionManager, open_runtime
from vango_actors.poller import ReadPoller
from vango_actors.protocol import (
    VERSION,
    CloseCode,
    Error,
    ErrorCode,
    Event,
    Hello,
    Patches,
    Ping,
    Pong,
    Welcome,
    decode,
    encode,
)
from vango_actors.tokens import TokenClaims, TokenSigner

from .memtransport import MemoryPeer, memory_socket
from .pages import Counter
from .test_fastdoor import client_frame

HEARTBEAT_MS = 1000


@attrs.define
class Live:
    """A runtime with one counter session, and a way to open sockets to it."""

    nursery: trio.Nursery
    manager: SessionManager
    session_id: str
    token: str
    html: str
    settings: LiveSettings
    signer: TokenSigner
    stats: LiveStats = attrs.field(factory=LiveStats)

    def connect(self) -> tuple[MemoryPeer, trio.CancelScope]:
        """Serve a new in-memory socket in the background; cancel the scope to stop it."""
        server, peer = memory_socket()
        scope = trio.CancelScope()

        async def serve() -> None:
            with scope:
                await self.serve(server)

        self.nursery.start_soon(serve)
        return peer, scope

    async def serve(self, transport: Transport) -> None:
        """Serve one socket of this session (as a door does) until it ends."""
        await serve_connection(
            transport,
            session_id=self.session_id,
            origin="http://test",
            host="test",
            scheme="ws",
            manager=self.manager,
            signer=self.signer,
            settings=self.settings,
            stats=self.stats,
        )

    def hello(self, last_seq: int = 0, last_event: int = 0) -> Hello:
        return Hello(VERSION, self.session_id, self.token, last_seq, last_event, "/")


@asynccontextmanager
async def live_counter(**settings: object) -> AsyncIterator[Live]:
    signer = TokenSigner(["k"])
    async with (
        open_runtime(heartbeat_ms=HEARTBEAT_MS) as manager,
        trio.open_nursery() as nursery,
    ):
        created = await manager.create(Counter)
        token = signer.sign(TokenClaims(created.session_id, "/counter"))
        live_settings = LiveSettings(heartbeat_ms=HEARTBEAT_MS, **settings)  # type: ignore[arg-type]
        yield Live(nursery, manager, created.session_id, token, created.html, live_settings, signer)
        nursery.cancel_scope.cancel()


async def receive_until(peer: MemoryPeer, kind: type) -> object:
    while True:
        frame = await peer.receive()
        if frame is None or isinstance(frame, kind):
            return frame


async def test_a_silent_client_is_pinged_then_closed_with_4003_after_2_5_periods(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with live_counter() as live:
        peer, _ = live.connect()
        start = trio.current_time()
        await peer.send(live.hello())
        assert isinstance(await peer.receive(), Welcome)
        seen: list[tuple[float, object]] = []
        while (frame := await peer.receive()) is not None:
            seen.append((trio.current_time() - start, frame))
        assert seen == [(1.0, Ping(1)), (2.0, Ping(2))]
        assert trio.current_time() - start == 2.5
        assert peer.server.closed_with == (CloseCode.IDLE_TIMEOUT, "no frame for 2.5 s")
        assert live.stats.heartbeat_timeouts == 1


async def test_a_client_that_answers_pings_stays_connected(autojump_clock: trio.abc.Clock) -> None:
    async with live_counter() as live:
        peer, _ = live.connect()
        await peer.send(live.hello())
        assert isinstance(await peer.receive(), Welcome)
        for n in range(1, 11):
            assert await peer.receive() == Ping(n)
            await peer.send(Pong(n))
        assert peer.server.closed_with is None
        assert live.stats.heartbeat_timeouts == 0


async def test_a_client_ping_is_answered_and_counts_as_life(autojump_clock: trio.abc.Clock) -> None:
    async with live_counter() as live:
        peer, _ = live.connect()
        await peer.send(live.hello())
        assert isinstance(await peer.receive(), Welcome)
        await peer.send(Ping(77))
        assert await peer.receive() == Pong(77)


async def test_no_hello_within_the_timeout_gets_an_error_and_1002(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with live_counter(hello_timeout=3.0) as live:
        peer, _ = live.connect()
        start = trio.current_time()
        frame = await peer.receive()
        assert frame == Error(ErrorCode.PROTOCOL, "expected HELLO within 3 s, got nothing")
        assert await peer.receive() is None
        assert trio.current_time() - start == 3.0
        assert peer.server.closed_with == (
            CloseCode.PROTOCOL_ERROR,
            "expected HELLO within 3 s, got nothing",
        )
        assert live.stats.protocol_errors == 1


async def test_after_a_heartbeat_timeout_the_session_is_claimed_again_with_its_state(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with live_counter() as live:
        peer, _ = live.connect()
        await peer.send(live.hello())
        assert isinstance(await peer.receive(), Welcome)
        inc = await hid_of_inc(live)
        await peer.send(Event(1, inc, "click", {}))
        patches = await receive_until(peer, Patches)
        assert isinstance(patches, Patches) and patches.ack == 1
        assert await receive_until(peer, type(None)) is None  # silent: closed by heartbeat
        again, _ = live.connect()
        await again.send(live.hello(last_seq=patches.seq, last_event=1))
        welcome = await again.receive()
        assert isinstance(welcome, Welcome)
        assert (welcome.resumed, welcome.seq, welcome.ack) == (True, patches.seq, 1)


async def hid_of_inc(live: Live) -> int:
    """The hid of ``#inc`` in the page the runtime rendered."""
    (inc,) = dom.Document.from_html(live.html).select("#inc")
    assert inc.hid is not None
    return inc.hid


async def test_cancelling_the_connection_closes_1001_and_detaches(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with live_counter() as live:
        peer, scope = live.connect()
        await peer.send(live.hello())
        assert isinstance(await peer.receive(), Welcome)
        scope.cancel()
        assert await receive_until(peer, type(None)) is None
        assert peer.server.closed_with == (CloseCode.GOING_AWAY, "server shutting down")
        await trio.testing.wait_all_tasks_blocked()
        assert live.stats.connections_open == 0
        again, _ = live.connect()
        await again.send(live.hello())
        welcome = await again.receive()
        assert isinstance(welcome, Welcome) and welcome.resumed


async def test_over_the_fast_door_the_pollers_alarm_keeps_the_heartbeat(
    autojump_clock: trio.abc.Clock,
) -> None:
    """The fast door's connection waits on its poller's alarm (no cancel scope of its own):
    the same PINGs at each period and the same close after 2.5 silent periods, to the tick."""
    server_sock, client_sock = socket.socketpair()
    server_sock.setblocking(False)
    poller = ReadPoller()
    with client_sock:
        async with live_counter() as live, trio.open_nursery() as nursery:
            nursery.start_soon(poller.run)
            try:
                poller.register(server_sock)
                transport = FastTransport(server_sock, 1 << 20, poller=poller)

                async def serve() -> None:
                    with server_sock:
                        await live.serve(transport)
                        poller.forget(server_sock)

                nursery.start_soon(serve)
                start = trio.current_time()
                client = trio.socket.from_stdlib_socket(client_sock)
                await client.send(client_frame(OP_BINARY, encode(live.hello())))
                seen: list[tuple[float, object]] = []
                buffer = b""
                while data := await client.recv(65536):
                    buffer += data
                    while len(buffer) >= 2 and len(buffer) >= 2 + buffer[1]:  # short frames
                        opcode, payload = buffer[0] & 0x0F, buffer[2 : 2 + buffer[1]]
                        buffer = buffer[2 + buffer[1] :]
                        at = trio.current_time() - start
                        if opcode == OP_CLOSE:  # then the socket closes (no linger here)
                            seen.append((at, int.from_bytes(payload[:2], "big")))
                        else:
                            seen.append((at, type(decode(payload))))
            finally:
                poller.stop()
    assert seen == [(0.0, Welcome), (1.0, Ping), (2.0, Ping), (2.5, CloseCode.IDLE_TIMEOUT)]
    assert live.stats.heartbeat_timeouts == 1
