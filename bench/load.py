"""`python -m bench load`: the counter over real sockets, N sessions, one JSON document.

Starts ``hypercorn -k trio vango_actors.asgi:app`` (``--workers`` processes; the fast door on
a fixed port shared with ``SO_REUSEPORT`` unless ``--door asgi``), then with trio-websocket
clients in this process:

- page weight: ``GET /counter`` and the client script, raw and gzip;
- throughput: ``--sessions`` sessions (page + live socket each), each clicking ``#inc``
  sequentially (send EVENT, wait for the PATCHES acknowledging it) for ``--duration`` s:
  updates/s, latency p50/p90/p99/max, server CPU µs per update (utime + stime of every server
  process, from /proc, over the click phase), bytes on the wire per click (both directions,
  WebSocket framing included: counted on the TCP stream under the WebSocket), the client's
  own CPU µs per update and updates per wake-up; the click phase runs under
  ``--client-sched`` (default ``batch``: SCHED_BATCH, a reply does not preempt a server
  worker, see bench/_lean.py);
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs
import msgpack  # type: ignore[import-untyped]
import trio

from bench._lean import (
    OP_BINARY,
    SCHED_POLICIES,
    ClickResult,
    RawWS,
    WSClosed,
    click_loop,
    client_frame,
    client_scheduling,
)

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


# ----------------------------------------------------------------- sessions and drivers


class Conn(Protocol):
    """One open session of a counter app (a :class:`bench._lean.LeanConn` that can idle)."""

    ws: RawWS
    reply_opcode: int

    def click(self) -> tuple[bytes, bytes]:
        """The frame that clicks ``#inc`` once, and the payload prefix of its acknowledgement."""
        ...

    def on_message(self, opcode: int, payload: bytes) -> bool:
        """True if the message acknowledges the click in flight."""
        ...

    async def idle(self) -> None:
        """Stay connected (answer heartbeats) until cancelled or closed."""
        ...


class Driver(Protocol):
    """How the client talks to one app: fetch a page, open its live socket."""

    name: str
    open_concurrency: int  # sessions opened at once (ReactPy 1.1 breaks on concurrent mounts)

    async def page(self, base_url: str) -> Any:
        """GET the counter page; what ``connect`` needs from it."""
        ...

    async def connect(self, base_url: str, page: Any, counter: list[int]) -> Conn:
        """Open the live socket of a fetched page (connected and ready to click)."""
        ...


async def open_session(driver: Driver, base_url: str, counter: list[int]) -> Conn:
    """Page + socket; a socket that reached a worker without the session fetches a new page."""
    for _attempt in range(50):
        try:
            return await driver.connect(base_url, await driver.page(base_url), counter)
        except SessionGone:
            continue
    raise RuntimeError("50 attempts in a row landed on another worker")


class SessionGone(Exception):
    """The socket landed on a worker that does not hold the session (RELOAD): retry."""


async def idle_until_closed(conn: Conn) -> None:
    """Answer heartbeats (``on_message``) until cancelled or the server closes."""
    try:
        while True:
            opcode, payload = await conn.ws.receive()
            conn.on_message(opcode, payload)
    except WSClosed:
        conn.ws.close()  # counted out of ``connected_at_measure``


_ROOT = re.compile(r"<div\b[^>]*\bdata-vango-root\b[^>]*>")
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')
_INC = re.compile(r'<button data-hid="h(\d+)" id="inc"')
_PING, _PONG, _WELCOME, _PATCHES, _ERROR, _RELOAD = 5, 6, 2, 4, 7, 8
_CLICK_TAIL = b"\xa5click\x80"  # msgpack "click", {} (the end of every EVENT frame)


class _Table:
    """``make(i)`` for i = 0, 1, 2, ... built once and kept (grown by 4,096 when reached)."""

    __slots__ = ("items", "make")

    def __init__(self, make: Callable[[int], bytes]) -> None:
        self.make = make
        self.items: list[bytes] = []

    def grow(self, upto: int) -> list[bytes]:
        self.items += [self.make(i) for i in range(len(self.items), upto + 4096)]
        return self.items


_UINTS = _Table(msgpack.packb)  # msgpack uint encodings, shared by every session
_CLICKS: dict[int, _Table] = {}  # per #inc hid: the EVENT frame clicking it, by event seq


def _click_table(inc: int) -> _Table:
    head = b"\x95\x03"
    tail = msgpack.packb(inc) + _CLICK_TAIL
    return _CLICKS.setdefault(
        inc, _Table(lambda seq: client_frame(OP_BINARY, head + msgpack.packb(seq) + tail))
    )


class VangoConn:
    """A vango session: ``seq`` is the last EVENT sent, ``patch_seq`` the seq of the PATCHES
    frame expected last (counted ahead by ``click``; set from every decoded PATCHES)."""

    __slots__ = ("_clicks", "_frames", "_uints", "patch_seq", "seq", "ws")
    reply_opcode = OP_BINARY

    def __init__(self, ws: RawWS, inc: int, patch_seq: int = 0) -> None:
        self.ws = ws
        self.seq = 0
        self.patch_seq = patch_seq
        self._clicks = _click_table(inc)
        self._frames = self._clicks.items
        self._uints = _UINTS.items

    def click(self) -> tuple[bytes, bytes]:
        """[3, seq, inc, "click", {}] (prebuilt by seq), and the PATCHES answering it:
        ``[4, patch_seq + 1, seq, ...`` (the next frame of the session, acknowledging seq)."""
        self.seq = seq = self.seq + 1
        self.patch_seq = patch_seq = self.patch_seq + 1
        try:
            uints = self._uints
            return self._frames[seq], b"\x94\x04" + uints[patch_seq] + uints[seq]
        except IndexError:  # beyond the tables: grow them (every 4,096 clicks)
            self._frames = self._clicks.grow(seq)
            self._uints = _UINTS.grow(max(seq, patch_seq))
            return self._frames[seq], b"\x94\x04" + self._uints[patch_seq] + self._uints[seq]

    def on_message(self, opcode: int, payload: bytes) -> bool:
        kind = payload[1]
        if kind == _PATCHES:
            frame = msgpack.unpackb(payload)
            self.patch_seq = frame[1]
            return bool(frame[2] >= self.seq)
        if kind == _PING:
            n = msgpack.unpackb(payload)[1]
            self.ws.send_message(OP_BINARY, msgpack.packb([_PONG, n]))
        elif kind == _RELOAD:
            raise SessionGone(msgpack.unpackb(payload)[1])
        elif kind == _ERROR:
            raise RuntimeError(f"server sent ERROR {msgpack.unpackb(payload)[1:]}")
        return False

    async def idle(self) -> None:
        await idle_until_closed(self)


@attrs.frozen
class VangoPage:
    session_id: str
    token: str
    live_url: str
    inc: int


@attrs.define
class VangoDriver:
    name: str = "vango-actors"
    open_concurrency: int = 100

    async def page(self, base_url: str) -> VangoPage:
        page = (await http_get(base_url + "/counter")).body.decode()
        root, inc = _ROOT.search(page), _INC.search(page)
        if root is None or inc is None:
            raise RuntimeError("the /counter page has no live root or #inc button")
        attributes = dict(_ATTR.findall(root.group(0)))
        sid, token = attributes["data-vango-session"], attributes["data-vango-token"]
        ws_base = "ws" + base_url[len("http") :]
        url = attributes.get("data-vango-live") or f"{ws_base}/vango/live/{sid}"
        return VangoPage(sid, token, url, int(inc.group(1)))

    async def connect(self, base_url: str, page: VangoPage, counter: list[int]) -> Conn:
        ws = await RawWS.connect(page.live_url, counter, [("Origin", base_url)])
        try:
            hello = [1, 1, page.session_id, page.token, 0, 0, "/counter"]
            ws.send_message(OP_BINARY, msgpack.packb(hello))
            conn = VangoConn(ws, page.inc)
            while True:
                _opcode, payload = await ws.receive()
                if payload[1] == _WELCOME:
                    conn.patch_seq = msgpack.unpackb(payload)[2]
                    return conn
                conn.on_message(OP_BINARY, payload)
        except WSClosed as exc:
            ws.close()
            raise SessionGone(str(exc)) from None  # e.g. another worker refused it
        except BaseException:
            ws.close()
            raise


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
    base_url: str,
    count: int,
    counter: list[int],
    concurrency: int = 100,
    idle: trio.Nursery | None = None,
    pages: Sequence[Any] | None = None,
) -> tuple[list[Conn], list[float]]:
    """Open ``count`` sessions, ``concurrency`` at a time; the sessions and their open times.
    ``idle``: each session idles (answering heartbeats) in that nursery as soon as it is open.
    ``pages``: already fetched pages to connect (one session each) instead of new ones."""
    conns: list[Conn] = []
    times: list[float] = []
    limiter = trio.CapacityLimiter(min(concurrency, driver.open_concurrency))

    async def one(page: Any) -> None:
        async with limiter:
            start = time.perf_counter()
            if page is None:
                conn = await open_session(driver, base_url, counter)
            else:
                conn = await driver.connect(base_url, page, counter)
            times.append(time.perf_counter() - start)
            conns.append(conn)
            if idle is not None:
                idle.start_soon(conn.idle)

    async with trio.open_nursery() as openers:
        for page in pages if pages is not None else [None] * count:
            openers.start_soon(one, page)
    return conns, times


def close_all(conns: Sequence[Conn]) -> None:
    for conn in conns:
        conn.ws.close()


def drivers() -> dict[str, Driver]:
    """Every driver by its command-line name (peers imported lazily: they import this)."""
    from bench.peers.clients import PyViewDriver, ReactPyDriver

    return {"vango": VangoDriver(), "pyview": PyViewDriver(), "reactpy": ReactPyDriver()}


def _driver_key(driver: Driver) -> str:
    return next(k for k, d in drivers().items() if d.name == driver.name)


def throughput(
    driver: Driver,
    server: ServerProcess,
    sessions: int,
    duration: float,
    warmup: float = 1.0,
    client_procs: int = 1,
    client_sched: str = "batch",
) -> dict[str, Any]:
    """``sessions`` sessions click for ``warmup`` + ``duration`` s; ``client_procs`` client
    processes each drive a share (their results merged), under ``client_sched``
    (:func:`bench._lean.client_scheduling`); the server's CPU is read at the counted
    window's edges."""
    pids = server.pids()
    edges: dict[str, tuple[float, float]] = {}

    def on_window(edge: str) -> None:
        edges[edge] = (cpu_seconds(pids), time.perf_counter())

    if client_procs <= 1:
        counter = [0, 0]
        conns, open_times = trio.run(open_many, driver, server.base_url, sessions, counter)
        try:
            start_at = time.time() + warmup
            with client_scheduling(client_sched):
                result = click_loop(conns, counter, (start_at, start_at + duration), on_window)
        finally:
            close_all(conns)
        parts = [(result, open_times)]
    else:
        parts = _throughput_procs(
            driver, server, sessions, duration, warmup, client_procs, client_sched, on_window
        )
    cpu = edges["end"][0] - edges["start"][0]
    wall = edges["end"][1] - edges["start"][1]
    clicks = sum(p.clicks for p, _ in parts)
    latencies = [x for p, _ in parts for x in p.latencies]
    sent, received = sum(p.sent for p, _ in parts), sum(p.received for p, _ in parts)
    if not clicks:
        raise RuntimeError("no click was acknowledged in the counted window")
    return {
        "sessions": sessions,
        "client_procs": client_procs,
        "client_sched": client_sched,
        "updates": clicks,
        "updates_per_s": round(clicks / wall),
        "latency": latency_summary(latencies),
        "server_cpu_us_per_update": round(cpu / clicks * 1e6, 1),
        "server_cpu_cores": round(cpu / wall, 2),
        "client_cpu_us_per_update": round(sum(p.cpu for p, _ in parts) / clicks * 1e6, 1),
        "client_cpu_cores": round(sum(p.cpu for p, _ in parts) / wall, 2),
        "client_updates_per_wakeup": round(clicks / max(1, sum(p.wakeups for p, _ in parts)), 2),
        "bytes_per_click": {
            "client_to_server": round(sent / clicks, 1),
            "server_to_client": round(received / clicks, 1),
            "total": round((sent + received) / clicks, 1),
        },
        "open_session_ms": latency_summary([t for _, ts in parts for t in ts]),
    }


def _throughput_procs(
    driver: Driver,
    server: ServerProcess,
    sessions: int,
    duration: float,
    warmup: float,
    procs: int,
    client_sched: str,
    on_window: Callable[[str], None],
) -> list[tuple[ClickResult, list[float]]]:
    """Client processes (``python -m bench.load --client-worker``), each with a share of the
    sessions: they open, say ``ready``, get the window on stdin, click, print their result."""
    shares = [sessions // procs + (i < sessions % procs) for i in range(procs)]
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.load",
                "--client-worker",
                _driver_key(driver),
                server.base_url,
                str(share),
                client_sched,
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            preexec_fn=raise_nofile,
        )
        for share in shares
        if share
    ]
    try:
        for child in children:
            assert child.stdout is not None
            if child.stdout.readline().strip() != b"ready":
                raise RuntimeError("a client process failed to open its sessions")
        start_at = time.time() + warmup
        for child in children:
            assert child.stdin is not None
            child.stdin.write(f"{start_at} {start_at + duration}\n".encode())
            child.stdin.close()
        time.sleep(max(0.0, start_at - time.time()))
        on_window("start")
        time.sleep(max(0.0, start_at + duration - time.time()))
        on_window("end")
        parts = []
        for child in children:
            assert child.stdout is not None
            data = json.loads(child.stdout.read())
            child.wait(60)
            parts.append((ClickResult(**data["result"]), data["open_times"]))
        return parts
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
            for pipe in (child.stdin, child.stdout):
                if pipe is not None:
                    pipe.close()


def client_worker(argv: Sequence[str]) -> None:
    """A client process of :func:`_throughput_procs`: ``KEY BASE_URL SESSIONS SCHED``."""
    key, base_url, count, sched = argv[0], argv[1], int(argv[2]), argv[3]
    counter = [0, 0]
    conns, open_times = trio.run(open_many, drivers()[key], base_url, count, counter)
    print("ready", flush=True)
    start_at, end_at = (float(x) for x in sys.stdin.readline().split())
    try:
        with client_scheduling(sched):
            result = click_loop(conns, counter, (start_at, end_at))
    finally:
        close_all(conns)
    print(json.dumps({"result": attrs.asdict(result), "open_times": open_times}))


async def burst(driver: Driver, server: ServerProcess, count: int) -> dict[str, Any]:
    """``count`` sessions opened all at once (page + socket each); how many succeed, how fast."""
    counter = [0, 0]
    failures: list[str] = []
    times: list[float] = []
    conns: list[Conn] = []
    start = time.perf_counter()

    async def one() -> None:
        t0 = time.perf_counter()
        try:
            conns.append(await open_session(driver, server.base_url, counter))
            times.append(time.perf_counter() - t0)
        except (OSError, RuntimeError, WSClosed) as exc:
            failures.append(f"{type(exc).__name__}: {exc}")

    try:
        async with trio.open_nursery() as openers:
            for _ in range(count):
                openers.start_soon(one)
        elapsed = time.perf_counter() - start
    finally:
        close_all(conns)
    return {
        "sessions": count,
        "succeeded": len(times),
        "failed": len(failures),
        "first_failures": sorted(set(failures))[:3],
        "seconds": round(elapsed, 2),
        "open_session_ms": latency_summary(times),
    }


async def idle_rss(driver: Driver, server: ServerProcess, count: int) -> dict[str, Any]:
    """RSS growth per idle connected session over ``count`` sessions, split into the pages
    (all ``count`` fetched first: the server holds them as unclaimed sessions) and the
    connections (then all opened and left idle, answering heartbeats)."""
    counter = [0, 0]
    await trio.sleep(1)
    before = rss_bytes(server.pids())
    limiter = trio.CapacityLimiter(200)
    pages: list[Any] = []

    async def fetch() -> None:
        async with limiter:
            pages.append(await driver.page(server.base_url))

    async with trio.open_nursery() as fetchers:
        for _ in range(count):
            fetchers.start_soon(fetch)
    await trio.sleep(1)
    after_pages = rss_bytes(server.pids())
    conns: list[Conn] = []
    try:
        async with trio.open_nursery() as nursery:
            conns, times = await open_many(
                driver, server.base_url, count, counter, 200, idle=nursery, pages=pages
            )
            await trio.sleep(3)  # let the server settle
            after = rss_bytes(server.pids())
            alive = sum(1 for c in conns if c.ws.sock.fileno() >= 0)
            nursery.cancel_scope.cancel()
    finally:
        close_all(conns)
    return {
        "sessions": len(conns),
        "connected_at_measure": alive,
        "rss_bytes_per_session": (after - before) // len(conns),
        "page_bytes_per_session": (after_pages - before) // len(conns),
        "connection_bytes_per_session": (after - after_pages) // len(conns),
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


def vango_server(
    door: str, workers: int, env: dict[str, str] | None = None, door_ports: str = "shared"
) -> ServerProcess:
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
    if door == "fast":  # one door port every worker binds (SO_REUSEPORT), or one per worker
        settings["VANGO_LIVE_PORT"] = "0" if door_ports == "per-worker" else str(free_port())
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


def with_server(make: Callable[[], ServerProcess], phase: Callable[[ServerProcess], Any]) -> Any:
    """Run ``phase`` against a fresh server; a failure is reported in the result, not raised."""
    server = make()
    try:
        return phase(server)
    except Exception as exc:  # one failing phase must not lose the others' figures
        while isinstance(exc, BaseExceptionGroup) and isinstance(exc.exceptions[0], Exception):
            exc = exc.exceptions[0]  # the first real failure, not its nursery's group
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
    client_procs: int = 1,
    client_sched: str = "batch",
) -> dict[str, Any]:
    """Every phase against fresh servers from ``make(workers)``; one result dict."""
    result: dict[str, Any] = {"name": driver.name}
    result["page_weight"] = with_server(
        lambda: make(1), lambda s: trio.run(page_weight, s.base_url, page_path, script)
    )
    for count in workers:
        key = "throughput" if count == 1 else f"throughput_{count}_workers"
        result[key] = with_server(
            lambda count=count: make(count),  # type: ignore[misc]
            lambda s: throughput(
                driver, s, sessions, duration, client_procs=client_procs, client_sched=client_sched
            ),
        )
    if burst_size:
        result["connect_burst"] = with_server(
            lambda: make(1), lambda s: trio.run(burst, driver, s, burst_size)
        )
    result["idle"] = [
        with_server(lambda: make(1), lambda s, n=n: trio.run(idle_rss, driver, s, n))  # type: ignore[misc]
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
    parser.add_argument("--client-procs", type=int, default=1, help="client processes")
    parser.add_argument(
        "--client-sched",
        choices=SCHED_POLICIES,
        default="batch",
        help="the click phase's scheduling policy: SCHED_BATCH (a reply does not preempt a "
        "server worker) or the default policy",
    )
    parser.add_argument(
        "--door-ports",
        choices=("shared", "per-worker"),
        default="shared",
        help="fast door: one port for every worker (SO_REUSEPORT), or a port per worker",
    )
    if argv[:1] == ["--client-worker"]:
        raise_nofile()
        client_worker(argv[1:])
        return
    args = parser.parse_args(list(argv))
    limit = raise_nofile()
    result = run_suite(
        lambda workers: vango_server(args.door, workers, door_ports=args.door_ports),
        VangoDriver(),
        sessions=args.sessions,
        duration=args.duration,
        burst_size=args.burst,
        idle=[int(n) for n in args.idle.split(",") if n.strip()],
        page_path="/counter",
        script=_SCRIPT,
        workers=[int(n) for n in args.workers.split(",")],
        client_procs=args.client_procs,
        client_sched=args.client_sched,
    )
    result = {
        "benchmark": "load",
        "door": args.door,
        "door_ports": args.door_ports,
        "cpus": os.cpu_count(),
        "python": sys.version,
        "nofile_limit": limit,
        **result,
        "loadavg_1min": os.getloadavg()[0],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
