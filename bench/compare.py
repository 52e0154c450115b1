"""`python -m bench compare`: vango-actors, PyView and ReactPy, same counter, same client, same run.

Each app is served on a free loopback port with one worker: vango-actors under
``hypercorn -k trio`` with the fast door, each peer under one uvicorn worker from its own
venv (``bench/peers/.venv-<name>``, created from PyPI at pinned versions if missing). Every
phase of ``bench.load`` runs against each of them in turn; the result is one JSON document
with every figure, and a ``table`` of the headline figures with ratios (ours / theirs).
The table is also printed, as markdown, on stderr.

The click phases (every app's with one worker, and ours with each ``--workers`` count) run
``--rounds`` times, interleaved (ours, ours with 2 workers, PyView, ReactPy, ours, ...), each
round on fresh servers: this box's speed drifts by tens of per cent over minutes, and a drift
then moves every app's round alike. Each app's figures in the table are its median round (by
updates/s); ``rounds`` in the document holds every round and the round-by-round updates/s
ratios, which are printed on stderr too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import attrs

from bench.load import (
    Driver,
    ServerProcess,
    VangoDriver,
    free_port,
    raise_nofile,
    run_suite,
    start_server,
    throughput,
    vango_server,
    with_server,
)
from bench.peers.clients import PyViewDriver, ReactPyDriver

PEERS_DIR = Path(__file__).resolve().parent / "peers"
PINS = {
    "pyview": ["pyview-web==0.9.0", "uvicorn[standard]==0.54.0"],
    "reactpy": ["reactpy==1.1.0", "starlette==0.52.1", "uvicorn[standard]==0.54.0"],
}
_SCRIPT = re.compile(r'<script[^>]*\bsrc="([^"]+)"')


def ensure_venv(name: str) -> Path:
    """``bench/peers/.venv-<name>-<interpreter>`` with the pinned packages; its python.

    One per interpreter (``<interpreter>``: a hash of this one's prefix and build), made from
    this interpreter, so every app of a run runs on the same one; made anew when the pins
    changed."""
    built = f"{sys.base_prefix} {sys.version}"
    venv = PEERS_DIR / f".venv-{name}-{hashlib.sha256(built.encode()).hexdigest()[:8]}"
    python = venv / "bin" / "python"
    marker = venv / "pins.txt"
    pins = "\n".join([*PINS[name], f"# {built}"])
    if not (python.exists() and marker.exists() and marker.read_text() == pins):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS[name]], check=True)
        marker.write_text(pins)
    return python


def peer_server(name: str, python: Path) -> ServerProcess:
    port = free_port()
    command = [str(python), "-m", "uvicorn", f"{name}_app:app", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log", "--backlog", "4096"]
    return start_server(f"{name} (uvicorn, 1 worker)", command, port, cwd=PEERS_DIR)


@attrs.frozen
class App:
    """One app under test: its name, how to start it with N workers, how to drive it, and
    the worker count of its click phase."""

    name: str
    make: Callable[[int], ServerProcess]
    driver: Driver
    page_path: str
    workers: int = 1


def throughput_rounds(
    apps: Sequence[App],
    rounds: int,
    sessions: int,
    duration: float,
    client_procs: int = 1,
    warmup: float = 1.0,
) -> dict[str, list[dict[str, Any]]]:
    """Each app's click phase ``rounds`` times, interleaved (a, b, a, b, ...), each round
    against a fresh server of ``app.workers`` workers: by app name, its rounds in order."""
    out: dict[str, list[dict[str, Any]]] = {app.name: [] for app in apps}
    for _ in range(rounds):
        for app in apps:
            clicks = partial(
                throughput,
                app.driver,
                sessions=sessions,
                duration=duration,
                warmup=warmup,
                client_procs=client_procs,
            )
            out[app.name].append(with_server(partial(app.make, app.workers), clicks))
    return out


def median_round(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median updates/s (the lower one of an even count); a failed round
    only when every round failed."""
    good = sorted((r for r in runs if "error" not in r), key=lambda r: r["updates_per_s"])
    return good[(len(good) - 1) // 2] if good else runs[0]


def round_ratios(ours: Sequence[dict[str, Any]], theirs: Sequence[dict[str, Any]]) -> list[float]:
    """updates/s ratios (ours / theirs) of rounds run side by side; a failed pair is left out."""
    return [
        round(a["updates_per_s"] / b["updates_per_s"], 2)
        for a, b in zip(ours, theirs, strict=True)
        if "error" not in a and "error" not in b
    ]


def _peer_starter(name: str, python: Path) -> Callable[[int], ServerProcess]:
    """A peer runs one uvicorn worker whatever the count asked."""
    return lambda _workers: peer_server(name, python)


def _figures(result: dict[str, Any]) -> dict[str, float]:
    figures: dict[str, float] = {}
    t = result["throughput"]
    if "error" not in t:
        figures["updates/s"] = t["updates_per_s"]
        figures["server CPU µs / update"] = t["server_cpu_us_per_update"]
        figures["server CPU cores used"] = t["server_cpu_cores"]
        figures["client CPU µs / update"] = t["client_cpu_us_per_update"]
        figures["p50 ms"] = t["latency"]["p50_ms"]
        figures["p99 ms"] = t["latency"]["p99_ms"]
        figures["bytes on the wire / click"] = t["bytes_per_click"]["total"]
    two = result.get("throughput_2_workers", {})
    if "updates_per_s" in two and "error" not in t:
        figures["updates/s, 2 workers ÷ 1 worker"] = round(
            two["updates_per_s"] / t["updates_per_s"], 2
        )
    weight = result["page_weight"]
    if "error" not in weight:
        gzip_total = weight["html_gzip_bytes"] + weight["client_js_gzip_bytes"]
        figures["page + client JS, gzip bytes"] = gzip_total
    for entry in result["idle"]:
        if "error" not in entry:
            key = f"RSS KiB / idle session ({entry['sessions']:,})"
            figures[key] = round(entry["rss_bytes_per_session"] / 1024, 1)
    burst = result.get("connect_burst", {})
    if "succeeded" in burst:
        figures[f"connect burst ok (of {burst['sessions']:,})"] = burst["succeeded"]
    return figures


def table(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ours = _figures(results[0])
    rows = []
    for figure, value in ours.items():
        row: dict[str, Any] = {"figure": figure, results[0]["name"]: value}
        for peer in results[1:]:
            theirs = _figures(peer).get(figure)
            row[peer["name"]] = theirs
            row[f"ratio vs {peer['name']}"] = round(value / theirs, 2) if theirs else None
        rows.append(row)
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench compare", description=__doc__)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved click phases")
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--idle", default="1000", help="comma-separated session counts")
    parser.add_argument("--peers", default="pyview,reactpy")
    parser.add_argument("--client-procs", type=int, default=1, help="client processes")
    parser.add_argument("--workers", default="1", help="vango-actors workers, e.g. 1,2")
    args = parser.parse_args(list(argv))
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    raise_nofile()
    drivers: dict[str, Driver] = {"pyview": PyViewDriver(), "reactpy": ReactPyDriver()}
    ours = VangoDriver()
    apps = [App(ours.name, lambda workers: vango_server("fast", workers), ours, "/counter")]
    for name in [p for p in args.peers.split(",") if p]:
        python = ensure_venv(name)
        apps.append(App(drivers[name].name, _peer_starter(name, python), drivers[name], "/"))
    more = [
        App(f"{ours.name}, {n} workers", apps[0].make, ours, "/counter", n)
        for n in [int(n) for n in args.workers.split(",")]
        if n != 1
    ]
    rounds = throughput_rounds(
        [apps[0], *more, *apps[1:]], args.rounds, args.sessions, args.duration, args.client_procs
    )
    results = []
    for app in apps:
        result = run_suite(
            app.make,
            app.driver,
            page_path=app.page_path,
            workers=[],  # the click phases ran in the rounds
            sessions=args.sessions,
            duration=args.duration,
            burst_size=args.burst,
            idle=[int(n) for n in args.idle.split(",") if n.strip()],
            script=_SCRIPT,
            client_procs=args.client_procs,
        )
        result["throughput"] = median_round(rounds[app.name])
        results.append(result)
    for app in more:
        results[0][f"throughput_{app.workers}_workers"] = median_round(rounds[app.name])
    ratios = {app.name: round_ratios(rounds[ours.name], rounds[app.name]) for app in apps[1:]}
    scaling = {app.name: round_ratios(rounds[app.name], rounds[ours.name]) for app in more}
    rows = table(results)
    print(markdown(rows), file=sys.stderr)
    for name, values in ratios.items():
        listed = " / ".join(str(v) for v in values)
        print(f"updates/s ratio vs {name}, round by round: {listed}", file=sys.stderr)
    for name, values in scaling.items():
        listed = " / ".join(str(v) for v in values)
        print(f"updates/s of {name} ÷ 1 worker, round by round: {listed}", file=sys.stderr)
    document = {
        "benchmark": "compare",
        "cpus": os.cpu_count(),
        "python": sys.version,  # every app's: the peers' venvs are made from it
        "loadavg_1min": os.getloadavg()[0],
        "table": rows,
        "rounds": {
            "throughput": rounds,
            "updates_per_s_ratios": ratios,
            "workers_scaling": scaling,
        },
        "results": results,
    }
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
