"""The live connection: Origin, HELLO, claim, reader -> mailbox, writer, heartbeat.

Written once against the small :class:`Transport` interface so both doors share it: the ASGI
door (:func:`asgi_endpoint`, served under the app at ``/vango/live/<session_id>``) and the
fast door (fastdoor.py, its own port). Per connection: the connection's own task reads
frames and hands each EVENT straight to the session mailbox (one hop) and keeps the heartbeat
(PING, closing a silent socket) on its reading scope's deadline; a writer task drains the
attachment's outbox into the transport. On a transport with ``send_nowait`` (the fast door)
the actor writes its frames straight to the socket and the outbox only holds what the kernel
would not take (one hop per message, not two), and the actor also reads the socket in its own
task (``_Connection.read_event``): the connection's task then only keeps the heartbeat and
ends the connection when that reader fails.

Rules, in order:
1. Origin must be the page's own origin or in ``LiveSettings.allowed_origins``; else
   ERROR BAD_ORIGIN, close 1008.
2. The first frame must be a valid HELLO within ``hello_timeout``; else ERROR, close with the
   ProtocolError's close code (1002 by default).
3. The HELLO token must verify for this session; else ERROR BAD_TOKEN, RELOAD, close 1008.
4. ``manager.attach`` claims the session; one unknown or expired here is remounted from the
   token (``remount``); one that ended, or with no ``remount``, gets RELOAD, close 4001; a
   remount refused for now (draining, full) gets GOAWAY, close 1013.
5. Live: EVENT -> mailbox, PING -> PONG, PONG -> nothing; any frame proves the peer alive.
   A protocol error sends ERROR and closes with its close code; the session stays alive
   (detached) for a correct reconnect. The runtime ending the outbox closes with its code.
6. However the connection ends, both helper tasks end and the attachment is detached.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import attrs
import trio

from .actor import Attachment, ReadAgain
from .errors import VangoError
from .limits import LiveLimiter, TokenBucket
from .manager import SessionManager, SessionNotFound
from .poller import Alarm, ReadyHandler
from .protocol import (
    DEFAULT_LIMITS,
    CloseCode,
    Error,
    ErrorCode,
    Event,
    GoAway,
    Hello,
    Limits,
    Ping,
    Pong,
    ProtocolError,
    Reload,
    decode_client,
    encode,
)
from .tokens import BadToken, TokenClaims, TokenSigner

log = logging.getLogger("vango_actors.live")

LIVE_PATH = "/vango/live/"
"""The live socket's path prefix; the session id follows it."""

TRY_AGAIN_LATER = 1013
"""Close code for a socket refused by the per-address limit: the client retries with backoff."""

#: Tokens of the event rate limit an ``upload`` event spends: a file's chunks may come 8
#: times faster than clicks (800 32 KB chunks a second at the default rate, ~25 MB/s), and
#: events that only call themselves uploads are limited all the same.
UPLOAD_EVENT_COST = 0.125


class _Warnings:
    """At most one warning per kind every ``period`` seconds, saying how many were held back
    since: refusals are worth an operator's eye, a flood of them is not worth a log line
    each (the metrics count every one)."""

    def __init__(self, period: float = 10.0) -> None:
        self.period = period
        self._next: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warn(self, kind: str, message: str, *args: object, session_id: str | None = None) -> None:
        """Log ``message`` unless a line of this ``kind`` went out less than ``period`` ago;
        ``session_id``: the session the socket asked for (the log's structured field)."""
        now = time.monotonic()
        if now < self._next.get(kind, 0.0):
            self._held[kind] = self._held.get(kind, 0) + 1
            return
        self._next[kind] = now + self.period
        held = self._held.pop(kind, 0)
        if held:
            message += f" ({held} more since the last such line)"
        log.warning(
            message, *args, extra=None if session_id is None else {"session_id": session_id}
        )


#: Refused origins, bad tokens and protocol errors, logged (rate-limited) and counted.
refusals = _Warnings()


def _protocol_error(stats: LiveStats, exc: ProtocolError, session_id: str) -> None:
    """A connection is closed for ``exc``: counted and logged."""
    stats.protocol_errors += 1
    refusals.warn(
        "protocol",
        "live socket closed for a protocol error: %s",
        exc.message,
        session_id=session_id,
    )


def _event_cost(event: Event) -> float:
    """Rate-limit tokens an EVENT spends (an upload chunk an eighth, see UPLOAD_EVENT_COST)."""
    return UPLOAD_EVENT_COST if event.type == "upload" else 1.0


REMOUNTABLE = frozenset({"unknown", "expired"})
"""``SessionNotFound.reason`` values for which a valid token remounts the page here."""

Headers = Sequence[tuple[bytes, bytes]]
"""A WebSocket handshake's request headers (name, value), as an ASGI scope holds them."""

Remount = Callable[[TokenClaims, str | None, str, Headers], Awaitable[None]]
"""Create the session ``claims`` vouch for under its id (``origin``: the socket's checked
Origin; then the HELLO's page URL and the handshake's headers, which the page's middleware
sees as a GET's); raises SessionNotFound (client reloads) or Unavailable (client retries)."""


class Unavailable(VangoError):
    """A remount cannot happen here now (draining, session limit): the client should retry,
    probably reaching another worker; sent as GOAWAY + close 1013."""


class ConnectionClosed(VangoError):
    """The peer closed the socket or it broke; ``code`` is the close code when one arrived."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(f"connection closed (code {code}{': ' + reason if reason else ''})")
        self.code = code
        self.reason = reason


def text_message_error() -> ProtocolError:
    """What a transport raises for a text message: the protocol is binary only (close 1003)."""
    return ProtocolError(
        "expected a binary message, got a text message", close_code=CloseCode.UNSUPPORTED_DATA
    )


def close_reason(reason: str) -> str:
    """``reason`` cut to the 123 UTF-8 bytes a WebSocket close frame can carry."""
    return reason.encode()[:123].decode(errors="ignore")


class Transport(Protocol):
    """One accepted WebSocket, as the connection logic sees it.

    ``send`` and ``close`` may be called from concurrent tasks: the transport keeps each
    message whole and in call order, and ignores sends after ``close``.
    """

    async def receive(self) -> bytes:
        """The next binary message; raises ConnectionClosed, or ProtocolError for text."""
        ...

    async def send(self, data: bytes) -> None:
        """Send one binary message; raises ConnectionClosed if the socket is gone."""
        ...

    async def close(self, code: int, reason: str) -> None:
        """Close the socket with ``code``; raises ConnectionClosed if it is already gone."""
        ...


@runtime_checkable
class PolledTransport(Transport, Protocol):
    """A transport that can also send and read without waiting (the fast door's)."""

    def send_nowait(self, data: bytes) -> int:
        """One message in one non-blocking send (``DIRECT_SENT`` / ``_QUEUE`` / ``_PARTIAL``)."""
        ...

    def pending(self) -> bool:
        """Bytes from the peer wait to be read."""
        ...

    def receive_nowait(self) -> bytes | object | None:
        """The next binary message if there is one without waiting; None if there is none
        yet; any other object when something comes first that only ``receive`` takes."""
        ...

    def wait_readable(self, ready: ReadyHandler | None = None) -> Awaitable[None]:
        """Until the socket may have bytes, or ``interrupt``; cancellable, losing nothing.
        ``ready.on_ready()``, if the transport can, is called in another task when bytes
        come (the door's poller); True: it read them all, and the wait goes on."""
        ...

    def interrupt(self) -> None:
        """End a pending ``wait_readable`` now (it returns as if readable)."""
        ...

    @property
    def alarm(self) -> Alarm:
        """The connection's timer: its heartbeat waits here."""
        ...


# ------------------------------------------------------------------------- settings, stats


def _origin_set(origins: Iterable[str]) -> frozenset[str]:
    return frozenset(origins)


@attrs.frozen
class LiveSettings:
    """Live-connection settings; ``heartbeat_ms`` must match what WELCOME announces."""

    allowed_origins: frozenset[str] = attrs.field(default=frozenset(), converter=_origin_set)
    hello_timeout: float = 10.0  # s from accept to a valid HELLO
    heartbeat_ms: int = 15_000  # PING period; 2.5 periods of silence close with 4003
    limits: Limits = DEFAULT_LIMITS
    close_timeout: float = 5.0  # s to spend sending ERROR + close to a peer that may be stuck
    event_rate: float = 100.0  # events (and PINGs) read per second per session; 0: no limit
    event_burst: int = 200  # bucket size: events a session may send at once, unslowed
    max_connections_per_address: int = 1000  # open live sockets per client address; 0: none


@attrs.define
class LiveStats:
    """Plain counters for the live door; the front exports them as metrics."""

    connections_open: int = 0
    connections_total: int = 0
    refused_origins: int = 0
    bad_tokens: int = 0
    protocol_errors: int = 0
    heartbeat_timeouts: int = 0
    sessions_gone: int = 0  # RELOAD sent: the session was unknown or expired
    throttled: int = 0  # times a session's reader paused for the event rate (nothing dropped)
    refused_connections: int = 0  # sockets refused: too many open from one client address
    remounts: int = 0  # sessions re-created from a verified token (no local actor)
    limiter: LiveLimiter = attrs.field(factory=LiveLimiter, eq=False, repr=False)


# ----------------------------------------------------------------------------- Origin check


def _origin_key(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin with default ports filled in; None if unparsable."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def page_origin(host: str, scheme: str) -> str:
    """The origin of a page served to ``Host: host`` over ``scheme`` (http/https/ws/wss)."""
    page_scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    return f"{page_scheme}://{host}"


def check_origin(
    origin: str | None,
    host: str,
    scheme: str,
    allowed: Iterable[str] = (),
    *,
    expected: str | None = None,
) -> str | None:
    """None if ``origin`` may open a live socket, else the reason it may not.

    Allowed: the page's own origin (``expected``, by default from the Host header and
    scheme) and every origin in ``allowed`` (``"*"`` allows any). A missing Origin is
    refused: browsers always send one.
    """
    expected = expected or page_origin(host, scheme)
    allowed = frozenset(allowed)
    if not origin:
        return f"missing Origin header: expected {expected!r}"
    if "*" in allowed:
        return None
    key = _origin_key(origin)
    if key is not None and (
        key == _origin_key(expected) or key in {_origin_key(a) for a in allowed}
    ):
        return None
    also = f" or one of {sorted(allowed)}" if allowed else ""
    return f"Origin {origin!r} is not allowed: expected {expected!r}{also}"


# ------------------------------------------------------------------------------ the logic


async def serve_connection(
    transport: Transport,
    *,
    session_id: str,
    origin: str | None,
    host: str,
    scheme: str,
    manager: SessionManager,
    signer: TokenSigner,
    settings: LiveSettings,
    stats: LiveStats,
    peer: str | None = None,
    expected_origin: str | None = None,
    remount: Remount | None = None,
    headers: Headers = (),
) -> None:
    """Serve one accepted live socket until either side ends it; the transport is closed.

    ``peer`` is the client's address (for the per-address socket limit); None: not limited.
    ``expected_origin`` is the page's origin when the socket's Host is not the page's (the
    fast door listens on its own port); None: derived from ``host`` and ``scheme``.
    ``remount`` re-creates a session this process does not have from its verified token
    (None: such a client is told to reload); ``headers`` are the handshake's, for it (a
    list is the caller's copy, emptied once the handshake is done).
    """
    if not stats.limiter.open(peer, settings.max_connections_per_address):
        stats.refused_connections += 1
        limit = settings.max_connections_per_address
        message = f"too many live connections from {peer}: the limit is {limit} per address"
        refusals.warn(
            "address",
            "live socket refused: %s (VANGO_MAX_CONNECTIONS_PER_ADDRESS; many users behind one "
            "NAT or proxy: see docs/SECURITY.md)",
            message,
        )
        await _refuse(transport, settings, Error(ErrorCode.BUSY, message), TRY_AGAIN_LATER)
        return
    stats.connections_open += 1
    stats.connections_total += 1
    try:
        refusal = check_origin(
            origin, host, scheme, settings.allowed_origins, expected=expected_origin
        )
        if refusal is not None:
            stats.refused_origins += 1
            refusals.warn(
                "origin",
                "live socket refused (peer %s): %s",
                peer,
                refusal,
                session_id=session_id,
            )
            await _refuse(
                transport,
                settings,
                Error(ErrorCode.BAD_ORIGIN, refusal),
                CloseCode.POLICY_VIOLATION,
            )
            return
        attachment = await _handshake(
            transport,
            session_id,
            manager,
            signer,
            settings,
            stats,
            _Remounter(remount, origin, headers),
        )
        if type(headers) is list:  # a door's own copy (~1 KB from a browser): not kept
            headers.clear()  # for the connection's life, only the handshake needs it
        if attachment is not None:
            await _serve_attached(transport, attachment, settings, stats)
    finally:
        stats.connections_open -= 1
        stats.limiter.close(peer)


async def _handshake(
    transport: Transport,
    session_id: str,
    manager: SessionManager,
    signer: TokenSigner,
    settings: LiveSettings,
    stats: LiveStats,
    remounter: _Remounter,
) -> Attachment | None:
    """HELLO, token, claim; on failure tell the client why, close, and return None."""
    try:
        hello = await _receive_hello(transport, session_id, settings)
        claims = signer.verify(hello.token, session_id)
        return await _claim(manager, session_id, hello, claims, remounter)
    except ConnectionClosed:
        return None
    except ProtocolError as exc:
        _protocol_error(stats, exc, session_id)
        await _refuse(transport, settings, Error(exc.code, exc.message), exc.close_code)
    except BadToken as exc:
        # Say why, then send the page to reload for a fresh token (expired, rotated key,
        # restarted server); the session, if any, keeps its state for a correct reconnect.
        stats.bad_tokens += 1
        refusals.warn("token", "live socket refused: %s", exc.reason, session_id=session_id)
        with trio.move_on_after(settings.close_timeout):
            try:
                await transport.send(encode(Error(ErrorCode.BAD_TOKEN, exc.reason)))
            except ConnectionClosed:
                return None
        await _refuse(transport, settings, Reload(exc.reason), CloseCode.POLICY_VIOLATION)
    except SessionNotFound as exc:
        stats.sessions_gone += 1
        await _refuse(transport, settings, Reload(str(exc)), CloseCode.SESSION_GONE)
    except Unavailable as exc:
        await _refuse(transport, settings, GoAway(str(exc)), TRY_AGAIN_LATER)
    return None


@attrs.frozen
class _Remounter:
    remount: Remount | None
    origin: str | None
    headers: Headers = ()


async def _claim(
    manager: SessionManager,
    session_id: str,
    hello: Hello,
    claims: TokenClaims,
    remounter: _Remounter,
) -> Attachment:
    """Claim the session the page rendered, or remount it from the token.

    No local actor (another worker rendered the page, this process restarted, or the session
    expired here): mount ``claims.route`` with ``claims.params`` under ``session_id`` and
    attach to that; it answers WELCOME (not resumed, ack 0) and a resync. A session that
    *ended* (escalated crash) is not remounted: the client reloads.
    """
    try:
        return await manager.attach(session_id, hello)
    except SessionNotFound as exc:
        if remounter.remount is None or exc.reason not in REMOUNTABLE:
            raise
    if not manager.has(session_id):  # another socket of this session may have remounted it
        await remounter.remount(claims, remounter.origin, hello.url, remounter.headers)
    return await manager.attach(session_id, hello)


async def _receive_hello(transport: Transport, session_id: str, settings: LiveSettings) -> Hello:
    with trio.move_on_after(settings.hello_timeout):
        frame = decode_client(await transport.receive(), settings.limits)
        if not isinstance(frame, Hello):
            kind = type(frame).__name__.upper()
            raise ProtocolError(f"expected HELLO as the first frame, got {kind}")
        if frame.session_id != session_id:
            raise ProtocolError(
                f"HELLO names session {frame.session_id!r}, the socket URL names {session_id!r}"
            )
        return frame
    raise ProtocolError(f"expected HELLO within {settings.hello_timeout:g} s, got nothing")


async def _refuse(
    transport: Transport, settings: LiveSettings, frame: Error | Reload | GoAway, code: int
) -> None:
    """Send one last frame and close; a peer that is gone or stuck is given up on."""
    with trio.move_on_after(settings.close_timeout):
        try:
            await transport.send(encode(frame))
            await transport.close(code, frame.message if isinstance(frame, Error) else frame.reason)
        except ConnectionClosed:
            pass


async def _serve_attached(
    transport: Transport, attachment: Attachment, settings: LiveSettings, stats: LiveStats
) -> None:
    """Run the live phase; however it ends, close the socket (once) and detach."""
    connection = _Connection(transport, attachment, settings, stats)
    code, reason = CloseCode.GOING_AWAY, "server shutting down"  # cancelled from outside
    error = None
    try:
        await connection.run()
    except Exception:
        log.exception("live connection failed", extra={"session_id": attachment.session_id})
        code, reason = CloseCode.INTERNAL_ERROR, "internal server error"
        error = Error(ErrorCode.INTERNAL, reason)
    finally:
        with trio.CancelScope(shield=True):
            await connection.close(code, reason, error)  # a no-op if it was already closed
            attachment.detach(going_away=connection.peer_code == CloseCode.GOING_AWAY)
            await connection.reader_out()
        connection.release_bucket()


class _Connection:
    """One attached live socket: the reader (caller's task), a writer and a heartbeat."""

    def __init__(
        self,
        transport: Transport,
        attachment: Attachment,
        settings: LiveSettings,
        stats: LiveStats,
    ) -> None:
        self._transport = transport
        self._attachment = attachment
        self._settings = settings
        self._stats = stats
        self._closed = False
        self._last_seen = trio.current_time()  # when the last frame arrived
        self._period = settings.heartbeat_ms / 1000
        self._next_ping = self._last_seen + self._period
        self._pings = 0
        self._reading: trio.CancelScope | None = None  # its deadline is the next heartbeat tick
        # A transport that can send and read without waiting (the fast door's): the actor
        # writes straight to it (one hop per frame; the outbox only when the socket is full)
        # and reads it in its own task, polling between waits for readability (no reader
        # task, no mailbox hop, no coroutine per EVENT; see poll_event); this task then only
        # keeps the heartbeat and ends the connection when the reader fails.
        self._polled = transport if isinstance(transport, PolledTransport) else None
        attachment.direct = None if self._polled is None else self._polled.send_nowait
        self._failure: Exception | None = None  # the actor's read failed: this task ends it
        self.peer_code: int | None = None  # the close code the peer sent, if it closed
        self._alarm: Alarm | None = None  # _watch's wait (rung by the outbox, the reader)
        self._actor_reading = False
        self._reader_out: trio.Event | None = None  # created when reader_out has to wait
        self._bucket: TokenBucket | None = None  # per-session rate limit (None: off)
        self._hold = False  # the bucket is empty: read nothing until it refills (_refill)
        self._room: trio.Event | None = None  # the reader waits for the writer (_make_room)
        self._writer_gone = False
        if settings.event_rate > 0:
            self._bucket = stats.limiter.bucket(
                attachment.session_id,
                settings.event_rate,
                settings.event_burst,
                self._last_seen,
            )
            self._hold = self._bucket.level(self._last_seen) < 1.0

    def release_bucket(self) -> None:
        """Keep the session's rate-limit state for its next connection."""
        if self._bucket is not None:
            limiter = self._stats.limiter
            limiter.release(self._attachment.session_id, self._bucket, trio.current_time())

    def run(self) -> Awaitable[None]:
        """Serve the connection until it ends (await at once). On the fast door this is the
        connection's wait itself (``_watch``): a plain function, so an idle connection's
        stack keeps no frame of its own for it."""
        polled = self._polled
        if polled is None:
            return self._read_and_write()
        # One task, no nursery: an idle connection is this task alone. (The actor waits on
        # the socket itself: a wake ends that wait at once, so reader_out need not wait for
        # it; a read_event may be mid-write: that waits.)
        self._attachment.read_with(
            self.read_event, self.poll_event, polled.wait_readable, polled.interrupt
        )
        return self._watch(polled.alarm)

    async def _read_and_write(self) -> None:
        """The ASGI door's connection: this task reads, a writer task drains the outbox."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._write_outbox, nursery.cancel_scope)
            await self._read_frames()
            nursery.cancel_scope.cancel()

    async def reader_out(self) -> None:
        """Wait until the actor left ``read_event`` for good (after the detach), so this task
        may read the socket again (the close handshake)."""
        self._attachment.reader = None
        if self._actor_reading:
            if self._reader_out is None:
                self._reader_out = trio.Event()
            await self._reader_out.wait()

    def poll_event(self) -> Event | ReadAgain | None:
        """``read_event`` without waiting, run in the session actor's task: the next EVENT
        from the bytes already received or one non-blocking read (answering PING on the
        way); ``WAIT`` when the socket has nothing yet (the transport's ``wait_readable``,
        then poll again); ``RECEIVE`` when a control frame must be answered first or the
        rate limit holds reading (``read_event`` does both); None when the reader failed,
        as ``read_event`` does."""
        transport = self._polled
        assert transport is not None
        try:
            while True:
                if self._hold:
                    return ReadAgain.RECEIVE
                data = transport.receive_nowait()
                if type(data) is not bytes:
                    return ReadAgain.WAIT if data is None else ReadAgain.RECEIVE
                event = self._take(data)
                if event is not None:
                    return event
        except Exception as exc:  # ConnectionClosed, ProtocolError, or a bug: this task ends it
            self._reader_failed(exc)
            return None

    def _take(self, data: bytes) -> Event | None:
        """One message the actor read: the EVENT to handle, or None when it was answered
        here (PING, PONG); raises ProtocolError."""
        self._last_seen = trio.current_time()
        frame = decode_client(data, self._settings.limits)
        if type(frame) is Event:
            self._spend(_event_cost(frame))
            return frame
        elif type(frame) is Ping:
            self._spend()
            self._attachment.emit(encode(Pong(frame.n)))
        elif type(frame) is Hello:
            raise ProtocolError("unexpected HELLO: a connection sends HELLO once, first")
        return None

    def _reader_failed(self, exc: Exception) -> None:
        """The actor's read failed: back to the mailbox; this task closes the connection."""
        self._attachment.reader = None
        self._failure = exc
        if self._alarm is not None:
            self._alarm.ring()

    async def read_event(self) -> Event | None:
        """Run in the session actor's task (the fast door): read frames until an EVENT to
        return, answering PING and waiting out the rate limit on the way. A failure (the
        peer closed, a protocol error) is handed to the connection's task, which closes the
        socket; then None, and the actor goes back to its mailbox. Cancelled (the actor has
        a message, or the attachment changed) only while no frame is half handled."""
        self._actor_reading = True
        try:
            while True:
                if self._hold:
                    await self._refill()
                event = self._take(await self._transport.receive())
                if event is not None:
                    return event
        except Exception as exc:  # ConnectionClosed, ProtocolError, or a bug: this task ends it
            self._reader_failed(exc)
            return None
        finally:
            self._actor_reading = False
            if self._attachment.reader is None and self._reader_out is not None:
                self._reader_out.set()

    async def _watch(self, alarm: Alarm) -> None:
        """The connection's task while the actor reads: the outbox when frames wait in it
        (the actor's while the socket was full, WELCOME and catch-up, the runtime ending it),
        the heartbeat on its deadline, and the end of the connection when the reader fails.
        It waits for all three at once on the transport's alarm (the door's poller keeps the
        heartbeat deadlines of every connection: no cancel scope per idle connection), which
        the outbox and the reader ring; so no writer task and no nursery are kept either."""
        outbox = self._attachment.outbox
        self._alarm = alarm
        outbox.notify = self._wake_watch
        try:
            while self._failure is None:
                if not await self._drain_outbox():
                    return
                if not outbox and not outbox.closed and self._failure is None:
                    await alarm.sleep_until(self._tick_at())
                if self._failure is None and not await self._tick():
                    return
        finally:
            outbox.notify = None
            self._alarm = None
        failure = self._failure
        if isinstance(failure, ConnectionClosed):
            self._closed = True
            self.peer_code = failure.code
        elif isinstance(failure, ProtocolError):
            _protocol_error(self._stats, failure, self._attachment.session_id)
            error = Error(failure.code, failure.message)
            await self.close(failure.close_code, failure.message, error)
        elif failure is not None:
            raise failure

    async def close(self, code: int, reason: str, error: Error | None = None) -> None:
        """Send ``error`` (if any) and close, once; later sends are dropped."""
        if self._closed:
            return
        self._closed = True
        self._attachment.direct = None  # nothing may slip between ERROR and the close
        with trio.move_on_after(self._settings.close_timeout):
            try:
                if error is not None:
                    await self._transport.send(encode(error))
                await self._transport.close(code, reason)
            except ConnectionClosed:
                pass

    async def _read_frames(self) -> None:
        """Read and handle frames; the heartbeat lives here too: the reading scope's deadline
        is the next tick (a PING due, or the peer's silence running out), so there is no
        heartbeat task and no per-frame timer; waits that must not be cut (a full mailbox, a
        full socket) lift the deadline (:meth:`_untimed`)."""
        limits = self._settings.limits
        try:
            while True:
                with trio.CancelScope(deadline=self._tick_at()) as self._reading:
                    while True:
                        if self._hold:
                            await self._refill()  # (cut by the deadline: nothing was read)
                        if self._backlogged():
                            with self._untimed():
                                await self._make_room()
                        data = await self._transport.receive()
                        self._last_seen = trio.current_time()
                        await self._handle(decode_client(data, limits))
                self._reading = None
                if not await self._tick():
                    return
        except ConnectionClosed as exc:
            self._closed = True
            self.peer_code = exc.code
        except ProtocolError as exc:
            _protocol_error(self._stats, exc, self._attachment.session_id)
            await self.close(exc.close_code, exc.message, Error(exc.code, exc.message))

    async def _handle(self, frame: Hello | Event | Ping | Pong) -> None:
        if type(frame) is Event:
            self._spend(_event_cost(frame))
            if not self._attachment.offer(frame):  # the mailbox is full: wait for room
                with self._untimed():
                    await self._attachment.deliver(frame)
                self._last_seen = trio.current_time()  # waiting was not the peer's silence
        elif type(frame) is Ping:
            self._spend()
            await self._reply(encode(Pong(frame.n)))
        elif type(frame) is Hello:
            raise ProtocolError("unexpected HELLO: a connection sends HELLO once, first")

    def _backlogged(self) -> bool:
        """Half the outbox is taken: the writer is behind (a transport that sends slower
        than the actor answers, the ASGI door's)."""
        stats = self._attachment.outbox.statistics()
        return stats.current_buffer_used * 2 >= stats.max_buffer_size > 0

    async def _make_room(self) -> None:
        """Read nothing more until the writer caught up: what the peer sends waits in the
        socket (TCP slows it), instead of answers piling up in the outbox until it overflows
        and an honest client that reads as fast as it can is cut off as a slow one."""
        while self._backlogged() and not (self._closed or self._writer_gone):
            self._room = trio.Event()
            await self._room.wait()

    def _wrote(self) -> None:
        """The writer sent a frame: a reader waiting for room may go on."""
        if self._room is not None and not self._backlogged():
            self._room.set()
            self._room = None

    def _spend(self, cost: float = 1.0) -> None:
        """An EVENT or PING was read: spend ``cost`` tokens; the last one holds the next
        read."""
        bucket = self._bucket
        if bucket is not None and not bucket.spend(self._last_seen, cost):
            self._hold = True
            self._stats.throttled += 1

    async def _refill(self) -> None:
        """Wait until the session's bucket holds a token again. Past the rate the reader
        reads nothing: what the peer sends waits in the socket buffers and TCP slows it
        down, so a flood costs no work and an honest burst (a queue flushed on reconnect)
        loses no event. Cancelled, it has read nothing."""
        assert self._bucket is not None
        await trio.sleep_until(self._bucket.due(trio.current_time()))
        self._hold = False

    async def _send(self, data: bytes) -> None:
        if not self._closed:
            await self._transport.send(data)

    async def _reply(self, data: bytes) -> None:
        """``_send`` from the reader: the heartbeat deadline must not cut the frame."""
        with self._untimed():
            await self._send(data)

    @contextlib.contextmanager
    def _untimed(self) -> Iterator[None]:
        """Lift the heartbeat deadline of the reading scope for a wait that must not be cut
        (a frame half written, an event half delivered); restored after."""
        scope = self._reading
        if scope is None:
            yield
            return
        scope.deadline = math.inf
        try:
            yield
        finally:
            scope.deadline = self._tick_at()

    def _peer_waits(self) -> bool:
        """The peer may have sent what this side has not read: not its silence."""
        if self._hold:  # the reader waits for the rate limit, not for the peer
            return True
        return not self._actor_reading and self._polled is not None and self._polled.pending()

    def _tick_at(self) -> float:
        return min(self._next_ping, self._last_seen + 2.5 * self._period)

    async def _tick(self) -> bool:
        """PING when one is due; close with 4003 after 2.5 periods without any frame.
        False: the connection is closed."""
        now = trio.current_time()
        timeout = 2.5 * self._period
        if now >= self._last_seen + timeout and self._peer_waits():
            self._last_seen = now  # the peer sent bytes the busy session has not read yet
        if now >= self._last_seen + timeout:
            self._stats.heartbeat_timeouts += 1
            await self.close(CloseCode.IDLE_TIMEOUT, f"no frame for {timeout:g} s")
            return False
        if now >= self._next_ping:
            self._pings += 1
            self._next_ping += self._period
            try:
                await self._send(encode(Ping(self._pings)))
            except ConnectionClosed:
                self._closed = True
                return False
        return True

    def _wake_watch(self) -> None:
        if self._alarm is not None:
            self._alarm.ring()

    async def _drain_outbox(self) -> bool:
        """Send what waits in the outbox, without waiting for more; False when the runtime
        ended it (the connection is then closed with its code) or the socket failed."""
        att = self._attachment
        outbox = att.outbox
        try:
            while True:
                try:
                    data = outbox.receive_nowait()
                except trio.WouldBlock:
                    return True
                except trio.EndOfChannel:
                    await self.close(att.close_code, att.close_reason)
                    return False
                await self._write_one(att, data)
        except ConnectionClosed:
            self._closed = True
            return False

    async def _write_one(self, att: Attachment, data: bytes) -> None:
        """Send one outbox frame (empty: flush the rest of a direct send); once the outbox is
        empty the actor may write directly again."""
        if data:
            await self._send(data)
        elif not self._closed:
            flush = getattr(self._transport, "flush", None)
            if flush is not None:
                await flush()
        if att.direct is not None and not att.outbox.statistics().current_buffer_used:
            att.backlogged = False
        self._wrote()

    async def _write_outbox(self, done: trio.CancelScope) -> None:
        """Drain the outbox (the actor's frames while the socket was full, and the runtime's
        before the direct path starts); when the runtime ends it, close with its code."""
        att = self._attachment
        flush = getattr(self._transport, "flush", None)
        try:
            async for data in att.outbox:
                if data:
                    await self._send(data)
                elif flush is not None and not self._closed:  # the rest of a direct send
                    await flush()
                if att.direct is not None and not att.outbox.statistics().current_buffer_used:
                    att.backlogged = False  # drained: the actor may write directly again
                self._wrote()
            await self.close(att.close_code, att.close_reason)
        except ConnectionClosed:
            self._closed = True
        finally:
            self._writer_gone = True  # a reader waiting for room must not wait for ever
            if self._room is not None:
                self._room.set()
        done.cancel()


# ------------------------------------------------------------------------------- ASGI door

AsgiReceive = Callable[[], Awaitable[Any]]
AsgiSend = Callable[[Any], Awaitable[None]]


class AsgiTransport:
    """:class:`Transport` over an accepted ASGI websocket (``receive`` / ``send`` callables)."""

    def __init__(self, receive: AsgiReceive, send: AsgiSend) -> None:
        self._receive = receive
        self._send = send

    async def receive(self) -> bytes:
        message = await self._receive()
        kind = message["type"]
        if kind == "websocket.receive":
            data = message.get("bytes")
            if data is None:
                raise text_message_error()
            return bytes(data)
        if kind == "websocket.disconnect":
            raise ConnectionClosed(message.get("code"), message.get("reason") or "")
        raise ConnectionClosed(None, f"unexpected ASGI message {kind!r}")

    async def send(self, data: bytes) -> None:
        try:
            await self._send({"type": "websocket.send", "bytes": data})
        except OSError as exc:  # ASGI 2.4: sending on a closed socket raises an OSError
            raise ConnectionClosed(None, str(exc)) from None

    async def close(self, code: int, reason: str) -> None:
        try:
            await self._send(
                {"type": "websocket.close", "code": code, "reason": close_reason(reason)}
            )
        except OSError as exc:
            raise ConnectionClosed(None, str(exc)) from None


def session_id_from_path(path: str) -> str | None:
    """The session id in ``/vango/live/<session_id>``, or None if the path is not a live URL."""
    if not path.startswith(LIVE_PATH):
        return None
    session_id = path[len(LIVE_PATH) :]
    return session_id if session_id and "/" not in session_id else None


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def asgi_endpoint(
    scope: Mapping[str, Any],
    receive: AsgiReceive,
    send: AsgiSend,
    *,
    manager: SessionManager,
    signer: TokenSigner,
    settings: LiveSettings,
    stats: LiveStats,
    remount: Remount | None = None,
) -> None:
    """Serve an ASGI ``websocket`` scope for ``/vango/live/<session_id>`` to its end.

    Not a live URL: the handshake is refused (HTTP 403). Otherwise the socket is accepted,
    so every refusal after it reaches the client as an ERROR/RELOAD frame and a close code.
    """
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    session_id = session_id_from_path(scope["path"])
    if session_id is None:
        await send({"type": "websocket.close", "code": CloseCode.POLICY_VIOLATION})
        return
    try:
        await send({"type": "websocket.accept"})
    except Exception:  # (hypercorn: see front._guard_hypercorn_connections)
        # The server answered the upgrade itself meanwhile (hypercorn answers bytes sent
        # before its 101 with a 400, then raises here): the connection is gone, and its
        # failure is the server's to log, once.
        return
    await serve_connection(
        AsgiTransport(receive, send),
        session_id=session_id,
        origin=_header(scope, b"origin"),
        host=_header(scope, b"host") or "",
        scheme=scope.get("scheme", "ws"),
        manager=manager,
        signer=signer,
        settings=settings,
        stats=stats,
        peer=_client_address(scope),
        remount=remount,
        headers=tuple(scope.get("headers", ())),  # (the scope's own: never cleared)
    )


def _client_address(scope: Mapping[str, Any]) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None
