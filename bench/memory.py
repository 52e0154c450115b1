"""Memory per idle session, inside the server: where the bytes of an idle connected session go.

``python -m bench memory [--sessions 1000] [--top 15] [--frames 8] [--no-trace]``

The server runs in this process (``create_app`` for ``app_routes`` under hypercorn's trio
worker, the fast door on its own port), so ``tracemalloc`` sees every allocation of the real
GET path and the real live sockets. A client subprocess (``--client``, the load benchmark's
lean client) fetches ``--sessions`` ``/counter`` pages (each an unclaimed session here), then
opens their live sockets and leaves them idle. Between the phases the server collects garbage
and takes a snapshot; the JSON reports, per session, the traced bytes (Python allocations)
and the RSS growth of the page phase and of the connection phase, and the biggest allocation
sites of each phase grouped by traceback (innermost frame first) and by line;
``idle_owners`` is both phases together (what a connected idle session holds in the end).

Traced bytes are exact and do not depend on the machine's load; RSS includes the
allocator's slack and, with tracing on, tracemalloc's own bookkeeping (``--no-trace`` gives
the plain RSS figures; ``python -m bench load --idle 1000`` measures RSS from outside, over a
``hypercorn -k trio`` subprocess, which is the figure docs/PERFORMANCE.md reports).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

ROOT = Path(__file__).resolve().parent.parent
_KEEP = ("vango_actors", "trio", "wsproto", "hypercorn", "quart", "h11", "werkzeug", "msgpack")


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _short(filename: str) -> str:
    parts = Path(filename).parts
    for i, part in enumerate(parts):
        if part in _KEEP or part in ("bench", "app_routes"):
            return "/".join(parts[i:])
    return "/".join(parts[-2:])


def _sites(
    new: tracemalloc.Snapshot, old: tracemalloc.Snapshot, per: int, top: int
) -> list[dict[str, Any]]:
    """The ``top`` allocation sites (by traceback) that grew between the snapshots."""
    stats = new.compare_to(old, "traceback")
    stats.sort(key=lambda s: s.size_diff, reverse=True)
    return [
        {
            "bytes_per_session": round(stat.size_diff / per, 1),
            "blocks_per_session": round(stat.count_diff / per, 2),
            "at": [f"{_short(f.filename)}:{f.lineno}" for f in reversed(stat.traceback)],
        }
        for stat in stats[:top]
        if stat.size_diff > 0
    ]


def _lines(
    new: tracemalloc.Snapshot, old: tracemalloc.Snapshot, per: int, top: int
) -> dict[str, float]:
    """The ``top`` source lines whose allocations grew between the snapshots."""
    stats = new.compare_to(old, "lineno")
    stats.sort(key=lambda s: s.size_diff, reverse=True)
    return {
        f"{_short(s.traceback[0].filename)}:{s.traceback[0].lineno}": round(s.size_diff / per, 1)
        for s in stats[:top]
        if s.size_diff > 0
    }


def _owners(
    new: tracemalloc.Snapshot, old: tracemalloc.Snapshot, per: int, top: int
) -> dict[str, float]:
    """Growth attributed to the innermost vango_actors (or app) line of each traceback: which
    line of ours made the library allocate."""
    totals: dict[str, int] = {}
    for stat in new.compare_to(old, "traceback"):
        frames = list(reversed(stat.traceback))  # innermost first
        owner = next(
            (f for f in frames if "vango_actors" in f.filename or "app_routes" in f.filename),
            frames[0],
        )
        key = f"{_short(owner.filename)}:{owner.lineno}"
        totals[key] = totals.get(key, 0) + stat.size_diff
    ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return {key: round(size / per, 1) for key, size in ranked if size > 0}


def _snapshot() -> tuple[tracemalloc.Snapshot | None, int, int]:
    gc.collect()
    if not tracemalloc.is_tracing():
        return None, 0, _rss()
    snap = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    return snap, tracemalloc.get_traced_memory()[0], _rss()


async def _client_line(stream: Any, buffer: bytearray) -> str:
    while b"\n" not in buffer:
        chunk = await stream.receive_some(4096)
        if not chunk:
            raise RuntimeError("the memory client exited early")
        buffer += chunk
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line.decode()


async def measure(sessions: int, top: int, frames: int) -> dict[str, Any]:
    from bench._inprocess import serving_demo

    serving = serving_demo("bench-memory-key", max_sessions=sessions + 100, unclaimed_ttl=600)
    async with serving as (app, base):
        client = await trio.lowlevel.open_process(
            [sys.executable, "-m", "bench.memory", "--client", base, str(sessions)],
            stdin=-1,  # subprocess.PIPE
            stdout=-1,
            cwd=ROOT,
        )
        assert client.stdin is not None and client.stdout is not None
        buffer = bytearray()
        try:
            await trio.sleep(0.5)
            if frames:  # traced from here: the server's start-up and imports are not
                tracemalloc.start(frames)
            snap0, traced0, rss0 = _snapshot()
            await client.stdin.send_all(b"pages\n")
            assert await _client_line(client.stdout, buffer) == "pages"
            await trio.sleep(0.5)
            snap1, traced1, rss1 = _snapshot()
            await client.stdin.send_all(b"sockets\n")
            assert await _client_line(client.stdout, buffer) == "sockets"
            await trio.sleep(1.0)
            snap2, traced2, rss2 = _snapshot()
            stats = app.front.runtime_statistics()
            live_now = None if stats is None else stats.live
            await client.stdin.send_all(b"done\n")
            await client.wait()
        finally:
            if client.returncode is None:
                client.kill()
                await client.wait()
    tracemalloc.stop()
    result: dict[str, Any] = {
        "benchmark": "memory",
        "sessions": sessions,
        "live_at_measure": live_now,
        "traced": snap0 is not None,
        "rss_page_bytes_per_session": (rss1 - rss0) // sessions,
        "rss_connection_bytes_per_session": (rss2 - rss1) // sessions,
        "rss_bytes_per_session": (rss2 - rss0) // sessions,
    }
    if snap0 is not None and snap1 is not None and snap2 is not None:
        result |= {
            "traced_page_bytes_per_session": (traced1 - traced0) // sessions,
            "traced_connection_bytes_per_session": (traced2 - traced1) // sessions,
            "traced_bytes_per_session": (traced2 - traced0) // sessions,
            "page_owners": _owners(snap1, snap0, sessions, top),
            "connection_owners": _owners(snap2, snap1, sessions, top),
            "idle_owners": _owners(snap2, snap0, sessions, top),  # what a connected idle
            # session holds in the end (the parked wait's bytes are gone by then)
            "page_lines": _lines(snap1, snap0, sessions, top),
            "connection_lines": _lines(snap2, snap1, sessions, top),
            "page_sites": _sites(snap1, snap0, sessions, top),
            "connection_sites": _sites(snap2, snap1, sessions, top),
        }
    return result


# ---------------------------------------------------------------------------- the client


async def client(base: str, sessions: int) -> None:
    """Fetch ``sessions`` pages on "pages", open their sockets on "sockets" (idle, answering
    heartbeats), end on "done"; each step is acknowledged with its name on stdout."""
    from bench.load import VangoDriver, open_many

    driver = VangoDriver()
    stdin = trio.lowlevel.FdStream(os.dup(0))
    buffer = bytearray()
    assert await _client_line(stdin, buffer) == "pages"
    pages: list[Any] = []
    limiter = trio.CapacityLimiter(100)

    async def fetch() -> None:
        async with limiter:
            pages.append(await driver.page(base))

    async with trio.open_nursery() as fetchers:
        for _ in range(sessions):
            fetchers.start_soon(fetch)
    print("pages", flush=True)
    assert await _client_line(stdin, buffer) == "sockets"
    async with trio.open_nursery() as idle:
        conns, _ = await open_many(driver, base, sessions, [0, 0], 100, idle=idle, pages=pages)
        print("sockets", flush=True)
        await _client_line(stdin, buffer)
        for conn in conns:
            conn.ws.close()
        idle.cancel_scope.cancel()


def main(argv: Sequence[str]) -> None:
    if argv[:1] == ["--client"]:
        from bench.load import raise_nofile

        raise_nofile()
        trio.run(client, argv[1], int(argv[2]))
        return
    parser = argparse.ArgumentParser(prog="python -m bench memory", description=__doc__)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--top", type=int, default=15, help="allocation sites per phase")
    parser.add_argument("--frames", type=int, default=8, help="traceback depth per site")
    parser.add_argument("--no-trace", action="store_true", help="RSS only, no tracemalloc")
    args = parser.parse_args(list(argv))
    from bench.load import raise_nofile

    raise_nofile()
    frames = 0 if args.no_trace else args.frames
    print(json.dumps(trio.run(measure, args.sessions, args.top, frames), indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
