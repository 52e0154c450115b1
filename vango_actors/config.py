"""Application settings read from ``VANGO_*`` environment variables (see docs/CONFIGURATION.md).

One frozen :class:`Settings` value per app, built once by :meth:`Settings.from_env`; a bad
value fails at start-up with a message naming the variable, what was expected and what arrived.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from .errors import VangoError

log = logging.getLogger("vango_actors.config")


class ConfigError(VangoError):
    """A ``VANGO_*`` variable (or an override) holds a value that cannot be used."""


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"", "0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}: expected 1/0 (or true/false), got {raw!r}")


def _parse_number(name: str, raw: str, kind: type[int] | type[float]) -> Any:
    try:
        value = kind(raw.strip())
    except ValueError:
        raise ConfigError(
            f"{name}: expected a{'n integer' if kind is int else ' number'}, got {raw!r}"
        ) from None
    if value < 0:
        raise ConfigError(f"{name}: expected a value >= 0, got {raw!r}")
    return value


def _parse_live_url(raw: str) -> str:
    value = raw.strip().rstrip("/")
    if value == "same-origin" or value.startswith(("ws://", "wss://")):
        return value
    raise ConfigError(
        f"VANGO_LIVE_URL: expected 'same-origin' or a ws:// or wss:// URL, got {raw!r}"
    )


def parse_live_ports(name: str, raw: str) -> tuple[int, int | None] | None:
    """``PORT`` (one port every worker shares; 0: a free port per worker), ``FIRST-LAST`` (a
    range: each worker binds the first free port of it alone) or ``off`` (None: no fast door).
    Returns ``(port, None)`` or ``(first, last)``."""
    value = raw.strip().lower()
    if value == "off":
        return None
    first, dash, last = value.partition("-")
    expected = (
        f"expected a port 0-65535 or 'off', got {raw!r} (or a range FIRST-LAST such as "
        "8001-8004: a port of its own per worker)"
    )
    if not first.strip().isdigit() or (dash and not last.strip().isdigit()):
        raise ConfigError(f"{name}: {expected}")
    low = int(first)
    if not dash:
        if low > 65535:
            raise ConfigError(f"{name}: {expected}")
        return low, None
    high = int(last)
    if not 1 <= low <= high <= 65535:
        raise ConfigError(
            f"{name}: a range needs 1 <= FIRST <= LAST <= 65535 (one port per worker, "
            f"e.g. 8001-8004), got {raw!r}"
        )
    return low, high


def check_live_range(name: str, first: int, last: int, workers: int) -> None:
    """A range gives each worker a port of its own: it needs as many ports as workers."""
    if last - first + 1 < workers:
        raise ConfigError(
            f"{name}: the range {first}-{last} has {last - first + 1} port(s) for {workers} "
            f"workers; each worker needs its own (e.g. {first}-{first + workers - 1})"
        )


def _parse_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _parse_env(raw: str) -> bool:
    """True for production; VANGO_ENV names the deployment mode."""
    value = raw.strip().lower()
    if value in {"production", "prod"}:
        return True
    if value in {"", "development", "dev", "test"}:
        return False
    raise ConfigError(f"VANGO_ENV: expected 'production' or 'development', got {raw!r}")


def _check_pubsub(url: str) -> None:
    if url != "memory" and not str(url).startswith(("redis://", "rediss://")):
        raise ConfigError(f"VANGO_PUBSUB: expected 'memory' or a redis:// URL, got {url!r}")
    if url != "memory":  # the broker reads the port at start-up: a bad one fails here, not there
        try:
            urlsplit(url).port  # noqa: B018 (reading the port is the check)
        except ValueError:
            raise ConfigError(
                f"VANGO_PUBSUB: expected redis://[user:password@]host:port[/db] with a port "
                f"0-65535, got {url!r}"
            ) from None


@attrs.frozen
class Settings:
    """Everything the HTTP front and the runtime need to start; frozen once built.

    ``secret_keys[0]`` signs live-page tokens, every key verifies (rotate by prepending).
    ``secret_key_generated`` is True when dev mode made up a per-process key.
    """

    routes: str = "app_routes"
    secret_keys: tuple[str, ...] = ()
    dev: bool = False
    allowed_origins: tuple[str, ...] = ()  # empty: same origin as the page only
    live_port: int | None = None  # the fast door's port (None: only the ASGI door)
    live_port_last: int | None = None  # set: live_port..live_port_last, one port per worker
    # (the first free one, not shared: a restarted worker takes the port the dead one freed)
    live_host: str = "127.0.0.1"  # the fast door's bind address
    live_url: str | None = None  # the live URL pages get: None: ws(s)://<page host>:<live_port>,
    # "same-origin": the page's own origin (a proxy routes /vango/live/), else a ws(s):// base
    pubsub: str = "memory"  # "memory" or a redis:// / rediss:// URL (many processes)
    max_sessions: int = 10_000
    unclaimed_ttl: float = 30.0  # s a rendered page waits for its live connection
    disconnect_grace: float = 60.0  # s a session survives without a connection
    going_away_grace: float = 5.0  # s it survives when its page went away (close 1001)
    heartbeat_ms: int = 15_000  # live PING period (runtime and live door use the same value)
    token_max_age: float = 24 * 60 * 60.0
    event_rate: float = 100.0  # live events (and PINGs) per second per session; 0: no limit
    event_burst: int = 200  # token bucket size for event_rate
    max_connections_per_address: int = 1000  # open live sockets per client address; 0: none
    max_frame_bytes: int = 64 * 1024  # largest live frame a client may send
    replay_bytes: int = 256 * 1024  # bytes of PATCHES frames a session keeps for resumes
    outbox_bytes: int = 256 * 1024  # bytes of frames waiting for a slow reader before a resync
    stall_timeout: float = 30.0  # s a peer may leave sent bytes unread before it is dropped
    secret_key_generated: bool = False
    production: bool = False  # VANGO_ENV=production: a missing VANGO_SECRET_KEY is an error
    workers: int = 1  # worker processes serving this app (hypercorn -w); > 1 needs a secret
    drain_timeout: float = 10.0  # s a SIGTERM drain waits for sessions before cancelling

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Read ``VANGO_*`` variables; keyword ``overrides`` (field names) win over the env."""
        values: dict[str, Any] = {}
        env = {k: v for k, v in environ.items() if k.startswith("VANGO_")}
        if "VANGO_ROUTES" in env:
            values["routes"] = env["VANGO_ROUTES"].strip()
        if "VANGO_DEV" in env:
            values["dev"] = _parse_bool("VANGO_DEV", env["VANGO_DEV"])
        if "VANGO_SECRET_KEY" in env:
            values["secret_keys"] = _parse_list(env["VANGO_SECRET_KEY"])
        if "VANGO_ALLOWED_ORIGINS" in env:
            values["allowed_origins"] = _parse_list(env["VANGO_ALLOWED_ORIGINS"])
        if env.get("VANGO_LIVE_PORT", "").strip():
            ports = parse_live_ports("VANGO_LIVE_PORT", env["VANGO_LIVE_PORT"])
            values["live_port"], values["live_port_last"] = ports or (None, None)
        if env.get("VANGO_LIVE_HOST", "").strip():
            values["live_host"] = env["VANGO_LIVE_HOST"].strip()
        if env.get("VANGO_LIVE_URL", "").strip():
            values["live_url"] = _parse_live_url(env["VANGO_LIVE_URL"])
        if "VANGO_ENV" in env:
            values["production"] = _parse_env(env["VANGO_ENV"])
        if env.get("VANGO_PUBSUB", "").strip():
            values["pubsub"] = env["VANGO_PUBSUB"].strip()
        for field, kind in _NUMBERS.items():
            name = "VANGO_" + field.upper()
            if env.get(name, "").strip():
                values[field] = _parse_number(name, env[name], kind)
        unknown = set(overrides) - set(attrs.fields_dict(cls))
        if unknown:
            raise ConfigError(
                f"unknown setting(s) {sorted(unknown)}: expected field names of "
                f"Settings ({', '.join(sorted(attrs.fields_dict(cls)))})"
            )
        values.update(overrides)
        _check_pubsub(values.get("pubsub", "memory"))
        if values.get("live_port") is not None and values.get("live_port_last") is not None:
            check_live_range(
                "VANGO_LIVE_PORT",
                values["live_port"],
                values["live_port_last"],
                values.get("workers", 1),
            )
        if isinstance(values.get("secret_keys"), str):
            values["secret_keys"] = _parse_list(values["secret_keys"])
        return cls(**values).with_secret()

    def with_secret(self) -> Settings:
        """Return settings with a signing key: the configured ones, or a random per-process key.

        A random key works for one process only: tokens do not survive a restart and do not
        verify in another worker, so a remount there answers RELOAD. Hence the warning.
        """
        if self.secret_keys:
            return self
        if self.production or self.workers > 1:
            why = "VANGO_ENV=production" if self.production else f"{self.workers} workers"
            raise ConfigError(
                f"VANGO_SECRET_KEY is required with {why}: every process must sign and verify "
                "live tokens with the same key (else a reconnect that reaches another worker, "
                "or a restarted one, cannot remount and the page reloads); got no key. Make "
                "one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        log.warning(
            "VANGO_SECRET_KEY is not set: using a random per-process key%s; live tokens will "
            "not survive a restart or verify in another worker",
            "" if self.dev else " (set VANGO_SECRET_KEY in production)",
        )
        return attrs.evolve(
            self, secret_keys=(secrets.token_urlsafe(32),), secret_key_generated=True
        )

    def runtime_config(self) -> dict[str, Any]:
        """Keyword arguments for ``open_runtime`` (session limits and timers)."""
        return {
            "max_sessions": self.max_sessions,
            "unclaimed_ttl": self.unclaimed_ttl,
            "grace_period": self.disconnect_grace,
            "going_away_grace": self.going_away_grace,
            "heartbeat_ms": self.heartbeat_ms,
            "replay_bytes": self.replay_bytes,
            "outbox_bytes": self.outbox_bytes,
            "dev": self.dev,
        }


_NUMBERS: dict[str, type[int] | type[float]] = {
    "max_sessions": int,
    "unclaimed_ttl": float,
    "disconnect_grace": float,
    "going_away_grace": float,
    "token_max_age": float,
    "heartbeat_ms": int,
    "event_rate": float,
    "event_burst": int,
    "max_connections_per_address": int,
    "max_frame_bytes": int,
    "replay_bytes": int,
    "outbox_bytes": int,
    "stall_timeout": float,
    "drain_timeout": float,
}
