"""A lean WebSocket client for the load benchmark: costs far less CPU than the servers it drives.

- :class:`RawWS`: one client WebSocket over a non-blocking stdlib socket. The upgrade and the
  slow paths (opening, idling) are async on trio (``wait_readable``); sending is one
  non-blocking ``send`` of a frame built in one go (mask key 0, so masking is free: RFC 6455
  lets the server not care which key a client picks). Bytes through the socket are counted
  (``counter``: [sent, received]), framing included.
- :func:`click_loop`: the throughput phase without trio: every session's socket in one
  level-triggered ``epoll``; each wake-up reads what arrived, and each acknowledged click sends
  the next one at once. Per click: one ``send``, one ``recv`` and a share of one
  ``epoll_wait``, ~10 µs of Python, instead of trio-websocket's ~100 µs.

A session is a :class:`LeanConn`: its socket, the frame that clicks, and ``on_message`` that
says whether a message acknowledges the click in flight (answering heartbeats on the way).
"""

from __future__ import annotations

import base64
import errno
import os
import select
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import attrs
import trio

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA
_MASK0 = b"\x00\x00\x00\x00"


class WSClosed(Exception):
    """The server closed the WebSocket (or the TCP connection)."""


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame (mask key 0: the payload goes as is)."""
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, 0x80 | n)) + _MASK0 + payload
    if n < 65536:
        return bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big") + _MASK0 + payload
    return bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big") + _MASK0 + payload


class RawWS:
    """A client WebSocket over a non-blocking socket (see the module doc)."""

    __slots__ = ("_buffer", "counter", "sock")

    def __init__(self, sock: socket.socket, counter: list[int], buffered: bytes) -> None:
        self.sock = sock
        self.counter = counter
        self._buffer = buffered

    @classmethod
    async def connect(
        cls, url: str, counter: list[int], headers: Sequence[tuple[str, str]] = ()
    ) -> RawWS:
        """TCP connect and WebSocket upgrade; raises OSError or RuntimeError (refused)."""
        rest = url.split("://", 1)[1]
        netloc, _, path = rest.partition("/")
        host, _, port = netloc.partition(":")
        sock = await _tcp_connect(host, int(port or 80))
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            lines = [
                f"GET /{path} HTTP/1.1",
                f"Host: {netloc}",
                "Upgrade: websocket",
                "Connection: Upgrade",
                f"Sec-WebSocket-Key: {key}",
                "Sec-WebSocket-Version: 13",
                *(f"{k}: {v}" for k, v in headers),
            ]
            request = ("\r\n".join(lines) + "\r\n\r\n").encode()
            counter[0] += len(request)
            await _send_all(sock, request)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = await _recv(sock)
                if not chunk:
                    raise RuntimeError(f"{url}: connection closed during the upgrade")
                counter[1] += len(chunk)
                head += chunk
            head, _, rest_bytes = head.partition(b"\r\n\r\n")
            status = head.split(b"\r\n", 1)[0]
            if b" 101 " not in status + b" ":
                raise RuntimeError(f"{url}: upgrade refused: {status.decode('latin-1')}")
            return cls(sock, counter, rest_bytes)
        except BaseException:
            sock.close()
            raise

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, data: bytes) -> None:
        """Send one or more whole frames (small: a full kernel buffer waits in ``select``)."""
        self.counter[0] += len(data)
        view = memoryview(data)
        while view:
            try:
                view = view[self.sock.send(view) :]
            except BlockingIOError:
                select.select([], [self.sock], [], 1.0)
            except OSError as exc:
                raise WSClosed(str(exc)) from None

    def send_message(self, opcode: int, payload: bytes) -> None:
        self.send(client_frame(opcode, payload))

    def feed(self) -> bool:
        """Read what the socket has (non-blocking); False if nothing was there."""
        try:
            data = self.sock.recv(262144)
        except BlockingIOError:
            return False
        except OSError as exc:
            raise WSClosed(str(exc)) from None
        if not data:
            raise WSClosed("the server closed the TCP connection")
        self.counter[1] += len(data)
        self._buffer = self._buffer + data if self._buffer else data
        return True

    def messages(self) -> Iterator[tuple[int, bytes]]:
        """Whole data messages (opcode, payload) in the buffer; PING answered, CLOSE raised.
        (Servers here never fragment small messages; a fragment is treated as whole.)"""
        buf = self._buffer
        pos, n = 0, len(buf)
        try:
            while n - pos >= 2:
                b0, size = buf[pos], buf[pos + 1] & 0x7F
                start = pos + 2
                if size == 126:
                    if n - pos < 4:
                        break
                    size, start = int.from_bytes(buf[pos + 2 : pos + 4], "big"), pos + 4
                elif size == 127:
                    if n - pos < 10:
                        break
                    size, start = int.from_bytes(buf[pos + 2 : pos + 10], "big"), pos + 10
                end = start + size
                if end > n:
                    break
                payload, pos, opcode = buf[start:end], end, b0 & 0x0F
                if opcode == OP_PING:
                    self.send_message(OP_PONG, payload)
                elif opcode == OP_CLOSE:
                    code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                    raise WSClosed(f"close {code} {payload[2:].decode(errors='replace')}")
                elif opcode != OP_PONG:
                    yield opcode, payload
        finally:
            self._buffer = buf[pos:]

    async def receive(self) -> tuple[int, bytes]:
        """The next data message (async: opening and idling)."""
        while True:
            for message in self.messages():
                return message
            if not self.feed():
                await trio.lowlevel.wait_readable(self.sock)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


async def _tcp_connect(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        err = sock.connect_ex((host, port))
        if err not in (0, errno.EINPROGRESS):
            raise OSError(err, f"connect to {host}:{port}: {os.strerror(err)}")
        await trio.lowlevel.wait_writable(sock)
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, f"connect to {host}:{port}: {os.strerror(err)}")
    except BaseException:
        sock.close()
        raise
    return sock


async def _send_all(sock: socket.socket, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[sock.send(view) :]
        except BlockingIOError:
            await trio.lowlevel.wait_writable(sock)


async def _recv(sock: socket.socket) -> bytes:
    while True:
        try:
            return sock.recv(65536)
        except BlockingIOError:
            await trio.lowlevel.wait_readable(sock)


# ------------------------------------------------------------------------- the click loop


class LeanConn(Protocol):
    """One open session driven by :func:`click_loop`."""

    ws: RawWS

    def click_frame(self) -> bytes:
        """The frame(s) that click ``#inc`` once (a new sequence number each call)."""
        ...

    def on_message(self, opcode: int, payload: bytes) -> bool:
        """True if the message acknowledges the click in flight (heartbeats answered here)."""
        ...


@attrs.define
class ClickResult:
    """What one click loop measured inside the window."""

    clicks: int
    latencies: list[float]
    sent: int  # bytes through the sockets in the window, both directions, framing included
    received: int
    cpu: float  # this client process's CPU seconds in the window


def click_loop(
    conns: Sequence[LeanConn],
    counter: list[int],
    window: tuple[float, float],
    on_window: Callable[[str], None] = lambda _edge: None,
) -> ClickResult:
    """Every session clicks sequentially (send, wait for the acknowledgement, send again)
    until ``window[1]``; clicks, latencies and bytes are counted inside ``window`` (two
    ``time.time()`` instants). ``on_window("start" | "end")`` runs at the window's edges."""
    start_at, end_at = window
    by_fd = {conn.ws.fileno(): conn for conn in conns}
    sent_at = dict.fromkeys(by_fd, 0.0)
    latencies: list[float] = []
    clicks = 0
    counting = False
    base = [0, 0]
    cpu = 0.0
    epoll = select.epoll(len(by_fd) + 1)
    try:
        for fd in by_fd:
            epoll.register(fd, select.EPOLLIN)
        now = time.perf_counter()
        for fd, conn in by_fd.items():
            sent_at[fd] = now
            conn.ws.send(conn.click_frame())
        while True:
            wall = time.time()
            if not counting and wall >= start_at:
                counting, base, cpu = True, list(counter), time.process_time()
                on_window("start")
            if wall >= end_at:
                on_window("end")
                cpu = time.process_time() - cpu
                break
            for fd, _events in epoll.poll(min(end_at - wall, 0.05)):
                conn = by_fd[fd]
                ws = conn.ws
                if not ws.feed():
                    continue
                for opcode, payload in ws.messages():
                    if conn.on_message(opcode, payload):
                        now = time.perf_counter()
                        if counting:
                            latencies.append(now - sent_at[fd])
                            clicks += 1
                        sent_at[fd] = now
                        ws.send(conn.click_frame())
    finally:
        epoll.close()
    return ClickResult(clicks, latencies, counter[0] - base[0], counter[1] - base[1], cpu)
