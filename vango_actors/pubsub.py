"""Topic pub/sub: one process in memory, or many processes and machines through Redis.

A broker fans messages out to the subscriptions of its process. ``publish(topic, message)``
sends a msgpack-serialisable value to every subscriber of ``topic`` in every process sharing
the backend; each subscription receives its own decoded copy. Delivery is at-most-once, like
Redis pub/sub itself: a message published while Redis is unreachable is refused with
:class:`PubSubUnavailable` (``maybe_sent`` when Redis was reached but did not answer in
time: it may still deliver it), and a subscription whose buffer is full drops (and counts)
the message instead of slowing the publisher.

Backends (``VANGO_PUBSUB``):

- ``memory`` (default): publishing delivers to this process only. No tasks, no I/O.
- ``redis://[user:password@]host:port[/db]`` (or ``rediss://``): every process PSUBSCRIBEs
  once to ``<prefix>*`` (as Phoenix.PubSub's Redis adapter does: one pattern, local fan-out),
  over a trio TCP stream parsed by ``hiredis`` (no thread parked in a blocking read, PING every
  few seconds so a dead link is noticed). Publishing goes through the official ``redis``
  client in ``trio.to_thread`` with short socket timeouts, bounded by ``publish_timeout``.
  When the link drops, the listener reconnects with capped backoff and resubscribes;
  :meth:`RedisBroker.status` (and ``/vango/health``) reports it down meanwhile.

Components subscribe with ``self.subscribe(topic, handler)`` (each message put straight into
the session mailbox, no task per subscription; unsubscribed on unmount); services and other
tasks use ``broker.subscribe(topic)``. ``publish_and_keep`` / ``recent`` keep the last N
messages of a topic where every process can read them (Redis: a capped list), e.g. a chat
room's history for a worker that starts later.
"""

from __future__ import annotations

import logging
import random
import ssl
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

import attrs
import msgpack  # type: ignore[import-untyped]
import trio

from .errors import VangoError

if TYPE_CHECKING:
    from .component import Host
    from .scheduler import Call, TaskHandle

log = logging.getLogger("vango_actors.pubsub")

DEFAULT_BUFFER = 256  # messages a subscription may hold before it drops new ones
DEFAULT_PREFIX = "vango:"


class PubSubError(VangoError):
    """Base of the pub/sub errors."""


class PubSubUnavailable(PubSubError):
    """The backend could not take a message: Redis refused it or was unreachable (it was not
    sent), or did not answer in time (``maybe_sent``: the command may already be in Redis,
    which then delivers it late; do not tell a user it was lost, or a retry doubles it)."""

    def __init__(self, message: str, *, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


@attrs.frozen
class PubSubStatus:
    """What ``/vango/health`` reports: backend, link state and counters of this process."""

    backend: str  # "memory" or "redis"
    connected: bool
    error: str | None  # why the link is down (None when connected)
    published: int
    delivered: int  # messages handed to local subscriptions
    dropped: int  # messages a full subscription buffer refused
    reconnects: int
    subscriptions: int

    def as_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "status": "ok" if self.connected else "down",
            "error": self.error,
            "published": self.published,
            "delivered": self.delivered,
            "dropped": self.dropped,
            "reconnects": self.reconnects,
            "subscriptions": self.subscriptions,
        }


def encode_message(topic: str, message: Any) -> bytes:
    """msgpack bytes for ``message``; ValueError (naming the topic) if it cannot be encoded."""
    if not isinstance(topic, str) or not topic:
        raise ValueError(f"publish: expected a non-empty str topic, got {topic!r}")
    try:
        data: bytes = msgpack.packb(message, use_bin_type=True)
        return data
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(
            f"publish({topic!r}): expected a msgpack-serialisable message (dict, list, str, "
            f"int, float, bool, None, bytes), got {type(message).__name__}: {exc}"
        ) from None


def decode_message(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


class Subscription:
    """Messages of one topic for one subscriber, buffered (bounded) until read.

    Iterate it (``async for message in sub``) or call :meth:`receive`; :meth:`close` (or
    leaving ``with broker.subscribed(topic)``) unsubscribes. Iteration ends once closed.
    """

    def __init__(self, hub: Hub, topic: str, buffer: int) -> None:
        self.topic = topic
        self._hub = hub
        self._send, self._receive = trio.open_memory_channel[bytes](buffer)
        self.dropped = 0
        self.closed = False

    def _offer(self, data: bytes) -> bool:
        try:
            self._send.send_nowait(data)
        except trio.WouldBlock:
            self.dropped += 1
            return False
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return False
        return True

    async def receive(self) -> Any:
        """The next message; raises ``trio.EndOfChannel`` once the subscription is closed."""
        try:
            data = await self._receive.receive()
        except trio.ClosedResourceError:
            raise trio.EndOfChannel from None
        return decode_message(data)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while True:
            try:
                yield await self.receive()
            except trio.EndOfChannel:
                return

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Unsubscribe; messages already buffered can still be read. Idempotent."""
        if not self.closed:
            self.closed = True
            self._hub._remove(self)
            self._send.close()


class _Subscriber(Protocol):
    topic: str

    def _offer(self, data: bytes) -> bool: ...


class Hub:
    """The subscriptions of this process, by topic; delivers encoded messages to them."""

    def __init__(self) -> None:
        self._topics: dict[str, dict[_Subscriber, None]] = {}  # insertion-ordered sets
        self.delivered = 0
        self.dropped = 0

    def subscribe(self, topic: str, buffer: int = DEFAULT_BUFFER) -> Subscription:
        if not isinstance(topic, str) or not topic:
            raise ValueError(f"subscribe: expected a non-empty str topic, got {topic!r}")
        sub = Subscription(self, topic, buffer)
        self._add(sub)
        return sub

    def _add(self, sub: _Subscriber) -> None:
        topic = sub.topic
        if not isinstance(topic, str) or not topic:
            raise ValueError(f"subscribe: expected a non-empty str topic, got {topic!r}")
        self._topics.setdefault(topic, {})[sub] = None

    def deliver(self, topic: str, data: bytes) -> int:
        """Offer ``data`` to every local subscription of ``topic``; returns how many took it."""
        subs = self._topics.get(topic)
        if not subs:
            return 0
        taken = 0
        for sub in tuple(subs):
            if sub._offer(data):
                taken += 1
            else:
                self.dropped += 1
        self.delivered += taken
        return taken

    def count(self) -> int:
        return sum(len(subs) for subs in self._topics.values())

    def subscribers(self, topic: str) -> int:
        """Local subscriptions of ``topic``."""
        return len(self._topics.get(topic, ()))

    def _remove(self, sub: _Subscriber) -> None:
        subs = self._topics.get(sub.topic)
        if subs is not None:
            subs.pop(sub, None)
            if not subs:
                del self._topics[sub.topic]


class Broker(Protocol):
    """What components, services and the front use; both backends implement it."""

    hub: Hub

    async def publish(self, topic: str, message: Any) -> None: ...
    async def publish_and_keep(self, topic: str, message: Any, keep: int) -> None: ...
    async def recent(self, topic: str, count: int) -> list[Any]: ...
    def publish_local(self, topic: str, message: Any) -> int: ...
    def subscribe(self, topic: str, buffer: int = DEFAULT_BUFFER) -> Subscription: ...
    def status(self) -> PubSubStatus: ...
    async def wait_connected(self) -> None: ...
    async def wait_reconnect(self, seen: int) -> None: ...


class _BrokerBase:
    backend = "memory"

    def __init__(self) -> None:
        self.hub = Hub()
        self.published = 0

    def subscribe(self, topic: str, buffer: int = DEFAULT_BUFFER) -> Subscription:
        """A new subscription to ``topic`` (registered now: nothing published later is missed)."""
        return self.hub.subscribe(topic, buffer)

    @contextmanager
    def subscribed(self, topic: str, buffer: int = DEFAULT_BUFFER) -> Iterator[Subscription]:
        sub = self.subscribe(topic, buffer)
        try:
            yield sub
        finally:
            sub.close()

    def publish_local(self, topic: str, message: Any) -> int:
        """Deliver to this process's subscribers only (never fails); returns how many took it."""
        return self.hub.deliver(topic, encode_message(topic, message))

    def _status(self, connected: bool, error: str | None, reconnects: int) -> PubSubStatus:
        hub = self.hub
        return PubSubStatus(
            self.backend,
            connected,
            error,
            self.published,
            hub.delivered,
            hub.dropped,
            reconnects,
            hub.count(),
        )


def _check_count(what: str, count: int) -> None:
    if type(count) is not int or count < 1:
        raise ValueError(f"{what}: expected a count >= 1, got {count!r}")


class MemoryBroker(_BrokerBase):
    """One process: publishing is a local fan-out."""

    def __init__(self) -> None:
        super().__init__()
        self._kept: dict[str, deque[bytes]] = {}

    async def publish(self, topic: str, message: Any) -> None:
        """Deliver ``message`` to every subscriber of ``topic`` in this process."""
        data = encode_message(topic, message)
        self.published += 1
        self.hub.deliver(topic, data)
        await trio.lowlevel.checkpoint()

    async def publish_and_keep(self, topic: str, message: Any, keep: int) -> None:
        """Publish, and keep ``message`` among the last ``keep`` of ``topic`` (:meth:`recent`)."""
        _check_count("publish_and_keep(keep=...)", keep)
        data = encode_message(topic, message)
        kept = self._kept.get(topic)
        if kept is None or kept.maxlen != keep:
            kept = self._kept[topic] = deque(kept or (), maxlen=keep)
        kept.append(data)
        await self.publish(topic, message)

    async def recent(self, topic: str, count: int) -> list[Any]:
        """The last ``count`` messages kept on ``topic`` (oldest first)."""
        _check_count("recent(count=...)", count)
        await trio.lowlevel.checkpoint()
        return [decode_message(data) for data in list(self._kept.get(topic, ()))[-count:]]

    reconnects = 0  # (never disconnected)

    def status(self) -> PubSubStatus:
        return self._status(True, None, 0)

    async def wait_connected(self) -> None:
        await trio.lowlevel.checkpoint()

    async def wait_reconnect(self, seen: int) -> None:
        """Never returns: this process's hub is never disconnected (see RedisBroker's)."""
        await trio.sleep_forever()


# ------------------------------------------------------------------------------ Redis


@attrs.frozen
class RedisAddress:
    """The parts of a ``redis://`` URL the listener's own connection needs."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool

    @classmethod
    def parse(cls, url: str) -> RedisAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(f"pub/sub URL: expected redis:// or rediss://, got {url!r}")
        try:
            port = parts.port or 6379
        except ValueError:
            raise ValueError(f"pub/sub URL: bad port in {url!r}") from None
        return cls(
            host=parts.hostname or "localhost",
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=parts.scheme == "rediss",
        )


def resp_command(*args: bytes | str) -> bytes:
    """One Redis command in RESP (an array of bulk strings)."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode() if isinstance(arg, str) else arg
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class RedisBroker(_BrokerBase):
    """Many processes: PUBLISH through ``redis.Redis``, PSUBSCRIBE on a trio stream.

    Run :meth:`serve` in a nursery (``open_pubsub`` does). Timings (seconds) bound every wait:
    ``publish_timeout`` per publish, ``ping_interval`` between listener PINGs (a reply must
    come within another interval), reconnect backoff from 0.1 doubling to ``max_backoff``.
    """

    backend = "redis"

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        publish_timeout: float = 2.0,
        ping_interval: float = 5.0,
        max_backoff: float = 2.0,
    ) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        super().__init__()
        self.url = url
        self.address = RedisAddress.parse(url)
        self.prefix = prefix
        self.publish_timeout = publish_timeout
        self.ping_interval = ping_interval
        self.max_backoff = max_backoff
        timeout = max(0.1, publish_timeout / 2)
        self._client = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 1),  # one retry: a pooled connection may be stale
            health_check_interval=0,
        )
        self._redis_errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self.connected = False
        self.error: str | None = "not connected yet"
        self.reconnects = 0
        self._connected_event = trio.Event()

    # ---- publishing
    async def publish(self, topic: str, message: Any) -> None:
        """Send ``message`` to every subscriber of ``topic`` in every process.

        Raises PubSubUnavailable when Redis refuses or fails (the message was not sent), or
        while this process's listener is not subscribed (see :meth:`_check_listening`); when
        Redis does not answer within ``publish_timeout`` seconds it raises with
        ``maybe_sent`` set: the command may be waiting in Redis, which delivers it late.
        """
        self._check_listening(topic)
        data = encode_message(topic, message)
        channel = (self.prefix + topic).encode()
        await self._blocking(f"publish({topic!r})", self._client.publish, channel, data)
        self.published += 1

    async def publish_and_keep(self, topic: str, message: Any, keep: int) -> None:
        """Publish, and keep ``message`` among the last ``keep`` of ``topic`` in Redis (a list
        ``<prefix>kept:<topic>``, LPUSH + LTRIM + PUBLISH in one MULTI), so a process that
        starts later reads them with :meth:`recent`. Raises like :meth:`publish`; then nothing
        was kept or sent, unless ``maybe_sent`` (a timeout: both may still happen)."""
        _check_count("publish_and_keep(keep=...)", keep)
        self._check_listening(topic)
        data = encode_message(topic, message)
        channel = (self.prefix + topic).encode()
        key = self._kept_key(topic)

        def send() -> None:
            pipe = self._client.pipeline(transaction=True)
            pipe.lpush(key, data)
            pipe.ltrim(key, 0, keep - 1)
            pipe.publish(channel, data)
            pipe.execute()

        await self._blocking(f"publish({topic!r})", send)
        self.published += 1

    async def recent(self, topic: str, count: int) -> list[Any]:
        """The last ``count`` messages kept on ``topic`` by any process (oldest first);
        PubSubUnavailable when Redis cannot answer within ``publish_timeout``."""
        _check_count("recent(count=...)", count)
        key = self._kept_key(topic)
        newest_first = await self._blocking(
            f"recent({topic!r})", self._client.lrange, key, 0, count - 1
        )
        out = []
        for data in reversed(newest_first):
            try:
                out.append(decode_message(data))
            except ValueError:  # not ours (msgpack errors are ValueErrors): skip it
                continue
        return out

    def _check_listening(self, topic: str) -> None:
        """Refuse to publish while the listener is not subscribed (starting, or reconnecting
        after an outage, which takes up to ``max_backoff``) and this process has subscribers
        of ``topic``: Redis would take the message, but they (the sender's page among them)
        would never get it."""
        if not self.connected and self.hub.subscribers(topic):
            raise PubSubUnavailable(
                f"publish({topic!r}) failed: Redis at {self._where()} is unavailable to this "
                f"process's listener ({self.error}); the message was not sent"
            )

    def _kept_key(self, topic: str) -> bytes:
        if not isinstance(topic, str) or not topic:
            raise ValueError(f"expected a non-empty str topic, got {topic!r}")
        return (self.prefix + "kept:" + topic).encode()

    async def _blocking(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on the blocking client in a thread, bounded by ``publish_timeout``."""
        with trio.move_on_after(self.publish_timeout):
            try:
                return await trio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)
            except self._redis_errors as exc:
                raise PubSubUnavailable(
                    f"{what} failed: Redis at {self._where()} is unavailable "
                    f"({type(exc).__name__}: {exc})"
                ) from exc
        raise PubSubUnavailable(
            f"{what} failed: Redis at {self._where()} did not answer within "
            f"{self.publish_timeout} s (the command may still run when it does)",
            maybe_sent=True,
        )

    @property
    def client(self) -> Any:
        """The ``redis.Redis`` client (blocking: call it through ``trio.to_thread``)."""
        return self._client

    def _where(self) -> str:
        return f"{self.address.host}:{self.address.port}"

    # ---- listening
    def status(self) -> PubSubStatus:
        return self._status(self.connected, self.error, self.reconnects)

    async def wait_connected(self) -> None:
        """Wait until the listener is subscribed (at start-up, or again after an outage)."""
        while not self.connected:
            await self._connected_event.wait()

    async def wait_reconnect(self, seen: int) -> None:
        """Wait until the listener subscribed again after an outage, once ``reconnects`` is
        above ``seen``: what was published meanwhile never reached this process, so a
        subscriber that keeps state reloads it then (``recent``)."""
        while self.reconnects <= seen:
            await self._connected_event.wait()

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Keep one subscribed connection to Redis until cancelled; never raises on outages."""
        task_status.started()
        backoff = 0.1
        while True:
            was_up = await self._listen_logged()
            backoff = 0.1 if was_up else min(self.max_backoff, backoff * 2)
            await trio.sleep(backoff * random.uniform(0.75, 1.25))  # jitter: no thundering herd

    async def _listen_logged(self) -> bool:
        """One connection's life; True if it got subscribed before it ended."""
        reconnects = self.reconnects
        was_up = False
        try:
            await self._listen_once()
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError, PubSubError) as e:
            was_up = self.connected
            self._set_down(f"{type(e).__name__}: {e}")
        except trio.TooSlowError:
            self._set_down(f"connecting to Redis at {self._where()} timed out")
        except Exception as exc:  # hiredis.ProtocolError and the like: log, reconnect
            log.exception("pub/sub listener failed")
            was_up = self.connected
            self._set_down(f"{type(exc).__name__}: {exc}")
        else:
            was_up = self.connected
            self._set_down("Redis closed the connection")
        return was_up or self.reconnects != reconnects

    async def _listen_once(self) -> None:
        import hiredis

        stream = await self._open_stream()
        async with stream:
            reader = hiredis.Reader()
            if self.address.password is not None:
                auth = [self.address.username or "default", self.address.password]
                await stream.send_all(resp_command("AUTH", *auth))
            await stream.send_all(resp_command("PSUBSCRIBE", self.prefix + "*"))
            try:
                async with trio.open_nursery() as nursery:
                    alive = _Alive(trio.current_time())
                    nursery.start_soon(self._pinger, stream, alive)
                    await self._read_replies(stream, reader, alive)
                    nursery.cancel_scope.cancel()
            except BaseExceptionGroup as group:
                # the nursery wraps even one error: give _listen_logged the error itself (a
                # refused AUTH, an unanswered PING), not "ExceptionGroup: ..."
                raise _sole_error(group) from None

    async def _open_stream(self) -> trio.abc.Stream:
        addr = self.address
        timeout = max(1.0, self.publish_timeout)
        with trio.fail_after(timeout):
            if not addr.tls:
                return await trio.open_tcp_stream(addr.host, addr.port)
            stream = await trio.open_ssl_over_tcp_stream(
                addr.host, addr.port, ssl_context=ssl.create_default_context()
            )
        # the handshake is bounded too: trio would do it at the first send, unbounded, and a
        # plain (non-TLS) Redis never answers a ClientHello
        with trio.move_on_after(timeout):
            try:
                await stream.do_handshake()
            except BaseException:
                await trio.aclose_forcefully(stream)
                raise
            return stream
        await trio.aclose_forcefully(stream)
        raise PubSubUnavailable(
            f"TLS handshake with Redis at {self._where()} did not complete within {timeout:g} s "
            "(rediss:// needs a TLS port)"
        )

    async def _pinger(self, stream: trio.abc.Stream, alive: _Alive) -> None:
        while True:
            await trio.sleep(self.ping_interval)
            silent = trio.current_time() - alive.last
            if silent > 2 * self.ping_interval:  # no reply to the last PING: the link is dead
                raise PubSubUnavailable(
                    f"Redis at {self._where()} did not answer PING for {silent:.1f} s"
                )
            await stream.send_all(resp_command("PING"))

    async def _read_replies(self, stream: trio.abc.Stream, reader: Any, alive: _Alive) -> None:
        while True:
            data = await stream.receive_some(65536)
            if not data:
                return
            alive.last = trio.current_time()
            reader.feed(data)
            while (reply := reader.gets()) is not False:
                self._on_reply(reply)

    def _on_reply(self, reply: Any) -> None:
        if isinstance(reply, Exception):  # e.g. a failed AUTH: a clear error, then retry
            raise PubSubUnavailable(f"Redis at {self._where()} refused: {reply}")
        if not isinstance(reply, list) or not reply:
            return
        kind = reply[0]
        if kind == b"pmessage" and len(reply) == 4:
            channel = reply[2].decode(errors="replace")
            self.hub.deliver(channel[len(self.prefix) :], reply[3])
        elif kind == b"psubscribe":
            self._set_up()

    def _set_up(self) -> None:
        if self.connected:
            return
        if self.error != "not connected yet":
            self.reconnects += 1
            log.warning("pub/sub: Redis at %s is back; resubscribed", self._where())
        self.connected, self.error = True, None
        self._connected_event.set()
        self._connected_event = trio.Event()

    def _set_down(self, reason: str) -> None:
        if self.connected:
            log.warning("pub/sub: lost Redis at %s (%s); reconnecting", self._where(), reason)
        elif self.error == "not connected yet":
            log.warning("pub/sub: cannot reach Redis at %s (%s); retrying", self._where(), reason)
        self.connected = False
        self.error = reason

    async def aclose(self) -> None:
        await trio.to_thread.run_sync(self._client.close, abandon_on_cancel=True)


@attrs.define
class _Alive:
    last: float


def _sole_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one Exception a group holds (however nested); the group itself otherwise (several
    errors, or a cancellation, which must propagate as it came)."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        exc = pending.pop()
        if isinstance(exc, BaseExceptionGroup):
            pending.extend(exc.exceptions)
        else:
            leaves.append(exc)
    if len(leaves) == 1 and isinstance(leaves[0], Exception):
        return leaves[0]
    return group


# ------------------------------------------------------------------------------ current broker

_CURRENT: trio.lowlevel.RunVar[_BrokerBase | None] = trio.lowlevel.RunVar(
    "vango_pubsub", default=None
)


def current() -> MemoryBroker | RedisBroker:
    """The broker of this trio run: the one ``open_pubsub`` opened, else a memory broker."""
    broker = _CURRENT.get()
    if broker is None:
        broker = MemoryBroker()
        _CURRENT.set(broker)
    assert isinstance(broker, MemoryBroker | RedisBroker)
    return broker


def make_broker(url: str) -> MemoryBroker | RedisBroker:
    """A broker for ``VANGO_PUBSUB``: ``memory`` or a ``redis://`` / ``rediss://`` URL."""
    if url == "memory":
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://")):
        return RedisBroker(url)
    raise ValueError(f"VANGO_PUBSUB: expected 'memory' or a redis:// URL, got {url!r}")


@asynccontextmanager
async def open_pubsub(
    url_or_broker: str | MemoryBroker | RedisBroker = "memory",
) -> AsyncIterator[MemoryBroker | RedisBroker]:
    """Run a broker for the block and make it :func:`current`; Redis is not waited for.

    A memory broker this run already has (:func:`current` made it for a task that asked
    before the block, e.g. an embedding program's task started next to hypercorn) is kept,
    and a Redis broker takes over its local subscriptions: else those never heard a page."""
    previous = _CURRENT.get()
    broker = _successor(url_or_broker, previous)
    _CURRENT.set(broker)
    try:
        if isinstance(broker, RedisBroker):
            async with trio.open_nursery() as nursery:
                await nursery.start(broker.serve)
                try:
                    yield broker
                finally:
                    nursery.cancel_scope.cancel()
                    with trio.CancelScope(shield=True), trio.move_on_after(2):
                        await broker.aclose()
        else:
            yield broker
    finally:
        _CURRENT.set(previous)


def _successor(
    url_or_broker: str | MemoryBroker | RedisBroker, previous: _BrokerBase | None
) -> MemoryBroker | RedisBroker:
    """The broker ``open_pubsub`` runs: ``memory`` is the run's memory broker if it has one;
    a new broker with no subscriptions of its own shares that broker's hub (one process, one
    set of local subscriptions). A broker opened over a Redis broker stays apart
    (tests nest two Redis brokers to stand for two processes)."""
    if isinstance(url_or_broker, str):
        if url_or_broker == "memory" and isinstance(previous, MemoryBroker):
            return previous
        broker = make_broker(url_or_broker)
    else:
        broker = url_or_broker
    if isinstance(previous, MemoryBroker) and broker is not previous and not broker.hub.count():
        broker.hub = previous.hub
    return broker


# ------------------------------------------------------------------------------ components


def subscribe_host(host: Host, topic: str, handler: Callable[[Any], Any]) -> TaskHandle:
    """Deliver ``topic``'s messages to ``host``'s instance as ``handler(message)`` calls.

    The subscription is registered now and belongs to the instance (unmount, restart and
    session end cancel it); see :class:`HostSubscription`.
    """
    from .scheduler import TaskHandle, check_callable

    check_callable("subscribe", handler, "self.subscribe(topic, self.on_message)")
    scheduler = host.scheduler()
    sub = HostSubscription(current().hub, topic, host, handler)
    scheduler.scopes.add(sub)
    return TaskHandle(sub)


class HostSubscription:
    """A component's subscription: each message goes straight into the session mailbox.

    Publishing puts a ``Call(handler, message)`` in the mailbox of the subscribed session
    with ``send_nowait``: no task and no channel hop per subscriber. Only when that mailbox
    is full do messages wait, in order, in a backlog of at most ``DEFAULT_BUFFER`` that one
    task of the instance feeds in; beyond it they are dropped and counted, as a full
    :class:`Subscription` does. Each subscriber decodes its own copy of a message (handlers
    may keep or change what they get).
    """

    __slots__ = ("_backlog", "_hub", "dropped", "generation", "handler", "host", "topic")

    def __init__(self, hub: Hub, topic: str, host: Host, handler: Callable[[Any], Any]) -> None:
        self.topic = topic
        self.host = host
        self.generation = host.generation
        self.handler = handler
        self.dropped = 0
        self._hub: Hub | None = hub
        self._backlog: deque[Call] | None = None  # set while a task feeds a full mailbox
        hub._add(self)

    @property
    def cancel_called(self) -> bool:
        return self._hub is None

    def cancel(self) -> None:
        """Unsubscribe (idempotent); messages already in the mailbox are dropped there."""
        hub, self._hub = self._hub, None
        if self._backlog is not None:
            self._backlog.clear()  # the feeding task stops: nothing reaches the handler now
        if hub is not None:
            hub._remove(self)
            scheduler = self.host._scheduler
            if scheduler is not None:
                scheduler.scopes.discard(self)

    def _offer(self, data: bytes) -> bool:
        from .scheduler import Call

        try:
            message = decode_message(data)
        except ValueError as exc:  # not msgpack (another program on the Redis channel)
            self.dropped += 1
            log.warning("pub/sub: dropped an undecodable message on %r: %s", self.topic, exc)
            return False
        call = Call(self.host, self.generation, self.handler, (message,), "pubsub")
        backlog = self._backlog
        if backlog is None:
            try:
                self.host.runtime.send_nowait(call)
                return True
            except trio.WouldBlock:
                return self._start_backlog(call)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self.cancel()  # the session is ending
                return False
        if len(backlog) >= DEFAULT_BUFFER:
            self.dropped += 1
            return False
        backlog.append(call)
        return True

    def _start_backlog(self, call: Call) -> bool:
        try:
            self.host.scheduler().spawn(self._feed, (), None)
        except trio.ClosedResourceError:
            self.cancel()  # the session is ending
            return False
        self._backlog = deque([call])
        return True

    async def _feed(self) -> None:
        """Move the backlog into the mailbox in order, waiting for room."""
        backlog = self._backlog
        assert backlog is not None
        try:
            while backlog:
                await self.host.runtime.send(backlog[0])
                backlog.popleft()
        finally:
            self._backlog = None
