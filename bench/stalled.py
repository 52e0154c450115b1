"""`python -m bench stalled`: server RSS with 100 live clients that stopped reading.

Starts ``hypercorn -k trio vango_actors.asgi:app`` serving the hostile test pages
(``tests.hardening.pages``) as a subprocess. Each stalled client GETs ``/firehose`` (a timer
re-renders ~16 KB every 5 ms), opens the live socket with a 4 KiB receive buffer, says HELLO and
never reads again. The server must stop rendering the timer's changes once half the outbox
is taken (no resync, state kept), keep its memory bounded (replay buffer within
``VANGO_REPLAY_BYTES``) and, after ``--stall-timeout`` seconds (``VANGO_STALL_TIMEOUT``),
drop the stalled TCP connections, detaching their sessions (state kept). Reported: RSS of the
worker before, at the peak and at the end of ``--settle``, RSS per stalled client, when all
sessions were detached and when all live sockets were closed, and the sessions' states from
/vango/health. One JSON document.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
from collections.abc import Sequence
from typing import Any

import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, Request

from tests.servers import spawn_hypercorn
from vango_actors import protocol

from .live import _rss_bytes, _worker_pid

_ROOT = re.compile(r'data-vango-session="([^"]+)" data-vango-token="([^"]+)"')
ROUTES = "tests.hardening.pages"


async def http_get(port: int, path: str) -> str:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        await stream.send_all(request.encode())
        raw = b""
        while True:
            head, sep, body = raw.partition(b"\r\n\r\n")
            found = re.search(rb"(?i)content-length:\s*(\d+)", head)
            if sep and found and len(body) >= int(found.group(1)):
                return body.decode()
            chunk = await stream.receive_some(65536)
            if not chunk:
                return body.decode()
            raw += chunk


class StalledClient:
    """A live socket that said HELLO, read WELCOME's first bytes, and then never reads again."""

    def __init__(self, sock: trio.socket.SocketType, session_id: str) -> None:
        self.sock = sock
        self.session_id = session_id

    def close(self) -> None:
        self.sock.close()


async def open_stalled(
    port: int, path: str = "/firehose", rcvbuf: int = 4096, live_port: int | None = None
) -> StalledClient:
    """GET ``path``, open its live socket with a tiny receive buffer, HELLO, stop reading.

    ``live_port``: the fast door's port (None: the ASGI door of the page's port)."""
    page = await http_get(port, path)
    found = _ROOT.search(page)
    if found is None:
        raise RuntimeError(f"GET {path}: no live root container in {page[:200]!r}")
    session_id, token = found.groups()
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: the window
    await sock.connect(("127.0.0.1", live_port or port))
    ws = WSConnection(ConnectionType.CLIENT)
    host = f"127.0.0.1:{live_port or port}"
    origin = [(b"Origin", f"http://127.0.0.1:{port}".encode())]
    target = f"/vango/live/{session_id}"
    await sock.send(ws.send(Request(host=host, target=target, extra_headers=origin)))
    while True:
        data = await sock.recv(4096)
        if not data:
            raise RuntimeError("the server closed the socket during the handshake")
        ws.receive_data(data)
        if any(isinstance(event, AcceptConnection) for event in ws.events()):
            break
    hello = protocol.Hello(protocol.VERSION, session_id, token, 0, 0, path)
    await sock.send(ws.send(BytesMessage(protocol.encode(hello))))
    return StalledClient(sock, session_id)


def _metrics(port: int) -> dict[str, float]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/vango/metrics", timeout=10) as reply:
        text = reply.read().decode()
    found = re.findall(r"^(vango_[^\s]+)\s+([-+0-9.eE]+)$", text, re.M)
    return {name: float(value) for name, value in found}


def _health(port: int) -> dict[str, Any]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/vango/health", timeout=10) as reply:
        result: dict[str, Any] = json.loads(reply.read())
        return result


async def measure(port: int, worker: int, clients: int, settle: float) -> dict[str, Any]:
    rss_before = _rss_bytes(worker)
    stalled = [await open_stalled(port) for _ in range(clients)]
    peak = rss_before
    deadline = trio.current_time() + settle
    detached_after = closed_after = None
    started = trio.current_time()
    while trio.current_time() < deadline:
        await trio.sleep(0.25)
        peak = max(peak, _rss_bytes(worker))
        sessions = _health(port)["sessions"]
        if detached_after is None and sessions["disconnected"] >= clients:
            detached_after = trio.current_time() - started
        if closed_after is None and _metrics(port)["vango_live_connections_open"] == 0:
            closed_after = trio.current_time() - started
    sessions = _health(port)["sessions"]
    rss_stalled = _rss_bytes(worker)
    for client in stalled:
        client.close()
    return {
        "stalled_clients": clients,
        "rss_before_mib": round(rss_before / 2**20, 1),
        "rss_peak_mib": round(peak / 2**20, 1),
        "rss_stalled_mib": round(rss_stalled / 2**20, 1),
        "rss_per_stalled_client_kib": round((peak - rss_before) / clients / 1024, 1),
        "all_detached_after_s": None if detached_after is None else round(detached_after, 2),
        "all_sockets_closed_after_s": None if closed_after is None else round(closed_after, 2),
        "sessions_after": sessions,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench stalled", description=__doc__)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--settle", type=float, default=20.0, help="seconds to watch RSS")
    parser.add_argument("--stall-timeout", type=float, default=10.0, help="VANGO_STALL_TIMEOUT")
    parser.add_argument("--replay-bytes", type=int, default=None, help="VANGO_REPLAY_BYTES")
    args = parser.parse_args(argv)
    env = {
        "VANGO_ROUTES": ROUTES,
        "VANGO_SECRET_KEY": "bench",
        "VANGO_EVENT_RATE": "0",
        "VANGO_STALL_TIMEOUT": str(args.stall_timeout),
    }
    if args.replay_bytes is not None:
        env["VANGO_REPLAY_BYTES"] = str(args.replay_bytes)
    server = spawn_hypercorn(env=env)
    try:
        server.wait_running(30)
        assert server.port is not None
        worker = _worker_pid(server.process.pid)
        result = trio.run(measure, server.port, worker, args.clients, args.settle)
    finally:
        server.stop()
    settings = {"stall_timeout_s": args.stall_timeout, "replay_bytes": args.replay_bytes}
    print(json.dumps({"benchmark": "stalled", **settings, **result}, indent=2))


if __name__ == "__main__":
    main()
