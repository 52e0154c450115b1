"""`python -m bench load`: the counter over real sockets, N sessions, one JSON document.

Starts ``hypercorn -k trio vango_actors.asgi:app`` (``--workers`` processes; the fast door on
a fixed port shared with ``SO_REUSEPORT`` unless ``--door asgi``), then with trio-websocket
clients in this process:

- page weight: ``GET /counter`` and the client script, raw and gzip;
- throughput: ``--sessions`` sessions (page + live socket each), each clicking ``#inc``
  sequentially (send EVENT, wait for the PATCHES acknowledging it) for ``--duration`` s:
  updates/s, latency p50/p90/p99/max, server CPU µs per update (utime + stime of every server
  process, from /proc, over the click phase), bytes on the wire per click (both directions,
  WebSocket framing included: counted on the TCP stream under the WebSocket);
- connect: time from TCP connect to WELCOME per session, and a burst of ``--burst`` sockets
  opened at once (pages fetched first): how many succeed;
- idle RSS: for each of ``--idle`` (default 1,000 and 10,000) a fresh server gets that many
  pages rendered, then their sockets opened and left idle (answering PINGs); RSS growth of
  the server processes per session, split into the rendered page and the connection.

``RLIMIT_NOFILE`` is raised to its hard limit in this process and the server (10,000 idle
sessions need ~10,000 descriptors on each side). Per-session event rate limit and the
per-address socket limit are switched off in the server (every client is 127.0.0.1).

The client logic is shared with ``bench.compare`` (peers): a :class:`Driver` opens one
session (page + socket) and returns a :class:`Conn` whose ``click()`` does one round trip.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs
import msgpack  # type: ignore[import-untyped]
import trio
import trio_websocket

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- processes


def raise_nofile() -> int:
    """Raise this process's open-file soft limit to the hard limit; the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (excluding multiprocessing's resource tracker)."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            if b"resource_tracker" in Path(f"/proc/{current}/cmdline").read_bytes():
                continue
        except OSError:
            continue
        tree.append(current)
        todo += _children(current)
    return tree


def cpu_seconds(pids: Sequence[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss_bytes(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


@attrs.define
class ServerProcess:
    """A server started by a benchmark; stopped by its process group id."""

    process: subprocess.Popen[bytes]
    base_url: str
    name: str

    def pids(self) -> list[int]:
        return process_tree(self.process.pid)

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            if self.process.poll() is not None:
                break
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(wait)
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # stray workers
        except ProcessLookupError:
            pass


def start_server(
    name: str,
    command: Sequence[str],
    port: int,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    ready_path: str = "/",
    workers: int = 1,
) -> ServerProcess:
    """Start ``command`` (listening on ``port``) in its own session; wait until
    ``ready_path`` answers and ``workers`` processes serve."""
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=raise_nofile,
    )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", name)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {process.returncode} at start")
        try:
            status = trio.run(_status, server.base_url + ready_path)
        except OSError:
            status = 0
        if status == 200 and _serving_processes(server) >= workers:
            return server
        time.sleep(0.1)  # a foreign process: nothing to wait on but time
    server.stop()
    raise RuntimeError(f"{name} did not answer {ready_path} within 60 s")


def _serving_processes(server: ServerProcess) -> int:
    pids = server.pids()
    return len(pids) - 1 if len(pids) > 1 else 1  # a supervisor does not serve


async def _status(url: str) -> int:
    return (await http_get(url)).status


# -------------------------------------------------------------------------------- HTTP


@attrs.frozen
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


async def http_get(url: str, headers: Sequence[tuple[str, str]] = ()) -> HttpResponse:
    """One GET over a fresh HTTP/1.1 connection (body by Content-Length or chunked)."""
    rest = url.split("://", 1)[1]
    netloc, _, path = rest.partition("/")
    host, _, port = netloc.partition(":")
    lines = [f"GET /{path} HTTP/1.1", f"Host: {netloc}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers]
    stream = await trio.open_tcp_stream(host, int(port or 80))
    raw = bytearray()
    async with stream:
        await stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode())
        while not _complete(raw):
            chunk = await stream.receive_some(65536)
            if not chunk:
                break
            raw += chunk
    head, _, body = bytes(raw).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        parsed[key.strip().lower()] = value.strip()
    if parsed.get("transfer-encoding", "").lower() == "chunked":
        body = _unchunk(body)
    return HttpResponse(int(status_line.split()[1]), parsed, body)


def _complete(raw: bytearray) -> bool:
    head, sep, body = bytes(raw).partition(b"\r\n\r\n")
    if not sep:
        return False
    found = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    if found:
        return len(body) >= int(found.group(1))
    if re.search(rb"(?im)^transfer-encoding:\s*chunked\s*$", head):
        return body.endswith(b"0\r\n\r\n")
    return False


def _unchunk(body: bytes) -> bytes:
    out = bytearray()
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += body[:size]
        body = body[size + 2 :]


# ----------------------------------------------------------------- sockets and drivers


class CountingStream(trio.abc.Stream):
    """A TCP stream that counts the bytes through it (everything under the WebSocket)."""

    def __init__(self, stream: trio.SocketStream, counter: list[int]) -> None:
        self._stream = stream
        self._counter = counter  # [sent, received], shared by every connection

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        self._counter[0] += len(data)
        await self._stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        data = await self._stream.receive_some(max_bytes)
        self._counter[1] += len(data)
        return data

    async def send_eof(self) -> None:
        await self._stream.send_eof()

    async def aclose(self) -> None:
        await self._stream.aclose()


async def open_ws(
    nursery: trio.Nursery,
    url: str,
    counter: list[int],
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> trio_websocket.WebSocketConnection:
    """A trio-websocket client connection over a :class:`CountingStream`."""
    rest = url.split("://", 1)[1]
    netloc, _, path = rest.partition("/")
    host, _, port = netloc.partition(":")
    stream = await trio.open_tcp_stream(host, int(port or 80))
    return await trio_websocket.wrap_client_stream(
        nursery,
        CountingStream(stream, counter),
        netloc,
        "/" + path,
        extra_headers=list(headers),
        message_queue_size=64,
    )


class Conn(Protocol):
    """One open session of a counter app."""

    async def click(self) -> None:
        """Click the increment button and wait until the server's update arrived."""

    async def idle(self) -> None:
        """Stay connected (answer heartbeats) until cancelled."""


class Driver(Protocol):
    """How a client talks to one app: open a session, click, idle."""

    name: str
    open_concurrency: int  # sessions opened at once (ReactPy 1.1 breaks on concurrent mounts)

    async def open(self, nursery: trio.Nursery, base_url: str, counter: list[int]) -> Conn:
        """GET the counter page and open its live socket (connected and ready to click)."""


class SessionGone(Exception):
    """The socket landed on a worker that does not hold the session (RELOAD): retry."""


_ROOT = re.compile(r"<div\b[^>]*\bdata-vango-root\b[^>]*>")
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')
_INC = re.compile(r'<button data-hid="h(\d+)" id="inc"')
_PING, _PONG, _WELCOME, _PATCHES, _ERROR, _RELOAD = 5, 6, 2, 4, 7, 8


class VangoConn:
    def __init__(self, ws: trio_websocket.WebSocketConnection, inc: int) -> None:
        self.ws = ws
        self.inc = inc
        self.seq = 0

    async def _until(self, kind: int, ack: int = 0) -> None:
        while True:
            frame = msgpack.unpackb(await self.ws.get_message())
            if frame[0] == kind and (kind != _PATCHES or frame[2] >= ack):
                return
            if frame[0] == _PING:
                await self.ws.send_message(msgpack.packb([_PONG, frame[1]]))
            elif frame[0] == _RELOAD:
                raise SessionGone(frame[1])
            elif frame[0] == _ERROR:
                raise RuntimeError(f"server sent ERROR {frame[1:]}")

    async def click(self) -> None:
        self.seq += 1
        await self.ws.send_message(msgpack.packb([3, self.seq, self.inc, "click", {}]))
        await self._until(_PATCHES, self.seq)

    async def idle(self) -> None:
        try:
            await self._until(-1)
        except trio_websocket.ConnectionClosed:
            pass  # the RSS figure then counts one session fewer: visible as a lower figure


@attrs.define
class VangoDriver:
    name: str = "vango-actors"
    open_concurrency: int = 100

    async def open(self, nursery: trio.Nursery, base_url: str, counter: list[int]) -> Conn:
        for _attempt in range(50):
            page = (await http_get(base_url + "/counter")).body.decode()
            root, inc = _ROOT.search(page), _INC.search(page)
            if root is None or inc is None:
                raise RuntimeError("the /counter page has no live root or #inc button")
            attributes = dict(_ATTR.findall(root.group(0)))
            sid, token = attributes["data-vango-session"], attributes["data-vango-token"]
            ws_base = "ws" + base_url[len("http") :]
            url = attributes.get("data-vango-live") or f"{ws_base}/vango/live/{sid}"
            ws = await open_ws(nursery, url, counter, [(b"Origin", base_url.encode())])
            conn = VangoConn(ws, int(inc.group(1)))
            await ws.send_message(msgpack.packb([1, 1, sid, token, 0, 0, "/counter"]))
            try:
                await conn._until(_WELCOME)
                return conn
            except (SessionGone, trio_websocket.ConnectionClosed):
                await ws.aclose()  # another worker holds the session: fetch a new page
        raise RuntimeError("50 attempts in a row landed on another worker")


# ------------------------------------------------------------------------------ phases


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    return {
        f"{name}_ms": round(percentile(seconds, q) * 1e3, 2)
        for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
    }


async def open_many(
    driver: Driver,
    nursery: trio.Nursery,
    base_url: str,
    count: int,
    counter: list[int],
    concurrency: int = 100,
    idle: bool = False,
) -> tuple[list[Conn], list[float]]:
    """Open ``count`` sessions, ``concurrency`` at a time; the sessions and their open times.
    ``idle``: each session idles (answering heartbeats) in ``nursery`` as soon as it is open."""
    conns: list[Conn] = []
    times: list[float] = []
    limiter = trio.CapacityLimiter(min(concurrency, driver.open_concurrency))

    async def one() -> None:
        async with limiter:
            start = time.perf_counter()
            conn = await driver.open(nursery, base_url, counter)
            times.append(time.perf_counter() - start)
            conns.append(conn)
            if idle:
                nursery.start_soon(conn.idle)

    async with trio.open_nursery() as openers:
        for _ in range(count):
            openers.start_soon(one)
    return conns, times


async def throughput(
    driver: Driver, server: ServerProcess, sessions: int, duration: float, warmup: float = 1.0
) -> dict[str, Any]:
    counter = [0, 0]
    async with trio.open_nursery() as nursery:
        conns, open_times = await open_many(driver, nursery, server.base_url, sessions, counter)
        latencies: list[float] = []
        measuring = False
        clicks = 0

        async def clicker(conn: Conn) -> None:
            nonlocal clicks
            while True:
                start = time.perf_counter()
                await conn.click()
                if measuring:
                    latencies.append(time.perf_counter() - start)
                    clicks += 1

        async with trio.open_nursery() as clicking:
            for conn in conns:
                clicking.start_soon(clicker, conn)
            await trio.sleep(warmup)
            pids = server.pids()
            measuring = True
            sent, received = counter
            cpu, wall = cpu_seconds(pids), time.perf_counter()
            await trio.sleep(duration)
            measuring = False
            cpu, wall = cpu_seconds(pids) - cpu, time.perf_counter() - wall
            sent, received = counter[0] - sent, counter[1] - received
            clicking.cancel_scope.cancel()
        nursery.cancel_scope.cancel()
    return {
        "sessions": sessions,
        "updates": clicks,
        "updates_per_s": round(clicks / wall),
        "latency": latency_summary(latencies),
        "server_cpu_us_per_update": round(cpu / clicks * 1e6, 1),
        "server_cpu_cores": round(cpu / wall, 2),
        "bytes_per_click": {
            "client_to_server": round(sent / clicks, 1),
            "server_to_client": round(received / clicks, 1),
            "total": round((sent + received) / clicks, 1),
        },
        "open_session_ms": latency_summary(open_times),
    }


async def burst(driver: Driver, server: ServerProcess, count: int) -> dict[str, Any]:
    """``count`` sessions opened all at once (page + socket each); how many succeed, how fast."""
    counter = [0, 0]
    failures: list[str] = []
    times: list[float] = []
    start = time.perf_counter()
    async with trio.open_nursery() as nursery:

        async def one() -> None:
            t0 = time.perf_counter()
            try:
                await driver.open(nursery, server.base_url, counter)
                times.append(time.perf_counter() - t0)
            except (OSError, RuntimeError, trio_websocket.HandshakeError) as exc:
                failures.append(f"{type(exc).__name__}: {exc}")

        async with trio.open_nursery() as openers:
            for _ in range(count):
                openers.start_soon(one)
        elapsed = time.perf_counter() - start
        nursery.cancel_scope.cancel()
    return {
        "sessions": count,
        "succeeded": len(times),
        "failed": len(failures),
        "first_failures": sorted(set(failures))[:3],
        "seconds": round(elapsed, 2),
        "open_session_ms": latency_summary(times),
    }


async def idle_rss(driver: Driver, server: ServerProcess, count: int) -> dict[str, Any]:
    """RSS growth per idle connected session over ``count`` sessions."""
    counter = [0, 0]
    pids = server.pids()
    await trio.sleep(1)
    before = rss_bytes(pids)
    async with trio.open_nursery() as nursery:
        conns, times = await open_many(
            driver, nursery, server.base_url, count, counter, 200, idle=True
        )
        await trio.sleep(3)  # let the server settle
        after = rss_bytes(server.pids())
        nursery.cancel_scope.cancel()
    return {
        "sessions": len(conns),
        "rss_bytes_per_session": (after - before) // len(conns),
        "open_session_ms": latency_summary(times),
    }


def _absolute(base_url: str, src: str) -> str:
    return base_url + src if src.startswith("/") else src


async def page_weight(base_url: str, page_path: str, script: re.Pattern[str]) -> dict[str, int]:
    """HTML and client script bytes of the first page load, raw and gzip (level 6)."""
    page = (await http_get(base_url + page_path)).body
    found = script.findall(page.decode())
    scripts = [(await http_get(_absolute(base_url, src))).body for src in found]
    js = b"".join(scripts)
    return {
        "html_bytes": len(page),
        "html_gzip_bytes": len(gzip.compress(page, 6)),
        "client_js_bytes": len(js),
        "client_js_gzip_bytes": sum(len(gzip.compress(s, 6)) for s in scripts),
    }


# -------------------------------------------------------------------------------- vango


_SCRIPT = re.compile(r'<script src="([^"]+)"')


def vango_server(door: str, workers: int, env: dict[str, str] | None = None) -> ServerProcess:
    port = free_port()
    settings = {
        "VANGO_SECRET_KEY": "bench-load-key",
        "VANGO_DEV": "0",
        "VANGO_EVENT_RATE": "0",
        "VANGO_MAX_CONNECTIONS_PER_ADDRESS": "0",
        "VANGO_MAX_SESSIONS": "50000",
        "VANGO_UNCLAIMED_TTL": "300",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    if door == "fast":
        settings["VANGO_LIVE_PORT"] = str(free_port())
    command = [sys.executable, "-m", "hypercorn", "-k", "trio", "-w", str(workers)]
    command += ["--backlog", "4096", "-b", f"127.0.0.1:{port}", "vango_actors.asgi:app"]
    return start_server(
        f"vango-actors ({door} door, {workers} worker{'s' * (workers > 1)})",
        command,
        port,
        settings,
        ready_path="/vango/health",
        workers=workers,
    )


def with_server(
    make: Callable[[], ServerProcess], phase: Callable[[ServerProcess], Awaitable[Any]]
) -> Any:
    """Run ``phase`` against a fresh server; a failure is reported in the result, not raised."""
    server = make()
    try:
        return trio.run(phase, server)
    except Exception as exc:  # one failing phase must not lose the others' figures
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    finally:
        server.stop()


def run_suite(
    make: Callable[[int], ServerProcess],
    driver: Driver,
    *,
    sessions: int,
    duration: float,
    burst_size: int,
    idle: Sequence[int],
    page_path: str,
    script: re.Pattern[str],
    workers: Sequence[int] = (1,),
) -> dict[str, Any]:
    """Every phase against fresh servers from ``make(workers)``; one result dict."""
    result: dict[str, Any] = {"name": driver.name}
    result["page_weight"] = with_server(
        lambda: make(1), lambda s: page_weight(s.base_url, page_path, script)
    )
    for count in workers:
        key = "throughput" if count == 1 else f"throughput_{count}_workers"
        result[key] = with_server(
            lambda count=count: make(count),  # type: ignore[misc]
            lambda s: throughput(driver, s, sessions, duration),
        )
    if burst_size:
        result["connect_burst"] = with_server(
            lambda: make(1), lambda s: burst(driver, s, burst_size)
        )
    result["idle"] = [
        with_server(lambda: make(1), lambda s, n=n: idle_rss(driver, s, n))  # type: ignore[misc]
        for n in idle
    ]
    return result


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench load", description=__doc__)
    parser.add_argument("--door", choices=("fast", "asgi"), default="fast")
    parser.add_argument("--workers", default="1", help="comma-separated, e.g. 1,2")
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--idle", default="1000,10000", help="comma-separated; '' for none")
    args = parser.parse_args(list(argv))
    limit = raise_nofile()
    result = run_suite(
        lambda workers: vango_server(args.door, workers),
        VangoDriver(),
        sessions=args.sessions,
        duration=args.duration,
        burst_size=args.burst,
        idle=[int(n) for n in args.idle.split(",") if n.strip()],
        page_path="/counter",
        script=_SCRIPT,
        workers=[int(n) for n in args.workers.split(",")],
    )
    result = {
        "benchmark": "load",
        "door": args.door,
        "cpus": os.cpu_count(),
        "nofile_limit": limit,
        **result,
        "loadavg_1min": os.getloadavg()[0],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
