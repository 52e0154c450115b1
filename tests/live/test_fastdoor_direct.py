"""The fast door's direct send path: whole, queued or partial, and always in order."""

from __future__ import annotations

import socket

import trio

from vango_actors.actor import DIRECT_PARTIAL, DIRECT_QUEUE, DIRECT_SENT
from vango_actors.fastdoor import OP_BINARY, FastTransport, frame


def _pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    a.setblocking(False)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return a, b


def _drain(sock: socket.socket, size: int) -> bytes:
    out = b""
    while len(out) < size:
        out += sock.recv(size - len(out))
    return out


async def test_direct_sends_fill_the_socket_then_queue_and_flush_in_order() -> None:
    a, b = _pair()
    with a, b, trio.fail_after(10):
        transport = FastTransport(a, 1 << 20)
        messages = [bytes([i % 251]) * 1000 for i in range(400)]
        results = [transport.send_nowait(m) for m in messages]
        assert results[0] == DIRECT_SENT
        cut = results.index(DIRECT_PARTIAL) if DIRECT_PARTIAL in results else None
        blocked = next(i for i, r in enumerate(results) if r != DIRECT_SENT)
        # after the first refusal nothing else goes out directly
        assert all(r == DIRECT_QUEUE for r in results[blocked + 1 :])
        assert cut is None or cut == blocked
        queued = messages[blocked + (cut is not None) :]
        expected = b"".join(frame(OP_BINARY, m) for m in messages)

        async def write_rest() -> None:
            if cut is not None:
                await transport.flush()
            for m in queued:
                await transport.send(m)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(write_rest)
            received = await trio.to_thread.run_sync(_drain, b, len(expected))
        assert received == expected
        assert transport.send_nowait(b"after") == DIRECT_SENT


async def test_direct_send_after_close_is_dropped() -> None:
    a, b = _pair()
    with a, b, trio.fail_after(10):
        transport = FastTransport(a, 1 << 20)
        await transport.close(1000, "bye")
        assert transport.send_nowait(b"late") == DIRECT_SENT
        assert b.recv(100) == frame(0x8, (1000).to_bytes(2, "big") + b"bye")
