"""bench._lean's click loop against a scripted fake server (socket pairs, no real server):
the fast path acknowledges exactly the PATCHES answering the click in flight; every other
shape (PING coalesced, a split frame, a push with an older ack, a long frame, ERROR, RELOAD)
takes the general path and is handled as before."""

from __future__ import annotations

import os
import socket
import time

import msgpack  # type: ignore[import-untyped]
import pytest
import trio

from bench._lean import RawWS, click_loop, client_scheduling
from bench.load import SessionGone, VangoConn

INC = 7


def _server_frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((0x82, n)) + payload
    return bytes((0x82, 126)) + n.to_bytes(2, "big") + payload


class FakeSession:
    """The server end of one session: answers each EVENT as ``script(seq)`` says."""

    def __init__(self, sock: socket.socket, mode: str) -> None:
        self.stream = trio.SocketStream(trio.socket.from_stdlib_socket(sock))
        self.mode = mode
        self.patch_seq = 0
        self.answered = 0  # EVENTs answered by their acknowledging PATCHES
        self.pongs: list[int] = []
        self.pings = 0
        self.sent = 0
        self.early = 0  # frames that came while the answer was still incomplete
        self._buffer = b""

    def patches(self, ack: int, text: str = "1") -> bytes:
        self.patch_seq += 1
        return _server_frame(msgpack.packb([4, self.patch_seq, ack, [[3, 2, text]]]))

    async def send(self, data: bytes) -> None:
        self.sent += len(data)
        await self.stream.send_all(data)

    async def frames(self) -> list[list[object]]:
        """The client frames that arrived (mask key 0: payload as is)."""
        data = await self.stream.receive_some(65536)
        if not data:
            raise EOFError
        self._buffer += data
        found = []
        while len(self._buffer) >= 6 and len(self._buffer) >= 6 + (self._buffer[1] & 0x7F):
            size = self._buffer[1] & 0x7F
            assert size < 126 and self._buffer[2:6] == b"\0\0\0\0", self._buffer
            found.append(msgpack.unpackb(self._buffer[6 : 6 + size]))
            self._buffer = self._buffer[6 + size :]
        return found

    async def nothing_before_the_answer(self) -> None:
        """Wait 20 ms: a client taking what it got so far for the answer clicks again."""
        with trio.move_on_after(0.02):
            self.early += len(await self.frames())

    async def answer(self, seq: int) -> None:
        if self.mode == "error":
            await self.send(_server_frame(msgpack.packb([7, 3, "boom"])))
            return
        if self.mode == "reload":
            await self.send(_server_frame(msgpack.packb([8, "session expired"])))
            return
        shape = seq % 5
        if shape == 0:  # a PING coalesced before the answer
            self.pings += 1
            ping = _server_frame(msgpack.packb([5, seq]))
            await self.send(ping + self.patches(seq))
        elif shape == 1:  # the answer split over two sends
            frame = self.patches(seq)
            await self.send(frame[:-2])  # header, seq and ack whole; the ops cut short
            await self.nothing_before_the_answer()
            await self.send(frame[-2:])
        elif shape == 2:  # a push acknowledging the previous click, then the answer
            await self.send(self.patches(seq - 1))
            await self.nothing_before_the_answer()
            await self.send(self.patches(seq))
        elif shape == 3:  # a frame with a 16-bit length
            await self.send(self.patches(seq, "x" * 200))
        else:
            await self.send(self.patches(seq))
        self.answered += 1

    async def serve(self) -> None:
        try:
            while True:
                for frame in await self.frames():
                    if frame[0] == 6:
                        self.pongs.append(int(frame[1]))  # type: ignore[call-overload]
                    else:
                        assert frame[0] == 3 and frame[2:] == [INC, "click", {}], frame
                        await self.answer(int(frame[1]))  # type: ignore[call-overload]
        except (EOFError, trio.BrokenResourceError, trio.ClosedResourceError):
            pass


async def _run(
    mode: str, sessions: int = 2, seconds: float = 0.4
) -> tuple[object, list[FakeSession]]:
    counter = [0, 0]
    conns, fakes = [], []
    for _ in range(sessions):
        client, server = socket.socketpair()
        client.setblocking(False)
        conns.append(VangoConn(RawWS(client, counter, b""), INC))
        fakes.append(FakeSession(server, mode))
    now = time.time()
    error: Exception | None = None
    try:
        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                for fake in fakes:
                    nursery.start_soon(fake.serve)
                try:
                    result = await trio.to_thread.run_sync(
                        click_loop, conns, counter, (now - 1, now + seconds)
                    )
                except Exception as exc:  # raised out of the nursery, not in a group
                    error = exc
                finally:
                    for conn in conns:
                        conn.ws.sock.shutdown(socket.SHUT_RDWR)
    finally:
        for conn in conns:
            conn.ws.close()
        for fake in fakes:
            fake.stream.socket.close()
    if error is not None:
        raise error
    return result, fakes


async def test_every_reply_shape_acknowledges_exactly_its_click() -> None:
    result, fakes = await _run("mixed")
    answered = sum(f.answered for f in fakes)
    assert answered >= 10  # every shape came round at least once per session
    assert [f.early for f in fakes] == [0] * len(fakes)  # one click in flight, always
    # one acknowledgement counted per answered click (the last may be in flight at the end)
    assert answered - len(fakes) <= result.clicks <= answered  # type: ignore[attr-defined]
    assert len(result.latencies) == result.clicks  # type: ignore[attr-defined]
    assert all(0 < x < 5 for x in result.latencies)  # type: ignore[attr-defined]
    for fake in fakes:
        assert fake.pongs == [5 * i for i in range(1, fake.pings + 1)][: len(fake.pongs)]
        assert len(fake.pongs) >= fake.pings - 1
    # every byte the fake servers sent was counted (but what was still in flight)
    sent = sum(f.sent for f in fakes)
    assert sent - 2 * 220 * len(fakes) <= result.received <= sent  # type: ignore[attr-defined]
    assert result.sent > 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(("mode", "error"), [("error", RuntimeError), ("reload", SessionGone)])
async def test_error_and_reload_are_raised(mode: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        await _run(mode, sessions=1)


def test_client_scheduling_applies_and_restores_the_policy() -> None:
    before = os.sched_getscheduler(0)
    with client_scheduling("batch"):
        assert os.sched_getscheduler(0) == os.SCHED_BATCH
    assert os.sched_getscheduler(0) == before
    with client_scheduling("normal"):
        assert os.sched_getscheduler(0) == before
    with pytest.raises(ValueError, match="expected one of"):
        with client_scheduling("fifo"):
            pass
