"""Flood limits of the live door: a token bucket per session and a connection count per address.

Plain state, no I/O and no clock of its own (callers pass ``now``), so both live doors share it
and tests drive it in virtual time. :class:`LiveLimiter` is the one object a front holds:

- ``open(address, limit)`` / ``close(address)``: live sockets per client address; ``open``
  returns False when ``limit`` (> 0) sockets from that address are already open.
- ``bucket(session_id, rate, burst, now)`` / ``release(session_id, bucket, now)``: the event
  bucket of a session outlives its connections, so reconnecting does not refill it; a bucket
  that has refilled completely carries no state and is forgotten.

Stalled peers (a client that stops reading): :func:`set_stall_timeout` puts
``TCP_USER_TIMEOUT`` on a socket, so the kernel drops a connection whose peer leaves the bytes
sent to it unread (zero receive window) or unacknowledged for that long; every blocked send on
it then fails, on either door, although hypercorn writes with a *shielded* ``send_all`` that
the app could not cancel. Sockets accepted from a listener inherit the option. The fast door
sets it on its own listener; :class:`StallGuard` finds the ASGI server's listener (hypercorn
gives the app no socket) at the first request that arrives through it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from typing import Any

import attrs

log = logging.getLogger("vango_actors.limits")

_USER_TIMEOUT: int | None = getattr(socket, "TCP_USER_TIMEOUT", None)  # Linux only


@attrs.define(slots=True)
class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; each event spends one.

    A reader that finds it empty waits (:meth:`due`) instead of dropping what it read: the
    limit slows a session down to ``rate`` and loses nothing (see live.py, ``_refill``)."""

    rate: float
    burst: float
    tokens: float
    updated: float  # the time ``tokens`` was computed at

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> TokenBucket:
        return cls(rate, burst, burst, now)

    def level(self, now: float) -> float:
        """Tokens available at ``now`` (without spending any)."""
        return min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)

    def spend(self, now: float, cost: float = 1.0) -> bool:
        """Spend ``cost`` tokens at ``now`` (lent when there are none: the level goes below
        0); True while a whole token is left for the next."""
        self.tokens = self.level(now) - cost
        self.updated = now
        return self.tokens >= 1.0

    def due(self, now: float) -> float:
        """When the bucket holds a whole token again (``now`` if it does)."""
        missing = 1.0 - self.level(now)
        return now if missing <= 0 else now + missing / self.rate


class LiveLimiter:
    """Per-address connection counts and per-session event buckets of one front."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._prune_at = 1024  # prune idle buckets when the table grows past this

    # ---- connections per client address

    def open(self, address: str | None, limit: int) -> bool:
        """Count one more socket from ``address``; False (not counted) if at ``limit``.

        ``limit`` 0 disables the check; an unknown address (None) is never limited.
        """
        if address is None:
            return True
        count = self._open.get(address, 0)
        if limit > 0 and count >= limit:
            return False
        self._open[address] = count + 1
        return True

    def close(self, address: str | None) -> None:
        """One socket counted by :meth:`open` ended."""
        if address is None:
            return
        count = self._open.get(address, 0) - 1
        if count > 0:
            self._open[address] = count
        else:
            self._open.pop(address, None)

    def connections(self, address: str) -> int:
        return self._open.get(address, 0)

    @property
    def addresses(self) -> int:
        """Addresses with at least one open socket (the table is never larger)."""
        return len(self._open)

    # ---- event buckets per session

    def bucket(self, session_id: str, rate: float, burst: float, now: float) -> TokenBucket:
        """The session's bucket (kept from its last connection), or a full one."""
        bucket = self._buckets.pop(session_id, None)
        if bucket is None or bucket.rate != rate or bucket.burst != burst:
            return TokenBucket.full(rate, burst, now)
        return bucket

    def release(self, session_id: str, bucket: TokenBucket, now: float) -> None:
        """Keep a connection's bucket for the session's next connection unless it is full."""
        if bucket.level(now) >= bucket.burst:
            return
        self._buckets[session_id] = bucket
        if len(self._buckets) > self._prune_at:
            self._prune(now)

    @property
    def buckets(self) -> int:
        """Buckets kept between connections (sessions that sent events recently)."""
        return len(self._buckets)

    def _prune(self, now: float) -> None:
        self._buckets = {s: b for s, b in self._buckets.items() if b.level(now) < b.burst}
        self._prune_at = max(1024, 2 * len(self._buckets))


# ------------------------------------------------------------------------- stalled peers


def set_stall_timeout(sock: socket.socket, seconds: float) -> bool:
    """Make the kernel drop ``sock``'s connection (and, on a listener, every connection it
    accepts later) when sent bytes stay unread or unacknowledged for ``seconds``.

    False when the platform has no ``TCP_USER_TIMEOUT`` or ``seconds`` is 0 (off)."""
    if _USER_TIMEOUT is None or seconds <= 0:
        return False
    sock.setsockopt(socket.IPPROTO_TCP, _USER_TIMEOUT, max(1, round(seconds * 1000)))
    return True


def _address(value: Any) -> tuple[str, int] | None:
    """An ASGI scope's ``server`` / ``client`` entry as (host, port); None if not TCP."""
    if not value or len(value) != 2 or not isinstance(value[1], int):
        return None
    return str(value[0]), value[1]


def _own_tcp_sockets() -> list[int]:
    """This process's file descriptors that are sockets (Linux ``/proc``)."""
    found = []
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return []
    for name in names:
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                found.append(int(name))
        except (OSError, ValueError):
            continue
    return found


def guard_server_sockets(
    server: tuple[str, int], client: tuple[str, int] | None, seconds: float
) -> int:
    """Set the stall timeout on this process's TCP listener(s) for ``server`` (the address a
    request arrived at) and on the ``client`` connection itself (accepted before the listener
    had it). Returns how many sockets got it."""
    done = 0
    for fd in _own_tcp_sockets():
        try:
            sock = socket.socket(fileno=os.dup(fd))  # a duplicate: closing it keeps ``fd``
        except OSError:
            continue
        with sock:
            try:
                if sock.family not in (socket.AF_INET, socket.AF_INET6):
                    continue
                if sock.type != socket.SOCK_STREAM:
                    continue
                local = sock.getsockname()[:2]
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                    match = local[1] == server[1] and local[0] in (server[0], "0.0.0.0", "::")
                else:
                    match = client is not None and tuple(local) == server
                    match = match and tuple(sock.getpeername()[:2]) == client
                if match and set_stall_timeout(sock, seconds):
                    done += 1
            except OSError:
                continue
    return done


class StallGuard:
    """Applies the stall timeout to the listeners of an ASGI server, once per address.

    ``check(scope)`` on every request: the first one through a listener (the server address in
    the scope) scans this process's sockets for it; later ones cost a set lookup. Connections
    accepted before that first request (a few, at start-up) keep the kernel default."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._seen: set[tuple[str, int]] = set()
        self.guarded = 0  # sockets that got the timeout (listeners and early connections)

    def check(self, scope: Mapping[str, Any]) -> None:
        if self.seconds <= 0 or _USER_TIMEOUT is None:
            return
        server = _address(scope.get("server"))
        if server is None or server in self._seen:
            return
        self._seen.add(server)
        found = guard_server_sockets(server, _address(scope.get("client")), self.seconds)
        self.guarded += found
        if found == 0:
            log.warning(
                "stall timeout: no listening socket for %s:%s found in this process; stalled "
                "clients on it are dropped only by the kernel's own timeouts",
                *server,
            )
