"""One counter click through the session actor, in-process: where the server's CPU goes.

    python -m bench hotpath [--events N] [--repeat N] [--instructions]

Two paths, for the demo ``/counter`` page (8 elements, 2 bindings) and the smaller bench
counter (3 elements):

- ``handle``: ``SessionActor._handle`` called directly with EVENT after EVENT, frames sent to a
  fake direct transport: dispatch, render, resolve, diff, index, encode, replay, emit — no
  scheduler at all;
- ``own_reads``: the fast door's shape: the actor reads its events itself
  (``Attachment.read_with``; a reader awaiting a trio channel instead of a socket) and sends
  each frame straight out; one event in flight, so two task switches per event;
- ``socket`` (demo counter only): the real app and fast door served in-process by
  hypercorn's trio worker, ``--sessions`` sessions over loopback sockets, each clicking with
  one click in flight from a bare client task in the same process (a raw socket: send the
  prebuilt click frame, wait readable, recv until the acknowledging PATCHES). The client's
  own work is in the figure too; it is the same in every A/B run, so the figure compares
  server changes: the socket read, trio's waits, the actor's wake, the send.

``cpu_us_per_event`` is process CPU time per event (best of ``--repeat``; inflated on a loaded
box). ``--instructions`` reruns each case under ``valgrind --tool=callgrind`` (instrumentation
switched on after set-up) at two event counts and reports CPU instructions per event: a
deterministic figure that the load of other jobs does not move (needs valgrind; ~1 minute).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgpack
import trio

from app_routes.counter import Counter as DemoCounter
from bench._inprocess import serving_demo
from bench._lean import OP_BINARY, client_frame
from bench.load import VangoDriver
from bench.runtime import Counter as SmallCounter
from bench.runtime import reading_itself
from vango_actors import Component, RuntimeConfig, SessionManager, open_runtime
from vango_actors.actor import DIRECT_SENT, Attachment, _Incoming
from vango_actors.dom import Document
from vango_actors.protocol import VERSION, Event, Hello

PAGES: dict[str, type[Component]] = {"demo_counter": DemoCounter, "counter": SmallCounter}
PATHS = ("handle", "own_reads", "socket")
_WARM_UP = 20
_SOCKET_SESSIONS = int(os.environ.get("HOTPATH_SESSIONS", "20"))


async def _attached(rt: SessionManager, root: type[Component]) -> tuple[Attachment, int]:
    created = await rt.create(root, {})
    hid = Document.from_html(created.html).select("#inc")[0].hid
    assert hid is not None
    att = await rt.attach(created.session_id, Hello(VERSION, created.session_id, "", 0, 0, "/"))
    await att.outbox.receive()  # WELCOME
    return att, hid


async def _handle(att: Attachment, hid: int, n: int, start: Callable[[], None]) -> None:
    actor = att._actor
    att.direct, att.backlogged = (lambda frame: DIRECT_SENT), False
    seq = actor.ack
    messages = [_Incoming(att, Event(seq + i, hid, "click", {})) for i in range(1, n + 1)]
    for message in messages[:_WARM_UP]:
        await actor._handle(message)
    start()
    for message in messages[_WARM_UP:]:
        await actor._handle(message)


async def _own_reads(att: Attachment, hid: int, n: int, start: Callable[[], None]) -> None:
    round_trip = reading_itself(att)
    seq = att._actor.ack
    for i in range(1, n + 1):
        if i == _WARM_UP + 1:
            start()
        await round_trip(Event(seq + i, hid, "click", {}))


RUNNERS: dict[str, Callable[[Attachment, int, int, Callable[[], None]], Awaitable[None]]] = {
    "handle": _handle,
    "own_reads": _own_reads,
}


def _acknowledges(data: bytes, seq: int) -> bool:
    """``data`` (whole server frames) holds the PATCHES acknowledging EVENT ``seq``."""
    at = 0
    while at + 2 <= len(data):
        size, at = data[at + 1] & 0x7F, at + 2
        if size == 126:
            size, at = int.from_bytes(data[at : at + 2], "big"), at + 2
        message = msgpack.unpackb(data[at : at + size])
        at += size
        if message[0] == 4 and message[2] >= seq:
            return True
    return False


async def _clicks(
    sock: socket.socket, hid: int, n: int, ready: Callable[[], Awaitable[None]]
) -> None:
    """``n`` clicks, one in flight; ``ready`` is awaited after the warm-up's clicks."""
    for seq in range(1, n + _WARM_UP + 1):
        if seq == _WARM_UP + 1:
            await ready()
        sock.send(client_frame(OP_BINARY, msgpack.packb([3, seq, hid, "click", {}])))
        while True:
            await trio.lowlevel.wait_readable(sock)
            if _acknowledges(sock.recv(65536), seq):  # (a PING would only add a wait)
                break


async def _socket_case(n: int, start: Callable[[], None]) -> float:
    """CPU seconds for about ``n`` clicks over loopback sockets, after the warm-up."""
    driver = VangoDriver()
    per_session = max(1, n // _SOCKET_SESSIONS)
    began: list[float] = []
    async with serving_demo("bench-hotpath-key") as (_app, base_url):
        counter = [0, 0]
        pages = [await driver.page(base_url) for _ in range(_SOCKET_SESSIONS)]
        conns = [await driver.connect(base_url, page, counter) for page in pages]
        waiting = [len(conns)]
        go = trio.Event()

        async def ready() -> None:
            waiting[0] -= 1
            if not waiting[0]:
                start()
                began.append(time.process_time())
                go.set()
            await go.wait()

        async with trio.open_nursery() as clients:
            for conn, page in zip(conns, pages, strict=True):
                clients.start_soon(_clicks, conn.ws.sock, page.inc, per_session, ready)
        cpu = time.process_time() - began[0]
        for conn in conns:
            conn.ws.sock.close()
    return cpu * n / (per_session * _SOCKET_SESSIONS)


async def _case(page: str, path: str, n: int, start: Callable[[], None]) -> float:
    """CPU seconds for ``n`` events after the warm-up."""
    if path == "socket":
        return await _socket_case(n, start)
    config = RuntimeConfig(outbox_size=4096, mailbox_size=256)
    async with open_runtime(config=config) as rt:
        att, hid = await _attached(rt, PAGES[page])
        began: list[float] = []

        def mark() -> None:
            start()
            began.append(time.process_time())

        await RUNNERS[path](att, hid, n + _WARM_UP, mark)
        cpu = time.process_time() - began[0]
        att.detach()
        await rt.aclose(deadline=5)
    return cpu


def _cpu_figures(events: int, repeat: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for page in PAGES:
        for path in PATHS:
            if path == "socket" and page != "demo_counter":
                continue
            best = min(trio.run(_case, page, path, events, lambda: None) for _ in range(repeat))
            out.setdefault(page, {})[f"{path}_cpu_us_per_event"] = round(best / events * 1e6, 1)
    return out


def _callgrind_on() -> None:
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], capture_output=True)


def _instructions(page: str, path: str, n: int) -> int:
    """Instructions executed by ``n`` events under callgrind (set-up not instrumented)."""
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
        sys.executable, "-m", "bench", "hotpath", "--one", page, path, str(n),
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    for line in run.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split("Collected :")[1])
    raise RuntimeError(f"callgrind printed no instruction count: {run.stderr[-500:]!r}")


def _instruction_figures(low: int, high: int) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for page in PAGES:
        for path in PATHS:
            if path == "socket" and page != "demo_counter":
                continue
            per = (_instructions(page, path, high) - _instructions(page, path, low)) / (high - low)
            out.setdefault(page, {})[f"{path}_instructions_per_event"] = round(per)
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench hotpath")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best counts")
    parser.add_argument("--instructions", action="store_true", help="also count instructions")
    parser.add_argument("--one", nargs=3, metavar=("PAGE", "PATH", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # one case inside callgrind: instrumentation starts after the warm-up
        page, path, n = args.one
        trio.run(_case, page, path, int(n), _callgrind_on)
        return
    result: dict[str, Any] = {
        "benchmark": "hotpath",
        "events": args.events,
        "cpu": _cpu_figures(args.events, args.repeat),
    }
    if args.instructions:
        if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
            raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
        result["instructions"] = _instruction_figures(500, 1500)
    print(json.dumps(result, indent=2))
