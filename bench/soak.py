"""`python -m bench soak`: many sessions, random events, reconnects and crashes for a long time.

Starts ``hypercorn -k trio vango_actors.asgi:app`` (routes ``tests.hardening.pages``) as a
subprocess. ``--sessions`` clients each load a page (``/counter``, or ``/crashy`` for one in
five), then until ``--duration`` is over: connect (resuming), click at random intervals
(``--rate`` events/s per session, exponential gaps), make the crashy component raise now and
then, disconnect, reconnect. At the end each client checks its counter equals the clicks it
made (no event lost or applied twice), all sockets close, the disconnect grace passes, and the
server must be back to zero sessions, zero open sockets and its baseline file descriptors.

Reported (one JSON document): RSS of the worker at baseline, after the sessions were created,
its maximum and at the end; file descriptors at baseline and at the end; events sent versus
``vango_events_total``; crashes and restarts; reconnects; the sessions left.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from tests.liveclient import LiveClient, PageShell, load_page, open_live
from tests.servers import spawn_hypercorn

from .live import _rss_bytes, _worker_pid

ROUTES = "tests.hardening.pages"
CONNECTION_DEADLINE = 60.0  # s: one connection's events + acks; beyond it: a failure
GRACE = 20.0  # s: disconnect grace (long enough for a reconnect on a loaded machine)


@attrs.define
class Totals:
    events: int = 0
    crashes: int = 0
    reconnects: int = 0
    mismatches: list[str] = attrs.field(factory=list)
    failures: list[str] = attrs.field(factory=list)  # connections the server refused or cut


def _fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def _metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/vango/metrics", timeout=30) as reply:
        text = reply.read().decode()
    found = re.findall(r"^(vango_[^\s]+)\s+([-+0-9.eE]+)$", text, re.M)
    return {name: float(value) for name, value in found}


class SoakSession:
    """One simulated tab: its page shell, its DOM model and what it expects to see."""

    def __init__(self, shell: PageShell, crashy: bool, rng: random.Random) -> None:
        self.shell = shell
        self.crashy = crashy
        self.rng = rng
        self.clicks = 0
        self.seq = 0
        self.event_seq = 0
        self.document: Any = None

    @property
    def button(self) -> str:
        return "#alive" if self.crashy else "#inc"

    @property
    def counter(self) -> str:
        return "#clicks" if self.crashy else "#count"

    def restore(self, client: LiveClient) -> None:
        if self.document is not None:
            client.document, client.seq = self.document, self.seq
        client.event_seq = self.event_seq

    def keep(self, client: LiveClient) -> None:
        self.document, self.seq, self.event_seq = client.document, client.seq, client.event_seq

    async def one_connection(
        self, base_url: str, until: float, rate: float, totals: Totals
    ) -> None:
        async with open_live(base_url, self.shell) as client:
            self.restore(client)
            await client.hello()
            await client.connected()
            for _ in range(self.rng.randrange(1, 30)):
                if trio.current_time() >= until:
                    break
                await trio.sleep(self.rng.expovariate(rate))
                if self.crashy and self.rng.random() < 0.1:
                    await client.send_event(client.hid("#where"), "change", {"value": "handler"})
                    totals.crashes += 1
                else:
                    await client.click(self.button)
                    self.clicks += 1
                totals.events += 1
            await client.synced()
            self.keep(client)

    async def run(self, base_url: str, until: float, rate: float, totals: Totals) -> None:
        try:
            while trio.current_time() < until:
                with trio.fail_after(CONNECTION_DEADLINE):
                    await self.one_connection(base_url, until, rate, totals)
                totals.reconnects += 1
            with trio.fail_after(CONNECTION_DEADLINE):
                await self.check(base_url, totals)
        except* trio.TooSlowError:
            totals.failures.append(f"{self.shell.session_id}: no answer in {CONNECTION_DEADLINE} s")
        except* AssertionError as group:  # the server closed a connection: report, stop the tab
            totals.failures.append(f"{self.shell.session_id}: {group.exceptions[0]}")

    async def check(self, base_url: str, totals: Totals) -> None:
        async with open_live(base_url, self.shell) as client:
            self.restore(client)
            await client.hello()
            await client.connected()
            await client.wait_for(
                lambda: client.seq >= (client.welcome.seq if client.welcome else 0)
            )
            seen = client.text(self.counter)
            if seen != str(self.clicks):
                totals.mismatches.append(f"{self.shell.session_id}: {seen} != {self.clicks}")


async def soak(
    port: int, worker: int, sessions: int, duration: float, rate: float, grace: float
) -> dict[str, Any]:
    base_url = f"http://127.0.0.1:{port}"
    rng = random.Random(1)
    fds_baseline, rss_baseline = _fds(worker), _rss_bytes(worker)
    before = _metrics(port)
    tabs = []
    for n in range(sessions):
        crashy = n % 5 == 4
        shell = await load_page(base_url, "/crashy" if crashy else "/counter")
        tabs.append(SoakSession(shell, crashy, random.Random(rng.random())))
    rss_created = _rss_bytes(worker)
    totals = Totals()
    rss_max = rss_created
    until = trio.current_time() + duration

    async def sample() -> None:
        nonlocal rss_max
        while True:
            await trio.sleep(1)
            rss_max = max(rss_max, _rss_bytes(worker))

    async with trio.open_nursery() as outer:
        outer.start_soon(sample)
        async with trio.open_nursery() as clients:
            for tab in tabs:
                clients.start_soon(tab.run, base_url, until, rate, totals)
        outer.cancel_scope.cancel()
    rss_clients_gone = _rss_bytes(worker)
    await trio.sleep(grace + 1.5)  # every session's disconnect grace passes
    after = _metrics(port)
    with trio.move_on_after(5):  # the server closes the metrics request's socket after replying
        while _fds(worker) > fds_baseline:
            await trio.sleep(0.1)
    return {
        "sessions": sessions,
        "duration_s": duration,
        "events_sent": totals.events,
        "events_handled_delta": int(after["vango_events_total"] - before["vango_events_total"]),
        "events_dropped_delta": int(
            after["vango_events_dropped_total"] - before["vango_events_dropped_total"]
        ),
        "crashes": totals.crashes,
        "restarts_delta": int(
            after["vango_component_restarts_total"] - before["vango_component_restarts_total"]
        ),
        "reconnects": totals.reconnects,
        "count_mismatches": totals.mismatches[:10],
        "failed_sessions": len(totals.failures),
        "failures": totals.failures[:5],
        "rss_baseline_mib": round(rss_baseline / 2**20, 1),
        "rss_sessions_created_mib": round(rss_created / 2**20, 1),
        "rss_max_mib": round(rss_max / 2**20, 1),
        "rss_clients_gone_mib": round(rss_clients_gone / 2**20, 1),
        "rss_end_mib": round(_rss_bytes(worker) / 2**20, 1),
        "fds_baseline": fds_baseline,
        "fds_end": _fds(worker),
        "sessions_left": {k: int(v) for k, v in after.items() if k.startswith("vango_sessions{")},
        "live_connections_open_end": int(after["vango_live_connections_open"]),
    }


def run(sessions: int, duration: float, rate: float, grace: float = GRACE) -> dict[str, Any]:
    env = {
        "VANGO_ROUTES": ROUTES,
        "VANGO_SECRET_KEY": "soak",
        "VANGO_DISCONNECT_GRACE": str(grace),
        "VANGO_UNCLAIMED_TTL": "600",  # loading 1,000 pages one by one takes a while
        "VANGO_MAX_CONNECTIONS_PER_ADDRESS": "0",
        "VANGO_MAX_SESSIONS": str(max(10_000, 2 * sessions)),
    }
    server = spawn_hypercorn(env=env)
    try:
        server.wait_running(30)
        assert server.port is not None
        worker = _worker_pid(server.process.pid)
        return trio.run(soak, server.port, worker, sessions, duration, rate, grace)
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench soak", description=__doc__)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds")
    parser.add_argument("--rate", type=float, default=0.5, help="events/s per session")
    args = parser.parse_args(argv)
    result = run(args.sessions, args.duration, args.rate)
    print(json.dumps({"benchmark": "soak", **result}, indent=2))


if __name__ == "__main__":
    main()
