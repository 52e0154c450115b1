"""`python -m bench live`: the ASGI live door end to end, server CPU per round trip and RSS.

Starts ``hypercorn -k trio vango_actors.asgi:app`` as a subprocess on a free loopback port,
GETs ``/counter`` once per session, opens every live socket (HELLO → WELCOME), then each
session clicks ``#inc`` and waits for the PATCHES that acknowledges it, ``--rounds`` times,
all sessions concurrently. Server CPU comes from ``/proc/<pid>/stat`` (utime + stime) over
the round-trip phase only; RSS per idle connection is the server's VmRSS growth from
opening the sockets of already-rendered sessions, divided by their number.

For calibration on a shared box, the same clients first drive a bare ASGI echo app
(:func:`echo_app`, no vango code) under the same hypercorn: the floor any ASGI door pays.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio
import trio_websocket

from vango_actors import protocol

ROOT = Path(__file__).resolve().parent.parent
_RUNNING = re.compile(rb"Running on http://127\.0\.0\.1:(\d+)")
_ROOT_ATTRS = re.compile(r'data-vango-session="([^"]+)" data-vango-token="([^"]+)"')
_INC = re.compile(r'<button data-hid="h(\d+)" id="inc"')


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _worker_pid(pid: int) -> int:
    """hypercorn's one worker process (the supervisor does no serving)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    workers = [
        int(child)
        for child in children
        if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()
    ]
    if len(workers) != 1:
        raise RuntimeError(f"expected one hypercorn worker under pid {pid}, got {workers}")
    return workers[0]


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The calibration app: accept every websocket and echo each binary message."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "bytes": message["bytes"]})


def _start_server(app: str) -> tuple[subprocess.Popen[bytes], int]:
    env = {**os.environ, "VANGO_SECRET_KEY": "bench-key", "VANGO_DEV": "0"}
    command = [sys.executable, "-m", "hypercorn", "-k", "trio", "-b", "127.0.0.1:0"]
    process = subprocess.Popen(
        [*command, app],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if found := _RUNNING.search(line):
            return process, int(found.group(1))
        if not line and process.poll() is not None:
            break
    process.kill()
    raise RuntimeError("hypercorn did not start (no 'Running on' line)")


async def _get(port: int, path: str) -> str:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        await stream.send_all(request.encode())
        raw = bytearray()
        while b"</html>" not in raw:
            chunk = await stream.receive_some(65536)
            if not chunk:
                break
            raw += chunk
    return raw.decode()


class Session:
    """One page's live socket, driven click by click."""

    def __init__(self, port: int, page: str) -> None:
        found, inc = _ROOT_ATTRS.search(page), _INC.search(page)
        if found is None or inc is None:
            raise RuntimeError("the /counter page has no root container or #inc button")
        self.port, self.session_id, self.token = port, found.group(1), found.group(2)
        self.inc = int(inc.group(1))
        self.seq = 0
        self.ws: trio_websocket.WebSocketConnection | None = None

    async def connect(self, nursery: trio.Nursery) -> None:
        self.ws = await trio_websocket.connect_websocket(
            nursery,
            "127.0.0.1",
            self.port,
            f"/vango/live/{self.session_id}",
            use_ssl=False,
            extra_headers=[(b"Origin", f"http://127.0.0.1:{self.port}".encode())],
        )
        hello = protocol.Hello(protocol.VERSION, self.session_id, self.token, 0, 0, "/")
        await self.ws.send_message(protocol.encode(hello))
        await self._until(protocol.Welcome)

    async def _until(self, kind: type, ack: int = 0) -> None:
        assert self.ws is not None
        while True:
            message = await self.ws.get_message()
            assert isinstance(message, bytes)
            frame = protocol.decode(message, protocol.SERVER_FRAME_LIMITS)
            if isinstance(frame, protocol.Ping):
                await self.ws.send_message(protocol.encode(protocol.Pong(frame.n)))
            elif isinstance(frame, kind) and getattr(frame, "ack", ack) >= ack:
                return

    async def click_rounds(self, rounds: int) -> None:
        assert self.ws is not None
        for _ in range(rounds):
            self.seq += 1
            await self.ws.send_message(protocol.encode_event(self.seq, self.inc, "click", {}))
            await self._until(protocol.Patches, ack=self.seq)


async def _echo_rounds(ws: trio_websocket.WebSocketConnection, rounds: int) -> None:
    click = protocol.encode_event(1, 1, "click", {})
    for _ in range(rounds):
        await ws.send_message(click)
        await ws.get_message()


async def _echo_floor(sessions: int, rounds: int) -> float:
    """Server CPU µs per round trip of the bare ASGI echo app under hypercorn -k trio."""
    process, port = _start_server("bench.live:echo_app")
    try:
        worker = _worker_pid(process.pid)
        async with trio.open_nursery() as nursery:
            sockets = [
                await trio_websocket.connect_websocket(
                    nursery, "127.0.0.1", port, "/", use_ssl=False
                )
                for _ in range(sessions)
            ]
            cpu_before = _cpu_seconds(worker)
            async with trio.open_nursery() as clicks:
                for ws in sockets:
                    clicks.start_soon(_echo_rounds, ws, rounds)
            cpu = _cpu_seconds(worker) - cpu_before
            nursery.cancel_scope.cancel()
    finally:
        process.terminate()
        process.wait(10)
    return cpu / (sessions * rounds) * 1e6


async def _run(sessions: int, rounds: int) -> dict[str, object]:
    floor = await _echo_floor(sessions, rounds)
    process, port = _start_server("vango_actors.asgi:app")
    try:
        worker = _worker_pid(process.pid)
        pages = [await _get(port, "/counter") for _ in range(sessions)]
        live = [Session(port, page) for page in pages]
        rss_before = _rss_bytes(worker)
        async with trio.open_nursery() as nursery:
            for session in live:
                await session.connect(nursery)
            await trio.sleep(0.5)  # let the server settle before reading RSS
            rss_after = _rss_bytes(worker)
            cpu_before, wall_before = _cpu_seconds(worker), time.perf_counter()
            async with trio.open_nursery() as clicks:
                for session in live:
                    clicks.start_soon(session.click_rounds, rounds)
            cpu = _cpu_seconds(worker) - cpu_before
            wall = time.perf_counter() - wall_before
            nursery.cancel_scope.cancel()
    finally:
        process.terminate()
        process.wait(10)
    trips = sessions * rounds
    return {
        "benchmark": "live",
        "door": "asgi (hypercorn -k trio, raw ASGI websocket handler)",
        "sessions": sessions,
        "rounds": rounds,
        "round_trips": trips,
        "server_cpu_us_per_round_trip": round(cpu / trips * 1e6, 1),
        "asgi_echo_cpu_us_per_round_trip": round(floor, 1),
        "round_trips_per_s": round(trips / wall),
        "rss_bytes_per_idle_connection": (rss_after - rss_before) // sessions,
        "loadavg_1min": os.getloadavg()[0],
    }


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench live", description=__doc__)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args(list(argv))
    print(json.dumps(trio.run(_run, args.sessions, args.rounds), indent=2))
