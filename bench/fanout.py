"""Pub/sub fan-out: one chat message to many subscribed sessions.

    python -m bench fanout [--sessions 1000] [--messages 20] [--redis-clients 100]

``in_process``: one process, the memory broker, ``--sessions`` live sessions of a page whose
message list is /chat's own ``ChatFeed`` (the last 50 messages as a stream, full from the
start: each new message is one row inserted and the oldest deleted), each attached with a
task draining its outbox like the ASGI door's writer task. One publish at a time; per
message, the time from the publish call until the *last* session's PATCHES frame has been
taken from its outbox by that writer task (server side: no socket write, no client; target
< 100 ms for 1,000 sessions), median and worst over ``--messages`` messages, and the process
CPU time over the same span.

``redis``: a real redis-server and two ``hypercorn -k trio`` processes with
``VANGO_PUBSUB=redis://...``; ``--redis-clients`` protocol clients on /chat, half on each
process; one client posts; the time until every client has applied the message (socket to
socket, through Redis, both processes and the client's own decode), median and worst.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import trio
import trio.testing

from app_routes.chat import ChatFeed
from vango_actors import Component, Element, h, open_runtime
from vango_actors.actor import DIRECT_QUEUE, DIRECT_SENT
from vango_actors.fastdoor import OP_BINARY, frame
from vango_actors.protocol import VERSION, Hello
from vango_actors.pubsub import open_pubsub

TOPIC = "chat:bench"


HISTORY = [{"id": f"h{n}", "user": "bench", "text": f"earlier {n}"} for n in range(50)]


def _history() -> list[dict[str, Any]]:
    return HISTORY


class Feed(Component):
    """The message part of /chat: its ChatFeed, started with a full history."""

    def mount(self, props: Mapping[str, Any]) -> None:
        pass

    def render(self) -> Element:
        return h.main(h(ChatFeed, topic=TOPIC, history=_history))


class _Arrivals:
    """The PATCHES frames written for the current message; ``done`` at the last session's."""

    def __init__(self, sessions: int) -> None:
        self.sessions = sessions
        self.reset()

    def reset(self) -> None:
        self.count, self.done = 0, trio.Event()

    def written(self) -> None:
        self.count += 1
        if self.count == self.sessions:
            self.done.set()


async def _attach_feeds(
    rt: Any,
    nursery: trio.Nursery,
    sessions: int,
    arrivals: _Arrivals,
    sockets: list[socket.socket] | None,
) -> None:
    """``sessions`` attached /chat feeds. With ``sockets`` (the fast door) the actor writes each
    frame into a socketpair of its own; without, frames go to the outbox, drained by a task."""

    async def drain(att: Any) -> None:
        async for queued in att.outbox:
            if queued and queued[1] == 4:  # PATCHES
                arrivals.written()
            if sockets is not None and not att.outbox.statistics().current_buffer_used:
                att.backlogged = False  # as live.py's writer: the actor may write directly

    for _ in range(sessions):
        created = await rt.create(Feed)
        sid = created.session_id
        att = await rt.attach(sid, Hello(VERSION, sid, "", 0, 0, "/"))
        nursery.start_soon(drain, att)
        if sockets is not None:
            att.direct = _socket_writer(sockets, arrivals.written)


async def _in_process(sessions: int, messages: int, door: str) -> dict[str, Any]:
    """``door`` "asgi": frames go to the outbox and a writer task per session takes them;
    "fast": the actor writes each frame straight into a real socket (the fast door's direct
    path: ``send`` on a non-blocking socketpair, no task), as deploy/ runs it."""
    latencies: list[float] = []
    cpu: list[float] = []
    sockets: list[socket.socket] = []
    async with (
        open_pubsub("memory") as broker,
        open_runtime(outbox_size=64, max_sessions=sessions + 1) as rt,
        trio.open_nursery() as nursery,
    ):
        arrivals = _Arrivals(sessions)
        await _attach_feeds(rt, nursery, sessions, arrivals, sockets if door == "fast" else None)
        await trio.testing.wait_all_tasks_blocked()
        for n in range(messages + 1):
            arrivals.reset()
            start, start_cpu = time.perf_counter(), time.process_time()
            await broker.publish(TOPIC, {"id": f"m{n}", "user": "bench", "text": f"hello {n}"})
            await arrivals.done.wait()
            if n:  # the first one warms caches
                latencies.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
            _empty(sockets)
        nursery.cancel_scope.cancel()
    for sock in sockets:
        sock.close()
    return {
        "door": door,
        "sessions": sessions,
        "messages": messages,
        "all_written_ms_median": round(statistics.median(latencies), 2),
        "all_written_ms_max": round(max(latencies), 2),
        "cpu_ms_median": round(statistics.median(cpu), 2),
        "cpu_us_per_session": round(statistics.median(cpu) * 1000 / sessions, 1),
        "target_ms": 100,
    }


def _socket_writer(sockets: list[socket.socket], written: Callable[[], None]) -> Any:
    """The fast door's direct send on a socketpair: one WebSocket frame, one ``send``."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.setblocking(False)
    sockets += [ours, theirs]

    def direct(data: bytes) -> int:
        try:
            ours.send(frame(OP_BINARY, data))
        except BlockingIOError:
            return DIRECT_QUEUE
        if data[1] == 4:
            written()
        return DIRECT_SENT

    return direct


def _empty(sockets: list[socket.socket]) -> None:
    for sock in sockets[1::2]:
        try:
            while sock.recv(65536):
                pass
        except BlockingIOError:
            pass


async def _redis(clients: int, messages: int) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.liveclient import LiveClient, open_page
    from tests.redis_server import redis_server
    from tests.scale.chatclient import say, wait_pubsub_ok
    from tests.servers import spawn_hypercorn

    with redis_server() as redis:
        env = {"VANGO_SECRET_KEY": "bench-fanout", "VANGO_PUBSUB": redis.url}
        servers = [spawn_hypercorn(env=env), spawn_hypercorn(env=env)]
        try:
            for server in servers:
                await trio.to_thread.run_sync(server.wait_running, 30)
                await wait_pubsub_ok(server.url)
            connected: list[LiveClient] = []
            latencies: list[float] = []
            async with trio.open_nursery() as nursery:
                ready = trio.Event()
                finished = trio.Event()

                async def client(url: str) -> None:
                    async with open_page(url, "/chat") as c:
                        connected.append(c)
                        if len(connected) == clients:
                            ready.set()
                        await finished.wait()

                for i in range(clients):
                    nursery.start_soon(client, servers[i % 2].url)
                await ready.wait()
                await trio.sleep(1.0)  # presence updates of the joins settle
                sender = connected[0]
                for n in range(messages + 1):
                    text = f"fanout {n}"
                    start = time.perf_counter()
                    await say(sender, text)
                    for c in connected:
                        await c.wait_for(lambda c=c, t=text: _has(c, t))  # type: ignore[misc]
                    if n:
                        latencies.append((time.perf_counter() - start) * 1000)
                finished.set()
        finally:
            for server in servers:
                server.stop()
    return {
        "processes": 2,
        "clients": clients,
        "messages": messages,
        "all_applied_ms_median": round(statistics.median(latencies), 2),
        "all_applied_ms_max": round(max(latencies), 2),
    }


async def _redis_sessions(sessions: int, messages: int) -> dict[str, Any]:
    """``sessions`` sessions split over two worker processes (``--worker``) sharing a real
    redis-server; this process publishes; each worker reports, per message, the time from
    the publish (``t0`` in the message, CLOCK_MONOTONIC is system-wide) until its last
    session wrote its PATCHES frame (fast-door path), and its CPU for that message."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.redis_server import redis_server
    from vango_actors.pubsub import RedisBroker

    root = Path(__file__).resolve().parent.parent
    with redis_server() as redis:
        args = [sys.executable, "-m", "bench", "fanout", "--worker", redis.url]
        args += ["--sessions", str(sessions // 2), "--messages", str(messages)]
        workers = [
            subprocess.Popen(args, cwd=root, stdout=subprocess.PIPE, text=True) for _ in range(2)
        ]
        try:
            with trio.fail_after(300):
                for worker in workers:
                    assert await _line(worker) == {"ready": True}
                latencies: list[float] = []
                cpu: list[float] = []
                async with open_pubsub(RedisBroker(redis.url)) as broker:
                    for n in range(messages + 1):
                        message = {"id": f"r{n}", "user": "bench", "text": f"hi {n}"}
                        await broker.publish(TOPIC, {**message, "t0": time.monotonic()})
                        reports = [await _line(worker) for worker in workers]
                        if n:
                            latencies.append(max(r["ms"] for r in reports))
                            cpu.append(sum(r["cpu_ms"] for r in reports))
        finally:
            for worker in workers:
                worker.kill()
                worker.wait()
                if worker.stdout is not None:
                    worker.stdout.close()
    return {
        "processes": 2,
        "sessions": sessions,
        "messages": messages,
        "all_written_ms_median": round(statistics.median(latencies), 2),
        "all_written_ms_max": round(max(latencies), 2),
        "cpu_ms_median": round(statistics.median(cpu), 2),
    }


async def _line(worker: subprocess.Popen[str]) -> Any:
    assert worker.stdout is not None
    line = await trio.to_thread.run_sync(worker.stdout.readline, abandon_on_cancel=True)
    if not line:
        raise RuntimeError(f"fanout worker {worker.pid} ended (status {worker.poll()})")
    return json.loads(line)


async def _worker(url: str, sessions: int, messages: int) -> None:
    """One process of ``_redis_sessions``: sessions on a RedisBroker, one line per message."""
    from vango_actors.pubsub import RedisBroker

    sockets: list[socket.socket] = []
    async with (
        open_pubsub(RedisBroker(url)) as broker,
        open_runtime(outbox_size=64, max_sessions=sessions + 1) as rt,
        trio.open_nursery() as nursery,
    ):
        arrivals = _Arrivals(sessions)
        await _attach_feeds(rt, nursery, sessions, arrivals, sockets)
        await broker.wait_connected()
        await trio.testing.wait_all_tasks_blocked()
        with broker.subscribed(TOPIC) as sub:
            print(json.dumps({"ready": True}), flush=True)
            cpu_mark = time.process_time()
            for _ in range(messages + 1):
                message = await sub.receive()
                await arrivals.done.wait()
                ms = (time.monotonic() - message["t0"]) * 1000
                cpu_ms = (time.process_time() - cpu_mark) * 1000
                arrivals.reset()
                _empty(sockets)
                cpu_mark = time.process_time()
                print(json.dumps({"ms": ms, "cpu_ms": cpu_ms}), flush=True)
        nursery.cancel_scope.cancel()
    for sock in sockets:
        sock.close()


def _has(client: Any, text: str) -> bool:
    return any(li.text_content.endswith(text) for li in client.document.select("#messages li"))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench fanout")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--redis-clients", type=int, default=100)
    parser.add_argument("--skip-redis", action="store_true")
    parser.add_argument("--worker", metavar="REDIS_URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        trio.run(_worker, args.worker, args.sessions, args.messages)
        return
    result: dict[str, Any] = {"benchmark": "fanout"}
    result["in_process"] = trio.run(_in_process, args.sessions, args.messages, "asgi")
    result["in_process_fast_door"] = trio.run(_in_process, args.sessions, args.messages, "fast")
    if not args.skip_redis:
        result["redis"] = trio.run(_redis, args.redis_clients, max(3, args.messages // 4))
        result["redis_sessions"] = trio.run(_redis_sessions, args.sessions, args.messages)
    print(json.dumps(result, indent=2))
