"""Prometheus metrics for one app: a per-app registry with a collector reading live statistics.

Nothing is counted twice: the collector reads ``manager.statistics()`` and the live door's
:class:`~vango_actors.live.LiveStats` at scrape time. Each app has its own
``CollectorRegistry``, so many apps in one process (tests) never clash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs
import trio
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from .live import LiveStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

SESSION_STATES = ("parked", "live", "disconnected")

#: counter name (without ``vango_`` and ``_total``), statistics field, help text
_RUNTIME_COUNTERS = (
    ("events", "events_handled", "Events received by session actors (each once)."),
    ("events_dropped", "dropped_events", "Events no handler took (unknown hid, unbound type)."),
    ("patch_frames", "patches_sent", "PATCHES frames sent."),
    ("patch_bytes", "bytes_sent", "Bytes of frames sent to live clients."),
    ("resyncs", "resyncs", "Full resyncs sent (reconnect past the replay buffer, overflow)."),
    ("component_restarts", "restarts", "Component restarts by supervisors."),
    ("sessions_created", "total_created", "Sessions created by page loads or remounts."),
)
_LIVE_COUNTERS = (
    ("live_connections", "connections_total", "Live sockets accepted."),
    ("live_refused_origins", "refused_origins", "Live sockets refused for their Origin."),
    ("live_bad_tokens", "bad_tokens", "Live sockets refused for a bad token."),
    ("live_protocol_errors", "protocol_errors", "Live sockets closed for a protocol error."),
    ("live_heartbeat_timeouts", "heartbeat_timeouts", "Live sockets closed as silent."),
    ("live_sessions_gone", "sessions_gone", "RELOADs sent for unknown or expired sessions."),
    ("live_throttled", "throttled", "Times a session's reader paused for the event rate."),
    ("live_remounts", "remounts", "Sessions remounted from a token: no local actor."),
    (
        "live_refused_connections",
        "refused_connections",
        "Live sockets refused: too many open from one client address.",
    ),
)


@attrs.define
class FrontStats:
    """Counters only the HTTP front sees."""

    sessions_refused: int = 0  # live page GETs answered 503: session limit reached


def task_count() -> int | None:
    """trio tasks alive in this process (walks the task tree); None outside a trio run."""
    try:
        root = trio.lowlevel.current_root_task()
    except RuntimeError:
        return None
    if root is None:
        return None
    count, stack = 0, [root]
    while stack:
        task = stack.pop()
        count += 1
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return count


def session_counts(stats: Any) -> dict[str, int]:
    """Sessions per lifecycle state from a ``manager.statistics()`` record."""
    return {state: int(getattr(stats, state, 0)) for state in SESSION_STATES}


class VangoCollector(Collector):
    """Reads the runtime's and the live door's statistics at every scrape."""

    def __init__(
        self, runtime_stats: Callable[[], Any | None], live: LiveStats, front: FrontStats
    ) -> None:
        self._runtime_stats = runtime_stats
        self._live = live
        self._front = front

    def collect(self) -> Iterator[Metric]:
        stats = self._runtime_stats()
        sessions = GaugeMetricFamily(
            "vango_sessions", "Sessions by lifecycle state.", labels=["state"]
        )
        counts = session_counts(stats) if stats is not None else dict.fromkeys(SESSION_STATES, 0)
        for state, count in counts.items():
            sessions.add_metric([state], count)
        yield sessions
        yield GaugeMetricFamily(
            "vango_live_connections_open",
            "Live sockets open now.",
            value=self._live.connections_open,
        )
        for name, field, doc in _RUNTIME_COUNTERS:
            value = getattr(stats, field, 0) if stats is not None else 0
            yield CounterMetricFamily(f"vango_{name}", doc, value=int(value))
        for name, field, doc in _LIVE_COUNTERS:
            yield CounterMetricFamily(f"vango_{name}", doc, value=getattr(self._live, field))
        yield GaugeMetricFamily(
            "vango_process_tasks",
            "trio tasks alive in this process (0: scraped outside trio).",
            value=task_count() or 0,
        )
        yield CounterMetricFamily(
            "vango_sessions_refused",
            "Live pages refused (503) because the session limit was reached.",
            value=self._front.sessions_refused,
        )


def make_registry(
    runtime_stats: Callable[[], Any | None], live: LiveStats, front: FrontStats
) -> CollectorRegistry:
    """A fresh registry holding only this app's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(VangoCollector(runtime_stats, live, front))
    return registry


def render_metrics(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of ``registry``."""
    return generate_latest(registry)
