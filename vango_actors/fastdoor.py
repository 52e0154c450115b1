"""The fast door: a dedicated trio listener for the live socket, no ASGI in the way.

The HTTP upgrade is parsed by wsproto's sans-IO ``H11Handshake``; after the 101 the socket
speaks RFC 6455 frames through :class:`FrameReader` (sans-IO, below) and :func:`frame`, on a
non-blocking stdlib socket. Reads wait through the door's :class:`~vango_actors.poller.ReadPoller`
(one edge-triggered epoll for every live socket, registered once: no ``epoll_ctl`` per wait),
writes that must wait through ``trio.lowlevel.wait_writable``.
The connection logic itself is live.py's :func:`~vango_actors.live.serve_connection`, the
same code the ASGI door runs; this module only supplies a :class:`~vango_actors.live.Transport`.

Why not wsproto's frame layer too: it costs ~40 µs to parse one 19-byte masked click frame on
the dev box (a bytearray copy, a per-byte translate mask, an event object per frame); the
parser here takes ~2 µs and only accepts what RFC 6455 allows a client to send.

Per connection there is one task (the caller of ``serve_connection``, which reads and keeps
the heartbeat) plus the outbox writer live.py starts. The session actor writes its frames
straight to the socket (``send_nowait``: one non-blocking ``send``, no task hop); only when the
kernel buffer is full do frames wait in the outbox for the writer (under a lock, in order).

Rules:
1. Only ``GET /vango/live/<session_id>`` upgrades are accepted (else HTTP 404); while the app
   is starting or draining the upgrade gets HTTP 503. The upgrade must arrive within
   ``handshake_timeout``; at most ``max_connections_per_address`` sockets of one client
   address may wait for theirs at once (more are closed unread).
2. Origin: the origin of the page that rendered the session (recorded in the session's
   ``origin`` meta by the front), else -- session unknown here, so the client can hear
   RELOAD -- the live host's own host name on any port; plus ``allowed_origins``. A session
   remounted from its token takes the page's origin the token carries (front.py,
   ``remount_session``), and a socket from another origin is told to reload.
3. Client frames must be masked, RSV bits clear, control frames short and unfragmented; a
   message may be fragmented. Breaking this -> ProtocolError (close 1002); a message over
   the frame limit -> TOO_BIG (1009) as soon as its header says so; text -> 1003.
4. PING -> PONG with the same payload; CLOSE -> CLOSE echoed, then ConnectionClosed.
5. The socket is closed after the connection logic ends, once the peer answered our CLOSE
   (or ``close_linger`` passed), so the peer reads every frame before the FIN.
"""

from __future__ import annotations

import errno
import logging
import re
import socket
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol
from urllib.parse import urlsplit

import attrs
import trio
from wsproto.connection import ConnectionType
from wsproto.events import AcceptConnection, RejectConnection, Request
from wsproto.handshake import H11Handshake
from wsproto.utilities import RemoteProtocolError

from . import limits, live
from .actor import DIRECT_PARTIAL, DIRECT_QUEUE, DIRECT_SENT
from .limits import LiveLimiter
from .live import ConnectionClosed, LiveSettings, LiveStats
from .manager import SessionManager, SessionNotFound
from .poller import Alarm, ReadPoller, ReadyHandler, available
from .protocol import CloseCode, ErrorCode, ProtocolError
from .tokens import TokenClaims, TokenSigner

log = logging.getLogger("vango_actors.fastdoor")

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
_DATA_OPS = frozenset((OP_CONTINUATION, OP_TEXT, OP_BINARY))
_CONTROL_OPS = frozenset((OP_CLOSE, OP_PING, OP_PONG))
_RECV_BYTES = 65536
_BLANK_LINE = re.compile(rb"\n\r?\n")  # the end of an HTTP head, as h11 finds it
_YIELD_EVERY = 16  # receives served from the buffer before a forced checkpoint
#: Frames one message may come in. Browsers send a message in one frame; a limit keeps a
#: message of empty continuation frames (6 bytes each, no payload to count) from being
#: collected for ever.
MAX_FRAGMENTS = 128
_ACCEPT_ERRORS = frozenset((errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS))


# ------------------------------------------------------------------------ sans-IO framing


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final server frame."""
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n < 65536:
        return bytes((0x80 | opcode, 126)) + n.to_bytes(2, "big") + payload
    return bytes((0x80 | opcode, 127)) + n.to_bytes(8, "big") + payload


def close_payload(code: int, reason: str) -> bytes:
    """A CLOSE frame's payload: the code, then the reason cut to fit the frame."""
    return code.to_bytes(2, "big") + live.close_reason(reason).encode()


def unmask(payload: bytes, mask: bytes) -> bytes:
    """XOR ``payload`` with the repeating 4-byte ``mask`` (one big-int XOR, no byte loop)."""
    n = len(payload)
    if n == 0:
        return b""
    key = int.from_bytes(mask * ((n + 3) // 4), "little")
    width = (n + 3) // 4 * 4
    return (int.from_bytes(payload, "little") ^ key).to_bytes(width, "little")[:n]


@attrs.frozen
class Control:
    """A control frame the transport must act on: PING, PONG or CLOSE (code, reason)."""

    opcode: int
    payload: bytes

    def close_code(self) -> int | None:
        return int.from_bytes(self.payload[:2], "big") if len(self.payload) >= 2 else None


class FrameReader:
    """Bytes from a client in, whole binary messages and control frames out.

    ``feed(data)`` then ``next()`` until it returns None (needs more bytes). Raises
    ProtocolError for anything RFC 6455 forbids a client, TOO_BIG for a message whose
    (announced) size passes ``max_message``, and the text-message error for text.
    """

    __slots__ = ("_at", "_buffer", "_fragments", "_fragments_size", "_skip", "max_message")

    def __init__(self, max_message: int) -> None:
        self.max_message = max_message
        self._buffer = b""
        self._at = 0  # where the next frame starts in _buffer (no copy per frame read)
        self._fragments: list[bytes] | None = None  # a fragmented message being collected
        self._fragments_size = 0
        self._skip = 0  # bytes of a refused (too big) frame still to come: dropped unread

    def has_frame(self) -> bool:
        """A whole frame was fed that no returned message or frame used yet. (The first bytes
        of a frame alone are not: a peer that sent them and went silent is silent.)"""
        buf, at = self._buffer, self._at
        if len(buf) < at + 2:
            return False
        size, start = buf[at + 1] & 0x7F, at + 2
        if size >= 126:
            start += 2 if size == 126 else 8
            if len(buf) < start:
                return False
            size = int.from_bytes(buf[at + 2 : start], "big")
        return len(buf) >= start + (4 if buf[at + 1] & 0x80 else 0) + size

    def feed(self, data: bytes) -> None:
        if self._skip:
            cut = min(self._skip, len(data))
            data, self._skip = data[cut:], self._skip - cut
        rest = self._buffer[self._at :] if self._at else self._buffer
        self._buffer, self._at = (rest + data if rest else data), 0

    def next(self) -> bytes | Control | None:
        """The next whole message (bytes) or control frame; None if more bytes are needed."""
        while True:
            parsed = self._next_frame()
            if parsed is None:
                return None
            fin, opcode, payload = parsed
            if opcode in _CONTROL_OPS:
                return Control(opcode, payload)
            if opcode != OP_CONTINUATION:  # OP_BINARY (text was refused by its header)
                if fin:
                    return payload
                self._fragments, self._fragments_size = [payload], len(payload)
                continue
            assert self._fragments is not None  # checked in _check_header
            if len(self._fragments) >= MAX_FRAGMENTS:  # (empty ones count too: never endless)
                raise ProtocolError(
                    f"WebSocket message in more than {MAX_FRAGMENTS} frames",
                    ErrorCode.TOO_BIG,
                    CloseCode.TOO_BIG,
                )
            self._fragments.append(payload)
            self._fragments_size += len(payload)
            if fin:
                message = b"".join(self._fragments)
                self._fragments, self._fragments_size = None, 0
                return message

    def _next_frame(self) -> tuple[bool, int, bytes] | None:
        buf, at = self._buffer, self._at
        if len(buf) < at + 2:
            return None
        b0, b1 = buf[at], buf[at + 1]
        size, start = b1 & 0x7F, at + 2
        if size == 126:
            if len(buf) < at + 4:
                return None
            size, start = int.from_bytes(buf[at + 2 : at + 4], "big"), at + 4
        elif size == 127:
            if len(buf) < at + 10:
                return None
            size, start = int.from_bytes(buf[at + 2 : at + 10], "big"), at + 10
        fin, opcode = bool(b0 & 0x80), b0 & 0x0F
        self._check_header(b0, b1, fin, opcode, size)
        end = start + 4 + size
        if len(buf) < end:
            return None
        payload = unmask(buf[start + 4 : end], buf[start : start + 4])
        if end == len(buf):
            self._buffer, self._at = b"", 0
        else:
            self._at = end
        return fin, opcode, payload

    def _check_header(self, b0: int, b1: int, fin: bool, opcode: int, size: int) -> None:
        if b0 & 0x70:
            raise ProtocolError("WebSocket frame with RSV bits set: no extension was agreed")
        if not b1 & 0x80:
            raise ProtocolError("unmasked WebSocket frame: a client must mask every frame")
        if opcode in _CONTROL_OPS:
            if not fin or size > 125:
                raise ProtocolError("WebSocket control frame fragmented or over 125 bytes")
            return
        if opcode not in _DATA_OPS:
            raise ProtocolError(f"unknown WebSocket opcode {opcode:#x}")
        if opcode == OP_TEXT:
            raise live.text_message_error()
        if (opcode == OP_CONTINUATION) != (self._fragments is not None):
            raise ProtocolError(
                "WebSocket continuation frame without a message to continue"
                if opcode == OP_CONTINUATION
                else "new WebSocket message while a fragmented one is unfinished"
            )
        total = self._fragments_size + size
        if total > self.max_message:
            # The frames after it stay readable (the peer's CLOSE answering ours, read while
            # the door lingers): its bytes are dropped as they come, never buffered. Closing
            # with them unread would reset the connection, and the browser could see 1006
            # instead of our 1009.
            length = b1 & 0x7F
            self._skip = (2 if length < 126 else 4 if length == 126 else 10) + 4 + size
            self._fragments, self._fragments_size = None, 0
            buffer, self._buffer, self._at = self._buffer[self._at :], b"", 0
            self.feed(buffer)
            raise ProtocolError(
                f"frame of {total} bytes exceeds the limit of {self.max_message} bytes",
                ErrorCode.TOO_BIG,
                CloseCode.TOO_BIG,
            )


# ----------------------------------------------------------------------------- transport

#: What ``receive_nowait`` returns while the control-frame rate limit holds reading.
_HOLD = Control(OP_PONG, b"")


class FastTransport:
    """:class:`~vango_actors.live.Transport` over a non-blocking socket after the upgrade."""

    __slots__ = (
        "_alarm",
        "_close_sent",
        "_closed_by_peer",
        "_control_bucket",
        "_control_due",
        "_drained",
        "_held",
        "_lock",
        "_poller",
        "_reader",
        "_ready",
        "_sock",
        "_tail",
        "_unyielded",
        "_wait_scope",
    )

    def __init__(
        self,
        sock: socket.socket,
        max_message: int,
        buffered: bytes = b"",
        poller: ReadPoller | None = None,
        control_rate: tuple[float, float] | None = None,
    ) -> None:
        """``control_rate``: (per second, burst) of the PING and PONG frames answered; past
        it nothing more is read until a token refilled (None: no limit)."""
        self._sock = sock
        # reads wait through the door's shared edge-triggered epoll (registered by the door)
        # while it runs, else through trio (see wait_readable)
        self._poller = poller
        self._alarm: Alarm | None = None  # created when first asked for
        self._wait_scope: trio.CancelScope | None = None  # wait_readable's, without a poller
        self._reader = FrameReader(max_message)
        if buffered:
            self._reader.feed(buffered)
        self._lock: trio.Lock | None = None  # held only while a write waits for buffer space
        self._tail = b""  # the unsent rest of a frame send_nowait began: goes out first
        self._close_sent = False
        self._closed_by_peer = False
        self._unyielded = 0
        self._held: Control | None = None  # met by receive_nowait: receive() answers it
        # No browser sends WebSocket PINGs, and a flood of them costs a write each: they are
        # read at the event rate (as protocol PINGs are, live.py); a frame read past the last
        # token holds reading until _control_due.
        self._control_bucket: limits.TokenBucket | None = None
        if control_rate is not None and control_rate[0] > 0:
            self._control_bucket = limits.TokenBucket.full(*control_rate, trio.current_time())
        self._control_due = 0.0
        # Given to wait_readable: takes readiness in the poller's task (see on_ready).
        self._ready: ReadyHandler | None = None
        # The last recv took less than it asked for, so the kernel buffer was empty: the next
        # read waits for readability first instead of a recv that would fail (EAGAIN).
        self._drained = False

    async def receive(self) -> bytes:
        """The next binary message. A cancellation loses nothing: it can only strike before a
        message is taken from the buffer (the session actor reads here, and is woken by
        cancelling its read)."""
        while True:
            if self._unyielded >= _YIELD_EVERY:  # a flood must not starve the scheduler
                self._unyielded = 0
                await trio.lowlevel.checkpoint()
            if self._control_due:  # (cancelled while waiting: it waits again)
                await trio.sleep_until(self._control_due)
                self._control_due = 0.0
            if self._held is None:
                item = self._reader.next()
            else:
                item, self._held = self._held, None
            if item is None:
                await self._fill()
            elif type(item) is bytes:
                self._unyielded += 1
                return item
            else:
                assert isinstance(item, Control)
                self._unyielded += 1
                with trio.CancelScope(shield=True):  # a control frame is answered whole
                    await self._control(item)
                bucket = self._control_bucket
                if bucket is not None:
                    now = trio.current_time()
                    if not bucket.spend(now):
                        self._control_due = bucket.due(now)

    def receive_nowait(self) -> bytes | Control | None:
        """The next binary message if it can be had without waiting (from the buffer, or one
        non-blocking ``recv``); None when there is none yet (``wait_readable``, then again);
        a Control when a control frame comes first (it is kept for :meth:`receive`, which
        alone answers it) or while the control-frame rate limit holds reading. Raises as
        :meth:`receive` does (ConnectionClosed, ProtocolError)."""
        if self._control_due:
            return _HOLD  # receive() waits for the rate limit
        reader = self._reader
        while self._held is None:
            if len(reader._buffer) > reader._at:  # (buffered(), inline: once per event)
                item = reader.next()
                if item is not None:
                    if type(item) is not bytes:
                        self._held = item  # type: ignore[assignment]
                    return item
            if self._drained or not self._recv():
                return None
        return self._held

    def wait_readable(self, ready: ReadyHandler | None = None) -> Awaitable[None]:
        """Wait until the socket may have bytes (after ``receive_nowait`` returned None);
        :meth:`interrupt` ends the wait early, losing nothing. A plain function returning
        the wait: through the poller it adds no frame to an idle session's stack.

        ``ready``: while the wait goes on through the poller, the poller calls
        ``ready.on_ready()`` (in its own task) when the socket becomes readable; True when it
        read everything there (``receive_nowait`` until None) and the wait goes on, False to
        end the wait."""
        self._drained = False
        self._ready = ready
        poller = self._poller
        if poller is not None and poller.running:
            return poller.wait_readable(self._sock)
        return self._wait_interruptible()

    def on_ready(self) -> bool:
        """The poller's question (see ReadPoller.register): take this readiness edge?"""
        ready = self._ready
        if ready is None:
            return False
        self._drained = False  # a new edge: the kernel has bytes again
        return ready.on_ready()

    async def _wait_interruptible(self) -> None:
        with trio.CancelScope() as scope:
            self._wait_scope = scope
            try:
                await trio.lowlevel.wait_readable(self._sock)
            finally:
                self._wait_scope = None

    @property
    def alarm(self) -> Alarm:
        """The connection's timer (its heartbeat's wait), kept by the door's poller."""
        if self._alarm is None:
            self._alarm = Alarm(self._poller)
        return self._alarm

    def interrupt(self) -> None:
        """End a pending :meth:`wait_readable` now: it returns as if the socket were
        readable. Does nothing when no wait is pending."""
        scope = self._wait_scope
        if scope is not None:
            scope.cancel()
        elif self._poller is not None:
            self._poller.interrupt(self._sock)

    async def _fill(self) -> None:
        if self._drained:
            self._unyielded = 0
            await self.wait_readable()
        while not self._recv():
            self._unyielded = 0
            await self.wait_readable()
        self._unyielded += 1  # a read without a wait counts (a flood, a long message)

    def _recv(self) -> bool:
        """One non-blocking ``recv`` into the frame reader; False when there was nothing."""
        try:
            data = self._sock.recv(_RECV_BYTES)
        except BlockingIOError:
            self._drained = True
            return False
        except OSError as exc:
            raise ConnectionClosed(None, f"socket error: {exc}") from None
        if not data:
            raise ConnectionClosed(None, "the peer closed the TCP connection")
        self._drained = len(data) < _RECV_BYTES
        self._reader.feed(data)
        return True

    async def _control(self, control: Control) -> None:
        if control.opcode == OP_PING:
            await self._write(frame(OP_PONG, control.payload))
        elif control.opcode == OP_CLOSE:
            self._closed_by_peer = True
            code = control.close_code()
            reason = control.payload[2:].decode(errors="replace")
            answer = code  # RFC 6455 7.4: an invalid CLOSE is answered 1002 (1007: bad UTF-8)
            if len(control.payload) == 1 or (code is not None and not _valid_close_code(code)):
                answer = CloseCode.PROTOCOL_ERROR
            elif "\ufffd" in reason and control.payload[2:] != reason.encode():
                answer = 1007  # invalid frame payload data
            if not self._close_sent:
                self._close_sent = True
                echo = close_payload(answer, "") if answer is not None else b""
                try:
                    await self._write(frame(OP_CLOSE, echo))
                except ConnectionClosed:
                    pass
            raise ConnectionClosed(code, reason)

    async def send(self, data: bytes) -> None:
        if self._close_sent:
            return
        await self._write(frame(OP_BINARY, data))

    def send_nowait(self, data: bytes) -> int:
        """One message in one non-blocking ``send``, from any task, without a checkpoint
        (the actor's direct path): ``DIRECT_SENT``; ``DIRECT_QUEUE`` if nothing was sent
        (the socket would block, or a write is waiting: queue it and ``send`` it later);
        ``DIRECT_PARTIAL`` if the kernel took part (the rest goes out first on the next
        ``send`` / ``flush``). A socket error is left for ``send`` to raise (QUEUE)."""
        if self._close_sent:
            return DIRECT_SENT  # dropped, as ``send`` drops it
        if self._tail or self._writing():
            return DIRECT_QUEUE
        framed = frame(OP_BINARY, data)
        try:
            sent = self._sock.send(framed)
        except OSError:  # BlockingIOError included
            return DIRECT_QUEUE
        if sent == len(framed):
            return DIRECT_SENT
        self._tail = framed[sent:]
        return DIRECT_PARTIAL

    def pending(self) -> bool:
        """Bytes from the peer wait to be read (it is alive while the session is busy): a
        whole frame read but not taken yet, or bytes not read from the socket yet."""
        if self._reader.has_frame():
            return True
        try:
            return bool(self._sock.recv(1, socket.MSG_PEEK))
        except OSError:  # BlockingIOError included
            return False

    async def flush(self) -> None:
        """Send what ``send_nowait`` left unsent (waits for buffer space)."""
        await self._write(b"")

    async def close(self, code: int, reason: str) -> None:
        if self._close_sent:
            return
        self._close_sent = True
        await self._write(frame(OP_CLOSE, close_payload(code, reason)))

    async def _write(self, data: bytes) -> None:
        """Write ``data`` whole and in call order; waits only when the kernel buffer is full."""
        if self._tail:  # the rest of a frame send_nowait began goes first
            data, self._tail = self._tail + data, b""
        if not self._writing():
            try:
                sent = self._sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                raise ConnectionClosed(None, f"socket error: {exc}") from None
            if sent == len(data):
                return
            data = data[sent:]
        if self._lock is None:  # created by the first write that has to wait
            self._lock = trio.Lock()
        async with self._lock:
            await self._write_all(data)

    def _writing(self) -> bool:
        """A write is waiting for buffer space (later frames queue behind it)."""
        return self._lock is not None and self._lock.locked()

    async def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                await trio.lowlevel.wait_writable(self._sock)
                try:
                    view = view[self._sock.send(view) :]
                except BlockingIOError:
                    continue
        except OSError as exc:
            raise ConnectionClosed(None, f"socket error: {exc}") from None
        except BaseException:
            self._close_sent = True  # a frame was cut short: nothing more may follow it
            raise

    async def linger(self, timeout: float) -> None:
        """After our CLOSE: read (and drop) until the peer's CLOSE or EOF, at most ``timeout``."""
        if self._closed_by_peer:
            return
        with trio.move_on_after(timeout):
            try:
                while True:
                    await self.receive()
            except (ConnectionClosed, ProtocolError):
                pass


# ------------------------------------------------------------------------------ the door


class LiveBackend(Protocol):
    """What the door needs from the front (``front.Front`` has it); ``manager`` is None while
    the app starts or drains."""

    manager: SessionManager | None
    signer: TokenSigner
    live_settings: LiveSettings
    live_stats: LiveStats

    async def remount(
        self, claims: TokenClaims, origin: str | None, url: str, headers: live.Headers
    ) -> None:
        """Re-create a session this process does not have from its verified token (``url``:
        the page's address from the client's HELLO; ``headers``: the upgrade request's)."""
        ...


@attrs.frozen
class FastDoorConfig:
    """Where the door listens and how long it waits; ``port`` 0 picks a free port;
    ``last_port``: the first free port of ``port..last_port``, not shared."""

    host: str = "127.0.0.1"
    port: int = 0
    last_port: int | None = None
    backlog: int = 4096
    handshake_timeout: float = 10.0  # s from TCP accept to a complete upgrade request
    close_linger: float = 2.0  # s to wait for the peer's CLOSE after ours
    stall_timeout: float = 30.0  # s a peer may leave sent bytes unread (0: kernel default)


def open_listener(config: FastDoorConfig) -> socket.socket:
    """A non-blocking listening socket: on ``port`` with SO_REUSEPORT, so every worker can
    bind it; with ``last_port``, alone on the first free port of ``port..last_port``."""
    if config.last_port is None:
        return _listen(config, config.port, shared=True)
    for port in range(config.port, config.last_port + 1):
        try:
            return _listen(config, port, shared=False)
        except OSError as exc:  # another worker's (or a sibling bound it first: at listen)
            if exc.errno != errno.EADDRINUSE:
                raise
    raise OSError(
        errno.EADDRINUSE,
        f"every live port of {config.port}-{config.last_port} is in use (one per worker: "
        "widen VANGO_LIVE_PORT / --live-port)",
    )


def _listen(config: FastDoorConfig, port: int, *, shared: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT sockets
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((config.host, port))
        sock.listen(config.backlog)
        sock.setblocking(False)
        limits.set_stall_timeout(sock, config.stall_timeout)  # inherited by accepted sockets
    except BaseException:
        sock.close()
        raise
    return sock


async def serve_fast_door(
    backend: LiveBackend,
    config: FastDoorConfig,
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Accept live sockets until cancelled; reports the bound port. Every connection runs in
    this task's nursery, so cancelling it ends them all (close 1001, sessions detached)."""
    listener = open_listener(config)
    poller = ReadPoller() if available() else None
    try:
        async with trio.open_nursery() as outer:
            if poller is not None:
                outer.start_soon(poller.run)  # outlives the connections: they read to the end
            try:
                async with trio.open_nursery() as nursery:
                    task_status.started(listener.getsockname()[1])
                    # sockets per address still in their upgrade (LiveStats.limiter counts
                    # the upgraded ones): the same limit, counted apart
                    upgrading = LiveLimiter()
                    serve = partial(_serve_socket, backend, config, poller, upgrading)
                    await _accept_loop(listener, nursery, serve)
            finally:
                if poller is not None:
                    poller.stop()
    finally:
        trio.lowlevel.notify_closing(listener)
        listener.close()


async def _accept_loop(
    listener: socket.socket, nursery: trio.Nursery, handler: Callable[[socket.socket, str], Any]
) -> None:
    failed = 0  # accepts failed in a row: logged when it starts and when it ends, not each
    while True:
        await trio.lowlevel.wait_readable(listener)
        for _ in range(64):  # a burst is accepted in one wake-up
            try:
                sock, address = listener.accept()
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno not in _ACCEPT_ERRORS:
                    raise
                if not failed:
                    log.error("fast door cannot accept (%s); retrying every 0.1 s", exc)
                failed += 1
                await trio.sleep(0.1)
                break
            if failed:
                log.warning("fast door accepting again after %d failed attempts", failed)
                failed = 0
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            nursery.start_soon(handler, sock, str(address[0]))


async def _serve_socket(
    backend: LiveBackend,
    config: FastDoorConfig,
    poller: ReadPoller | None,
    upgrading: LiveLimiter,
    sock: socket.socket,
    peer: str,
) -> None:
    try:
        upgraded = None
        limit = backend.live_settings.max_connections_per_address
        if upgrading.open(peer, limit):
            try:
                with trio.move_on_after(config.handshake_timeout):
                    upgraded = await _upgrade(backend, sock)
            finally:
                upgrading.close(peer)
        else:  # closed unread: a flood of sockets that never finish their upgrade
            backend.live_stats.refused_connections += 1
            live.refusals.warn(
                "address",
                "live socket refused: %d upgrades pending from %s, the limit per address "
                "(VANGO_MAX_CONNECTIONS_PER_ADDRESS)",
                limit,
                peer,
            )
        if upgraded is not None:
            await _serve_upgraded(backend, config, poller, sock, peer, *upgraded)
    except ConnectionClosed:
        pass
    finally:
        trio.lowlevel.notify_closing(sock)
        sock.close()


async def _serve_upgraded(
    backend: LiveBackend,
    config: FastDoorConfig,
    poller: ReadPoller | None,
    sock: socket.socket,
    peer: str,
    origin: str | None,
    host: str,
    manager: SessionManager,
    session_id: str,
    buffered: bytes,
    headers: live.Headers,
) -> None:
    settings = backend.live_settings
    transport = FastTransport(
        sock,
        settings.limits.max_frame_bytes,
        buffered,
        poller,
        (settings.event_rate, settings.event_burst),
    )
    if poller is not None:
        poller.register(sock, transport)
    try:
        await live.serve_connection(
            transport,
            session_id=session_id,
            origin=origin,
            host=host,
            scheme="ws",
            manager=manager,
            signer=backend.signer,
            settings=settings,
            stats=backend.live_stats,
            peer=peer,
            expected_origin=expected_origin(manager, session_id, origin, host),
            remount=backend.remount,
            headers=headers,
        )
    finally:
        try:
            with trio.CancelScope(shield=True):
                await transport.linger(config.close_linger)
        finally:
            if poller is not None:
                poller.forget(sock)


async def _upgrade(
    backend: LiveBackend, sock: socket.socket
) -> tuple[str | None, str, SessionManager, str, bytes, live.Headers] | None:
    """Read the upgrade request; answer 101 (returning what the connection needs: origin,
    host, manager, session id, the bytes that came after the request: a client may send
    its first frames without waiting for the 101, and the request's headers, which a remount
    shows the page's middleware) or an HTTP refusal (returning None)."""
    handshake = H11Handshake(ConnectionType.SERVER)
    received = bytearray()
    request = await _read_request(handshake, sock, received)
    if request is None:
        return None
    session_id = live.session_id_from_path(urlsplit(request.target).path)
    manager = backend.manager
    if session_id is None:
        await _send_all(sock, handshake.send(RejectConnection(status_code=404)))
        return None
    if manager is None:
        await _send_all(sock, handshake.send(RejectConnection(status_code=503)))
        return None
    await _send_all(sock, handshake.send(AcceptConnection()))
    end = _BLANK_LINE.search(received)  # h11's end of the head; an upgrade GET has no body
    rest = bytes(received[end.end() :]) if end is not None else b""
    origin = _header(request, b"origin")
    return origin, request.host, manager, session_id, rest, list(request.extra_headers)


async def _read_request(
    handshake: H11Handshake, sock: socket.socket, received: bytearray
) -> Request | None:
    """The upgrade request (None: refused or closed); every byte read lands in ``received``."""
    while True:
        try:
            data = sock.recv(_RECV_BYTES)
        except BlockingIOError:
            await trio.lowlevel.wait_readable(sock)
            continue
        except OSError:
            return None
        received += data
        try:
            handshake.receive_data(data or None)
            for event in handshake.events():
                if isinstance(event, Request):
                    return event
        except RemoteProtocolError as exc:
            await _send_all(sock, handshake.send(exc.event_hint or RejectConnection()))
            return None
        if not data:
            return None


async def _send_all(sock: socket.socket, data: bytes) -> None:
    view = memoryview(data)
    try:
        while view:
            await trio.lowlevel.wait_writable(sock)
            try:
                view = view[sock.send(view) :]
            except BlockingIOError:
                continue
    except OSError as exc:
        raise ConnectionClosed(None, f"socket error: {exc}") from None


def _header(request: Request, name: bytes) -> str | None:
    for key, value in request.extra_headers:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _hostname(url_or_host: str) -> str | None:
    try:
        return urlsplit(url_or_host if "//" in url_or_host else "//" + url_or_host).hostname
    except ValueError:
        return None


def expected_origin(
    manager: SessionManager, session_id: str, origin: str | None, host: str
) -> str | None:
    """The origin a fast-door socket for ``session_id`` must come from (see rule 2).

    None means: the page origin derived from the Host header (the live host itself).
    """
    try:
        recorded = manager.session(session_id).info.data.get("origin")
    except SessionNotFound:
        recorded = None
    if isinstance(recorded, str):
        return recorded
    if origin and _hostname(origin) is not None and _hostname(origin) == _hostname(host):
        return origin  # unknown session: same host name, so the client gets told to reload
    return None


def _valid_close_code(code: int) -> bool:
    """A close code a peer may send (RFC 6455 7.4): not reserved, not unassigned."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def live_url(page_host: str, page_scheme: str, port: int, session_id: str) -> str:
    """The fast door's URL for a page served to ``Host: page_host``: same host name, the
    live port, ``ws`` for an ``http`` page and ``wss`` for ``https``."""
    hostname = _hostname(page_host) or "127.0.0.1"
    if ":" in hostname:
        hostname = f"[{hostname}]"
    scheme = "wss" if page_scheme in ("https", "wss") else "ws"
    return f"{scheme}://{hostname}:{port}{live.LIVE_PATH}{session_id}"
