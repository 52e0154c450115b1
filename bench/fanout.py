"""Pub/sub fan-out: one chat message to many subscribed sessions.

    python -m bench fanout [--sessions 1000] [--messages 20] [--redis-clients 100]

``in_process``: one process, the memory broker, ``--sessions`` live sessions of a chat feed
page (keyed ``<li>`` list of the last 50 messages, as /chat renders it), each attached with a
task draining its outbox like a connection's writer. One publish at a time; per message, the
time until *every* session's PATCHES frame is in its connection's outbox (target < 100 ms
for 1,000 sessions), reported as median and worst over ``--messages`` messages.

``redis``: a real redis-server and two ``hypercorn -k trio`` processes with
``VANGO_PUBSUB=redis://...``; ``--redis-clients`` protocol clients on /chat, half on each
process; one client posts; the time until every client has applied the message (socket to
socket, through Redis, both processes and the client's own decode), median and worst.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import trio
import trio.testing

from vango_actors import Component, Element, h, open_runtime
from vango_actors.protocol import VERSION, Hello
from vango_actors.pubsub import open_pubsub

TOPIC = "chat:bench"


class Feed(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.messages: list[dict[str, Any]] = []
        self.subscribe(TOPIC, self.on_message)

    def on_message(self, message: dict[str, Any]) -> None:
        self.messages = [*self.messages, message][-50:]

    def render(self) -> Element:
        return h.main(
            h.ul(
                [
                    h.li(h.strong(m["user"]), ": ", h.span(m["text"]), key=m["id"])
                    for m in self.messages
                ],
                id="messages",
            )
        )


async def _in_process(sessions: int, messages: int) -> dict[str, Any]:
    latencies: list[float] = []
    cpu: list[float] = []
    async with (
        open_pubsub("memory") as broker,
        open_runtime(outbox_size=64, max_sessions=sessions + 1) as rt,
        trio.open_nursery() as nursery,
    ):
        arrived = [0]
        done = trio.Event()

        async def drain(att: Any) -> None:
            async for frame in att.outbox:
                if frame[1] == 4:  # PATCHES
                    arrived[0] += 1
                    if arrived[0] == sessions:
                        done.set()

        for _ in range(sessions):
            created = await rt.create(Feed)
            sid = created.session_id
            att = await rt.attach(sid, Hello(VERSION, sid, "", 0, 0, "/"))
            nursery.start_soon(drain, att)
        await trio.testing.wait_all_tasks_blocked()
        for n in range(messages + 1):
            arrived[0], done = 0, trio.Event()
            start, start_cpu = time.perf_counter(), time.process_time()
            await broker.publish(TOPIC, {"id": f"m{n}", "user": "bench", "text": f"hello {n}"})
            await done.wait()
            if n:  # the first one warms caches
                latencies.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
        nursery.cancel_scope.cancel()
    return {
        "sessions": sessions,
        "messages": messages,
        "all_written_ms_median": round(statistics.median(latencies), 2),
        "all_written_ms_max": round(max(latencies), 2),
        "cpu_ms_median": round(statistics.median(cpu), 2),
        "target_ms": 100,
    }


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


def _has(client: Any, text: str) -> bool:
    return any(li.text_content.endswith(text) for li in client.document.select("#messages li"))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench fanout")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--redis-clients", type=int, default=100)
    parser.add_argument("--skip-redis", action="store_true")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"benchmark": "fanout"}
    result["in_process"] = trio.run(_in_process, args.sessions, args.messages)
    if not args.skip_redis:
        result["redis"] = trio.run(_redis, args.redis_clients, max(3, args.messages // 4))
    print(json.dumps(result, indent=2))
