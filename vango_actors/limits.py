"""Flood limits of the live door: a token bucket per session and a connection count per address.

Plain state, no I/O and no clock of its own (callers pass ``now``), so both live doors share it
and tests drive it in virtual time. :class:`LiveLimiter` is the one object a front holds:

- ``open(address, limit)`` / ``close(address)``: live sockets per client address; ``open``
  returns False when ``limit`` (> 0) sockets from that address are already open.
- ``bucket(session_id, rate, burst, now)`` / ``release(session_id, bucket, now)``: the event
  bucket of a session outlives its connections, so reconnecting does not refill it; a bucket
  that has refilled completely carries no state and is forgotten.
"""

from __future__ import annotations

import attrs


@attrs.define(slots=True)
class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; each event takes one."""

    rate: float
    burst: float
    tokens: float
    updated: float  # the time ``tokens`` was computed at

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> TokenBucket:
        return cls(rate, burst, burst, now)

    def level(self, now: float) -> float:
        """Tokens available at ``now`` (without taking any)."""
        return min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)

    def take(self, now: float) -> bool:
        """Take one token at ``now``; False (nothing taken) when the bucket is empty."""
        tokens = self.level(now)
        self.updated = now
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
        return False


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
