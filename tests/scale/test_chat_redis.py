"""`/chat` across two hypercorn processes sharing a real redis-server.

One module-scoped setup (Redis + two servers, ~2 s to start); the tests run in file order
and the last one kills a server.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import attrs
import pytest
import trio

from tests.liveclient import open_page
from tests.redis_server import RedisServer, redis_server
from tests.servers import Server, spawn_hypercorn

from .chatclient import me, messages, online, say, wait_message, wait_pubsub_ok

PRESENCE_TTL = 3.0  # VANGO_PRESENCE_TTL for these servers (default 10 s)


@attrs.frozen
class Cluster:
    redis: RedisServer
    one: Server
    two: Server
    env: dict[str, str]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with redis_server() as redis:
        env = {
            "VANGO_SECRET_KEY": "scale-secret",
            "VANGO_PUBSUB": redis.url,
            "VANGO_PRESENCE_TTL": str(PRESENCE_TTL),
        }
        one, two = spawn_hypercorn(env=env), spawn_hypercorn(env=env)
        try:
            one.wait_running(30)
            two.wait_running(30)
            yield Cluster(redis, one, two, env)
        finally:
            one.stop()
            two.stop()


async def test_messages_and_presence_cross_processes(cluster: Cluster) -> None:
    with trio.fail_after(20):
        await wait_pubsub_ok(cluster.one.url)
        await wait_pubsub_ok(cluster.two.url)
        async with (
            open_page(cluster.one.url, "/chat") as a,
            open_page(cluster.two.url, "/chat") as b,
        ):
            both = {me(a), me(b)}
            await a.wait_for(lambda: online(a) >= both)
            await b.wait_for(lambda: online(b) >= both)
            await say(a, "hello from one")
            await wait_message(b, "hello from one")
            await say(b, "hello from two")
            await wait_message(a, "hello from two")


async def test_chat_resumes_after_redis_restarts(cluster: Cluster) -> None:
    with trio.fail_after(30):
        async with (
            open_page(cluster.one.url, "/chat") as a,
            open_page(cluster.two.url, "/chat") as b,
        ):
            await trio.to_thread.run_sync(cluster.redis.stop)
            await say(a, "while redis is down")
            assert "unavailable" in a.text("#chat-error")
            health = await _health_when_down(cluster.one.url)
            assert health["status"] == "degraded"

            await trio.to_thread.run_sync(cluster.redis.start)
            await wait_pubsub_ok(cluster.one.url)
            await wait_pubsub_ok(cluster.two.url)
            await say(a, "redis is back")
            assert a.text("#chat-error") == ""
            await wait_message(b, "redis is back")
            both = {me(a), me(b)}
            await a.wait_for(lambda: online(a) >= both)  # heartbeats flow again


async def test_a_worker_started_later_shows_the_history_kept_in_redis(cluster: Cluster) -> None:
    with trio.fail_after(40):
        async with open_page(cluster.one.url, "/chat") as a:
            await say(a, "before three started")
            assert a.text("#chat-error") == ""
        three = spawn_hypercorn(env=cluster.env)
        try:
            await trio.to_thread.run_sync(three.wait_running, 30)
            async with open_page(three.url, "/chat") as c:  # its first page: history at mount
                assert messages(c)[-1].endswith(": before three started")
                assert len(messages(c)) == len(set(messages(c)))
        finally:
            three.stop()


async def _health_when_down(url: str) -> dict[str, object]:
    from .chatclient import health

    while True:
        body = await health(url)
        pubsub = body.get("pubsub")
        if isinstance(pubsub, dict) and pubsub.get("status") == "down":
            return body
        await trio.sleep(0.05)


async def test_a_killed_worker_users_leave_online_within_the_ttl(cluster: Cluster) -> None:
    with trio.fail_after(30):
        async with open_page(cluster.one.url, "/chat") as a:
            async with open_page(cluster.two.url, "/chat") as b:
                gone = me(b)
                await a.wait_for(lambda: gone in online(a))
                os.killpg(cluster.two.process.pid, signal.SIGKILL)  # no goodbye
                killed_at = trio.current_time()
                await a.wait_for(lambda: gone not in online(a))
                waited = trio.current_time() - killed_at
                # the documented bound: ttl, plus one heartbeat for the prune to run
                assert waited <= PRESENCE_TTL * 4 / 3 + 2.0, waited
                assert me(a) in online(a)
