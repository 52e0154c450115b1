"""`python -m bench compare`: vango-actors, PyView and ReactPy, same counter, same client, same run.

Each app is served on a free loopback port with one worker: vango-actors under
``hypercorn -k trio`` with the fast door, each peer under one uvicorn worker from its own
venv (``bench/peers/.venv-<name>``, created from PyPI at pinned versions if missing). Every
phase of ``bench.load`` runs against each of them in turn; the result is one JSON document
with every figure, and a ``table`` of the headline figures with ratios (ours / theirs).
The table is also printed, as markdown, on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.load import (
    Driver,
    ServerProcess,
    VangoDriver,
    free_port,
    raise_nofile,
    run_suite,
    start_server,
    vango_server,
)
from bench.peers.clients import PyViewDriver, ReactPyDriver

PEERS_DIR = Path(__file__).resolve().parent / "peers"
PINS = {
    "pyview": ["pyview-web==0.9.0", "uvicorn[standard]==0.54.0"],
    "reactpy": ["reactpy==1.1.0", "starlette==0.52.1", "uvicorn[standard]==0.54.0"],
}
_SCRIPT = re.compile(r'<script[^>]*\bsrc="([^"]+)"')


def ensure_venv(name: str) -> Path:
    """``bench/peers/.venv-<name>`` with the pinned packages; its python."""
    venv = PEERS_DIR / f".venv-{name}"
    python = venv / "bin" / "python"
    marker = venv / "pins.txt"
    pins = "\n".join(PINS[name])
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
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--idle", default="1000", help="comma-separated session counts")
    parser.add_argument("--peers", default="pyview,reactpy")
    parser.add_argument("--client-procs", type=int, default=1, help="client processes")
    parser.add_argument("--workers", default="1", help="vango-actors workers, e.g. 1,2")
    args = parser.parse_args(list(argv))
    raise_nofile()
    options: dict[str, Any] = {
        "sessions": args.sessions,
        "duration": args.duration,
        "burst_size": args.burst,
        "idle": [int(n) for n in args.idle.split(",") if n.strip()],
        "script": _SCRIPT,
        "client_procs": args.client_procs,
    }
    results = [
        run_suite(
            lambda workers: vango_server("fast", workers),
            VangoDriver(),
            page_path="/counter",
            workers=[int(n) for n in args.workers.split(",")],
            **options,
        )
    ]
    drivers: dict[str, Driver] = {"pyview": PyViewDriver(), "reactpy": ReactPyDriver()}
    for name in [p for p in args.peers.split(",") if p]:
        python = ensure_venv(name)
        results.append(
            run_suite(
                lambda _workers, name=name, python=python: peer_server(name, python),  # type: ignore[misc]
                drivers[name],
                page_path="/",
                **options,
            )
        )
    rows = table(results)
    print(markdown(rows), file=sys.stderr)
    document = {
        "benchmark": "compare",
        "cpus": os.cpu_count(),
        "loadavg_1min": os.getloadavg()[0],
        "table": rows,
        "results": results,
    }
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
