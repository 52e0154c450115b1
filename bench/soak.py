"""`python -m bench soak`: many sessions, random events, reconnects and crashes for a long time.

Starts ``hypercorn -k trio vango_actors.asgi:app`` (routes ``tests.hardening.pages``) as a
subprocess (``--door fast``: with the fast live door too, and pages pointing at it) with the
listen backlog of deploy/hypercorn.toml (``--backlog``, 4096; hypercorn's own default of 100
overflows under reconnect bursts to a busy worker, and dropped handshakes wait out SYN
retransmits). Then:

1. ``--sessions`` pages are loaded (``/counter``, or ``/crashy`` for one in five), a few at a
   time; RSS after that is "sessions created".
2. Every simulated tab starts within the first ``--ramp`` seconds and, until ``--duration`` is
   over: connects (resuming with its last seq), clicks at random intervals (``--rate`` events/s,
   exponential gaps) and waits for each click's acknowledgement, makes the crashy component
   raise 1 time in 10, disconnects after 1-29 events and reconnects. A connection the server
   cuts is counted and reconnected; an event it never acknowledged is re-sent with the same seq,
   as the browser does. Server PINGs are answered while the tab waits.
3. Each tab checks, on one more connection, that its counter equals the clicks it made (no
   event lost or applied twice); after the disconnect grace the server must be back to zero
   sessions, zero open sockets, its baseline file descriptors and its baseline trio tasks.

The client is lean (bench/_lean.py's ``RawWS``: a stdlib socket, one trio task per tab, no
reader task and no trio-websocket), so one client process drives 1,000 tabs on a shared 2-core
box; it applies every PATCHES frame to a ``vango_actors.dom`` model as a browser would.

Reported (one JSON document): events sent / acknowledged / handled by the server
(``vango_events_total``), crashes vs restarts, reconnects, connections cut, count mismatches;
the worker's RSS at baseline, after the pages were created, its maximum, when the clients left
and at the end; file descriptors and trio tasks (``vango_process_tasks``) at baseline and at
the end (and the tasks' maximum); the worker's and the client's CPU seconds and the worker's CPU
per event; acknowledgement latency percentiles (wall clock: inflated on a loaded box).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from tests.liveclient import PageShell, live_url_for, load_page, origin_of
from tests.servers import spawn_hypercorn
from vango_actors import dom, protocol
from vango_actors.protocol import Error, Event, GoAway, Hello, Patches, Ping, Pong, Reload, Welcome

from ._lean import OP_BINARY, OP_CLOSE, RawWS, WSClosed, client_frame
from .live import _rss_bytes, _worker_pid

ROUTES = "tests.hardening.pages"
WAIT_DEADLINE = 60.0  # s: one connect, WELCOME or acknowledgement; beyond it: a failed tab
GRACE = 20.0  # s: disconnect grace (long enough for a reconnect on a loaded machine)
LOADS_AT_ONCE = 8  # page GETs in flight while creating the sessions
BACKLOG = 4096  # hypercorn's listen backlog, as deploy/hypercorn.toml sets it (its default: 100)
_TICK = os.sysconf("SC_CLK_TCK")


@attrs.define
class Totals:
    events: int = 0  # fresh events sent (re-sends not counted)
    acked: int = 0
    resent: int = 0
    crashes: int = 0
    crash_errors: int = 0  # ERROR COMPONENT_CRASHED frames received
    other_errors: list[str] = attrs.field(factory=list)
    connections: int = 0  # connections that ran their events and closed normally
    cut: int = 0  # connections the server closed under a tab
    latencies: list[float] = attrs.field(factory=list)
    mismatches: list[str] = attrs.field(factory=list)
    failures: list[str] = attrs.field(factory=list)  # tabs that gave up


def _fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/vango/metrics", timeout=30) as reply:
        text = reply.read().decode()
    found = re.findall(r"^(vango_[^\s]+)\s+([-+0-9.eE]+)$", text, re.M)
    return {name: float(value) for name, value in found}


async def _metrics_async(port: int) -> dict[str, float]:
    return await trio.to_thread.run_sync(_metrics, port)


class Tab:
    """One simulated browser tab: its page, its DOM model, what it sent and what it expects."""

    def __init__(
        self, base_url: str, shell: PageShell, crashy: bool, rng: random.Random, totals: Totals
    ) -> None:
        self.base_url = base_url
        self.url = live_url_for(base_url, shell)
        self.origin = origin_of(base_url)
        self.shell = shell
        self.crashy = crashy
        self.rng = rng
        self.totals = totals
        self.document = dom.Document.from_html(shell.inner_html)
        self.clicks = 0
        self.seq = 0  # last PATCHES seq applied
        self.acked = 0  # highest event seq acknowledged
        self.event_seq = 0
        self.pending: bytes | None = None  # the unacknowledged event's frame (re-sent on resume)
        self.welcome: Welcome | None = None
        self.connections = 0  # connections that reached WELCOME
        self.counter: list[int] = [0, 0]  # bytes sent / received (RawWS bookkeeping)

    # ---- one connection

    async def connect(self) -> RawWS:
        with trio.fail_after(WAIT_DEADLINE):
            ws = await RawWS.connect(self.url, self.counter, [("Origin", self.origin)])
        try:
            hello = Hello(
                protocol.VERSION,
                self.shell.session_id,
                self.shell.token,
                self.seq,
                self.event_seq,
                "/",
            )
            self.welcome = None
            ws.send_message(OP_BINARY, protocol.encode(hello))
            await self.wait(ws, lambda: self.welcome is not None)
            assert self.welcome is not None
            self.connections += 1
            await self.wait(ws, lambda: self.seq >= self.welcome.seq)  # type: ignore[union-attr]
            if self.pending is not None and self.acked < self.event_seq:
                self.totals.resent += 1  # handled or not, the seq makes it count once
                ws.send(self.pending)
                await self.wait(ws, lambda: self.acked >= self.event_seq)
            self.pending = None
        except BaseException:
            ws.close()
            raise
        return ws

    async def wait(self, ws: RawWS, done: Callable[[], bool]) -> None:
        """Handle frames until ``done()``; at most WAIT_DEADLINE seconds."""
        with trio.fail_after(WAIT_DEADLINE):
            while not done():
                opcode, payload = await ws.receive()
                if opcode == OP_BINARY:
                    self.on_frame(ws, protocol.decode(payload))

    async def idle(self, ws: RawWS, seconds: float) -> None:
        """Answer PINGs (and take any frame) for ``seconds``."""
        with trio.move_on_after(seconds):
            await self.wait(ws, lambda: False)

    def on_frame(self, ws: RawWS, frame: protocol.Frame) -> None:
        kind = type(frame)
        if kind is Patches:
            assert isinstance(frame, Patches)
            if frame.seq > self.seq:
                dom.apply(self.document, frame.ops)
                self.seq = frame.seq
            self.acked = max(self.acked, frame.ack)
        elif kind is Ping:
            assert isinstance(frame, Ping)
            ws.send_message(OP_BINARY, protocol.encode(Pong(frame.n)))
        elif kind is Welcome:
            assert isinstance(frame, Welcome)
            self.welcome = frame
            self.acked = max(self.acked, frame.ack)
            if self.connections and not frame.resumed:  # a remounted session: history void
                self.totals.other_errors.append(f"{self.shell.session_id}: not resumed")
        elif kind is Error:
            assert isinstance(frame, Error)
            if frame.code == protocol.ErrorCode.COMPONENT_CRASHED:
                self.totals.crash_errors += 1
            else:
                self.totals.other_errors.append(f"{frame.code}: {frame.message}")
        elif kind in (Reload, GoAway):
            raise WSClosed(f"server sent {kind.__name__.upper()}: {frame}")

    def hid(self, selector: str) -> int:
        found = self.document.select(selector)
        if len(found) != 1 or found[0].hid is None:
            raise AssertionError(f"expected one {selector!r} with a hid, found {len(found)}")
        return found[0].hid

    async def send_event(self, ws: RawWS, hid: int, kind: str, payload: dict[str, Any]) -> None:
        self.event_seq += 1
        self.pending = client_frame(
            OP_BINARY, protocol.encode(Event(self.event_seq, hid, kind, payload))
        )
        self.totals.events += 1
        started = time.perf_counter()
        ws.send(self.pending)
        await self.wait(ws, lambda: self.acked >= self.event_seq)
        self.pending = None
        self.totals.acked += 1
        self.totals.latencies.append(time.perf_counter() - started)

    async def session(self, ws: RawWS, until: float, rate: float) -> None:
        """One connection's events: 1-29 clicks (or crashes) at random gaps."""
        for _ in range(self.rng.randrange(1, 30)):
            gap = self.rng.expovariate(rate)
            if trio.current_time() + gap >= until:
                await self.idle(ws, max(0.0, until - trio.current_time()))
                return
            await self.idle(ws, gap)
            if self.crashy and self.rng.random() < 0.1:
                self.totals.crashes += 1
                await self.send_event(ws, self.hid("#where"), "change", {"value": "handler"})
            else:
                self.clicks += 1
                await self.send_event(
                    ws, self.hid("#alive" if self.crashy else "#inc"), "click", {}
                )

    async def run(self, start_at: float, until: float, rate: float) -> None:
        await trio.sleep_until(start_at)
        cut_in_a_row = 0
        while trio.current_time() < until:
            try:
                ws = await self.connect()
                try:
                    await self.session(ws, until, rate)
                finally:
                    _close(ws)
                cut_in_a_row = 0
                self.totals.connections += 1
            except (WSClosed, OSError, RuntimeError) as exc:
                self.totals.cut += 1
                cut_in_a_row += 1
                if cut_in_a_row >= 5:
                    self.totals.failures.append(f"{self.shell.session_id}: {exc}")
                    return
                await trio.sleep(self.rng.uniform(0.5, 2.0))  # the browser's backoff
            except trio.TooSlowError:
                self.totals.failures.append(
                    f"{self.shell.session_id}: no answer in {WAIT_DEADLINE} s"
                )
                return
        await self.check()

    async def check(self) -> None:
        try:
            ws = await self.connect()
        except (WSClosed, OSError, RuntimeError, trio.TooSlowError) as exc:
            self.totals.failures.append(f"{self.shell.session_id}: final check: {exc!r}")
            return
        _close(ws)
        selector = "#clicks" if self.crashy else "#count"
        found = self.document.select(selector)
        seen = found[0].text_content if found else None
        if seen != str(self.clicks):
            self.totals.mismatches.append(f"{self.shell.session_id}: {seen} != {self.clicks}")


def _close(ws: RawWS) -> None:
    try:
        ws.send(client_frame(OP_CLOSE, (1000).to_bytes(2, "big")))
    except WSClosed:
        pass
    ws.close()


async def _settled_fds(pid: int, quiet: float = 0.5, limit: float = 5.0) -> int:
    """The worker's descriptor count once it held still for ``quiet`` s (a request's socket
    closes a moment after its reply: a baseline taken before that counts it)."""
    count, still_since = _fds(pid), trio.current_time()
    with trio.move_on_after(limit):
        while trio.current_time() - still_since < quiet:
            await trio.sleep(0.05)
            now = _fds(pid)
            if now != count:
                count, still_since = now, trio.current_time()
    return count


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


async def soak(
    port: int, worker: int, sessions: int, duration: float, rate: float, grace: float, ramp: float
) -> dict[str, Any]:
    base_url = f"http://127.0.0.1:{port}"
    rng = random.Random(1)
    await _settled_fds(worker)  # the start-up probe's connection is gone
    before = await _metrics_async(port)
    fds_baseline, rss_baseline = await _settled_fds(worker), _rss_bytes(worker)
    tasks_baseline = int(before["vango_process_tasks"])
    totals = Totals()
    tabs: list[Tab] = []
    limiter = trio.CapacityLimiter(LOADS_AT_ONCE)

    async def load(n: int) -> None:
        async with limiter:
            crashy = n % 5 == 4
            shell = await load_page(base_url, "/crashy" if crashy else "/counter")
            tabs.append(Tab(base_url, shell, crashy, random.Random(rng.random()), totals))

    created_at = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for n in range(sessions):
            nursery.start_soon(load, n)
    create_s = time.perf_counter() - created_at
    rss_created = _rss_bytes(worker)
    rss_max, tasks_max = rss_created, tasks_baseline
    cpu_server, cpu_client = _cpu_seconds(worker), time.process_time()
    handled_before_run = int((await _metrics_async(port))["vango_events_total"])

    async def sample() -> None:
        nonlocal rss_max, tasks_max
        n = 0
        while True:
            await trio.sleep(1)
            rss_max = max(rss_max, _rss_bytes(worker))
            n += 1
            if n % 10 == 0:
                tasks_max = max(tasks_max, int((await _metrics_async(port))["vango_process_tasks"]))

    start = trio.current_time()
    until = start + duration
    async with trio.open_nursery() as outer:
        outer.start_soon(sample)
        async with trio.open_nursery() as clients:
            for i, tab in enumerate(tabs):
                clients.start_soon(tab.run, start + ramp * i / max(1, len(tabs)), until, rate)
        outer.cancel_scope.cancel()
    run_s = trio.current_time() - start
    cpu_server = _cpu_seconds(worker) - cpu_server
    cpu_client = time.process_time() - cpu_client
    handled_in_run = int((await _metrics_async(port))["vango_events_total"]) - handled_before_run
    rss_clients_gone = _rss_bytes(worker)
    await trio.sleep(grace + 1.5)  # every session's disconnect grace passes
    after = await _metrics_async(port)
    with trio.move_on_after(5):  # the server closes the metrics request's socket after replying
        while _fds(worker) > fds_baseline:
            await trio.sleep(0.1)
    return {
        "sessions": sessions,
        "duration_s": duration,
        "rate_per_session": rate,
        "create_s": round(create_s, 1),
        "run_s": round(run_s, 1),
        "events_sent": totals.events,
        "events_acked": totals.acked,
        "events_resent": totals.resent,
        "events_handled_delta": int(after["vango_events_total"] - before["vango_events_total"]),
        "events_dropped_delta": int(
            after["vango_events_dropped_total"] - before["vango_events_dropped_total"]
        ),
        "crashes": totals.crashes,
        "crash_errors_received": totals.crash_errors,
        "restarts_delta": int(
            after["vango_component_restarts_total"] - before["vango_component_restarts_total"]
        ),
        "connections": totals.connections,
        "connections_cut": totals.cut,
        "other_errors": len(totals.other_errors),
        "other_errors_first": totals.other_errors[:5],
        "count_mismatches": totals.mismatches[:10],
        "failed_sessions": len(totals.failures),
        "failures": totals.failures[:5],
        "ack_latency_ms": {
            "p50": _percentile(totals.latencies, 0.5),
            "p99": _percentile(totals.latencies, 0.99),
            "max": _percentile(totals.latencies, 1.0),
        },
        "server_cpu_s": round(cpu_server, 1),
        "server_cpu_per_event_us": round(1e6 * cpu_server / max(1, handled_in_run)),
        "client_cpu_s": round(cpu_client, 1),
        "rss_baseline_mib": round(rss_baseline / 2**20, 1),
        "rss_sessions_created_mib": round(rss_created / 2**20, 1),
        "rss_max_mib": round(rss_max / 2**20, 1),
        "rss_clients_gone_mib": round(rss_clients_gone / 2**20, 1),
        "rss_end_mib": round(_rss_bytes(worker) / 2**20, 1),
        "fds_baseline": fds_baseline,
        "fds_end": _fds(worker),
        "tasks_baseline": tasks_baseline,
        "tasks_max": tasks_max,
        "tasks_end": int(after["vango_process_tasks"]),
        "sessions_left": {k: int(v) for k, v in after.items() if k.startswith("vango_sessions{")},
        "live_connections_open_end": int(after["vango_live_connections_open"]),
    }


def run(
    sessions: int,
    duration: float,
    rate: float,
    grace: float = GRACE,
    ramp: float | None = None,
    door: str = "asgi",
    backlog: int = BACKLOG,
) -> dict[str, Any]:
    env = {
        "VANGO_ROUTES": ROUTES,
        "VANGO_SECRET_KEY": "soak",
        "VANGO_DISCONNECT_GRACE": str(grace),
        "VANGO_UNCLAIMED_TTL": "600",  # loading 1,000 pages takes a while on a busy box
        "VANGO_MAX_CONNECTIONS_PER_ADDRESS": "0",
        "VANGO_MAX_SESSIONS": str(max(10_000, 2 * sessions)),
    }
    if door == "fast":
        env["VANGO_LIVE_PORT"] = "0"
    server = spawn_hypercorn(env=env, extra_args=["--backlog", str(backlog)])
    try:
        server.wait_running(30)
        assert server.port is not None
        worker = _worker_pid(server.process.pid)
        ramp = min(30.0, duration / 4) if ramp is None else ramp
        result = trio.run(soak, server.port, worker, sessions, duration, rate, grace, ramp)
        errors = [  # what the server logged beyond the crashes the soak causes on purpose
            line.strip()
            for line in server.lines
            if "rror" in line and "user raised" not in line and "Bomb" not in line
        ]
        return {
            "door": door,
            "backlog": backlog,
            **result,
            "server_errors": len(errors),
            "server_errors_first": errors[:5],
        }
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench soak", description=__doc__)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds")
    parser.add_argument("--rate", type=float, default=1.0, help="events/s per session")
    parser.add_argument("--ramp", type=float, default=None, help="s to start every tab")
    parser.add_argument("--door", choices=("asgi", "fast"), default="asgi")
    parser.add_argument(
        "--backlog",
        type=int,
        default=BACKLOG,
        help="hypercorn's listen backlog (deploy/hypercorn.toml's; hypercorn's default is 100)",
    )
    args = parser.parse_args(argv)
    result = run(
        args.sessions,
        args.duration,
        args.rate,
        ramp=args.ramp,
        door=args.door,
        backlog=args.backlog,
    )
    print(json.dumps({"benchmark": "soak", **result}, indent=2))


if __name__ == "__main__":
    main()
