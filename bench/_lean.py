"""A lean WebSocket client for the load benchmark: costs far less CPU than the servers it drives.

- :class:`RawWS`: one client WebSocket over a non-blocking stdlib socket. The upgrade and the
  slow paths (opening, idling) are async on trio (``wait_readable``); sending is one
  non-blocking ``send`` of a frame built in one go (mask key 0, so masking is free: RFC 6455
  lets the server not care which key a client picks). Bytes through the socket are counted
  (``counter``: [sent, received]), framing included.
- :func:`click_loop`: the throughput phase without trio: every session's socket in one
  edge-triggered ``epoll``; each wake-up reads every ready socket (one ``recv_into`` a shared
  buffer), and each acknowledged click sends the next one at once (a prebuilt frame). A reply
  that is exactly the expected acknowledgement is recognised by its first bytes, without
  decoding; anything else takes the general path (``on_message``).

A session is a :class:`LeanConn`: its socket, ``click`` (the frame that clicks and the first
bytes of the reply that acknowledges it), and ``on_message`` that says whether a message
acknowledges the click in flight (answering heartbeats on the way).
"""

from __future__ import annotations

import base64
import contextlib
import errno
import os
import select
import socket
import time
from array import array
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
            data = self.sock.recv(65536)  # 256 KiB would be an mmap + munmap per call
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

SCHED_POLICIES = ("batch", "normal")


@contextlib.contextmanager
def client_scheduling(policy: str) -> Iterator[None]:
    """The calling thread under ``SCHED_BATCH`` (``policy="batch"``) for the block, then its
    policy back; ``"normal"`` changes nothing. Under SCHED_BATCH a reply does not preempt a
    server worker running on the same core: the client runs when a worker's time slice ends,
    reads every reply that came meanwhile in one wake-up, and costs less per click. Every
    click is still sent, acknowledged and timed (the wait is in the latencies)."""
    if policy not in SCHED_POLICIES:
        raise ValueError(
            f"client scheduling policy: expected one of {SCHED_POLICIES}, got {policy!r}"
        )
    if policy == "normal":
        yield
        return
    before, param = os.sched_getscheduler(0), os.sched_getparam(0)
    os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    try:
        yield
    finally:
        os.sched_setscheduler(0, before, param)


_RECV_SIZE = 65536
NEVER = b"\x00" * 126
"""A reply prefix no fast-path frame can match (its payload is under 126 bytes): a conn with
no cheap check returns it from ``click`` and every reply goes through ``on_message``."""


class LeanConn(Protocol):
    """One open session driven by :func:`click_loop`."""

    ws: RawWS
    reply_opcode: int  # the opcode of the frame that acknowledges a click

    def click(self) -> tuple[bytes, bytes]:
        """The frame that clicks ``#inc`` once (a new sequence number each call), and the
        payload prefix of the one reply frame that acknowledges exactly that click (a reply
        starting so must be one ``on_message`` would accept; ``NEVER`` if there is none)."""
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
    wakeups: int = 0  # epoll waits in the window that returned ready sockets


class _Slots:
    """Per-session state of :func:`click_loop` in lists indexed by file descriptor (a list
    index is the cheapest lookup Python has; per click only the expected-reply prefix is new)."""

    def __init__(self, conns: Sequence[LeanConn]) -> None:
        size = max(conn.ws.fileno() for conn in conns) + 1
        self.conn: list[LeanConn | None] = [None] * size
        self.recv_into: list[Callable[[bytearray], int]] = [_no_recv] * size
        self.send: list[Callable[[bytes], int]] = [_no_send] * size
        self.click: list[Callable[[], tuple[bytes, bytes]]] = [_no_click] * size
        self.first: list[int] = [-1] * size  # the acknowledging frame's first byte
        self.expect: list[bytes] = [NEVER] * size  # its payload prefix, for the click in flight
        self.sent_at: list[int] = [0] * size  # perf_counter_ns of the click in flight
        self.pending: list[bool] = [False] * size  # bytes wait in the RawWS buffer
        for conn in conns:
            fd, sock = conn.ws.fileno(), conn.ws.sock
            self.conn[fd] = conn
            self.recv_into[fd], self.send[fd] = sock.recv_into, sock.send
            self.click[fd] = conn.click
            self.first[fd] = 0x80 | conn.reply_opcode
            self.pending[fd] = bool(conn.ws._buffer)


def _no_recv(_buf: bytearray) -> int:
    raise AssertionError("no session on this descriptor")


def _no_send(_data: bytes) -> int:
    raise AssertionError("no session on this descriptor")


def _no_click() -> tuple[bytes, bytes]:
    raise AssertionError("no session on this descriptor")


def _slow_receive(slots: _Slots, fd: int, data: bytes) -> bool:
    """The general path: ``data`` joins the session's buffer, whole messages go through
    ``on_message`` (PING answered, ERROR/RELOAD raised); True if one acknowledged the click."""
    conn = slots.conn[fd]
    assert conn is not None
    ws = conn.ws
    if not data:
        raise WSClosed("the server closed the TCP connection")
    ws._buffer = ws._buffer + data if ws._buffer else data
    if len(data) == _RECV_SIZE:  # edge-triggered: read until the socket is empty
        while ws.feed():
            pass
    acked = False
    for opcode, payload in ws.messages():
        acked = conn.on_message(opcode, payload) or acked
    slots.pending[fd] = bool(ws._buffer)
    return acked


def _slow_send(slots: _Slots, fd: int, rest: bytes) -> None:
    """The rest of a click frame the socket did not take at once (counted by the RawWS)."""
    conn = slots.conn[fd]
    assert conn is not None
    conn.ws.send(rest)


def click_loop(
    conns: Sequence[LeanConn],
    counter: list[int],
    window: tuple[float, float],
    on_window: Callable[[str], None] = lambda _edge: None,
) -> ClickResult:
    """Every session clicks sequentially (send, wait for the acknowledgement, send again)
    until ``window[1]``; clicks, latencies and bytes are counted inside ``window`` (two
    ``time.time()`` instants). ``on_window("start" | "end")`` runs at the window's edges.

    The fast path per ready socket: one ``recv_into`` a shared buffer; if what arrived is
    exactly one small frame with the acknowledging opcode whose payload starts with the
    expected prefix (for vango: PATCHES, the next patch seq, ack = the click's seq), the click
    is acknowledged without decoding; anything else (a PING, a split or coalesced frame,
    another frame) takes the general path through the RawWS buffer and ``on_message``.
    Latencies are raw ``perf_counter_ns`` differences in an ``array('q')``."""
    start_at, end_at = window
    slots = _Slots(conns)
    recv_into, send, click = slots.recv_into, slots.send, slots.click
    first, expect, sent_at, pending = slots.first, slots.expect, slots.sent_at, slots.pending
    buf = bytearray(_RECV_SIZE)
    latencies = array("q")
    record = latencies.append
    now_ns = time.perf_counter_ns
    wall_time = time.time
    wakeups = 0
    sent = received = 0  # bytes by the fast path (the RawWS counts its own in ``counter``)
    base = (0, 0)
    counting = False
    cpu = 0.0
    epoll = select.epoll(len(conns) + 1)
    poll = epoll.poll
    maxevents = len(conns)
    try:
        for conn in conns:
            fd = conn.ws.fileno()
            epoll.register(fd, select.EPOLLIN | select.EPOLLET)
            frame, expect[fd] = click[fd]()
            sent_at[fd] = now_ns()
            conn.ws.send(frame)
        while True:
            wall = wall_time()
            if not counting and wall >= start_at:
                counting, cpu = True, time.process_time()
                base = (sent + counter[0], received + counter[1])
                on_window("start")
            if wall >= end_at:
                on_window("end")
                cpu = time.process_time() - cpu
                break
            ready = poll(min(end_at - wall, 0.05), maxevents)
            wakeups += counting and bool(ready)
            for fd, _events in ready:
                try:
                    n = recv_into[fd](buf)
                except BlockingIOError:
                    continue
                except OSError as exc:
                    raise WSClosed(str(exc)) from None
                received += n
                if not (
                    buf[1] == n - 2 < 126
                    and buf[0] == first[fd]
                    and not pending[fd]
                    and buf.startswith(expect[fd], 2)
                ) and not _slow_receive(slots, fd, bytes(buf[:n])):
                    continue
                now = now_ns()
                if counting:
                    record(now - sent_at[fd])
                sent_at[fd] = now
                frame, expect[fd] = click[fd]()
                try:
                    done = send[fd](frame)
                except BlockingIOError:
                    done = 0
                except OSError as exc:
                    raise WSClosed(str(exc)) from None
                sent += done
                if done != len(frame):
                    _slow_send(slots, fd, frame[done:])
    finally:
        epoll.close()
        counter[0] += sent
        counter[1] += received
    return ClickResult(
        len(latencies),
        [x * 1e-9 for x in latencies],
        counter[0] - base[0],
        counter[1] - base[1],
        cpu,
        wakeups,
    )
