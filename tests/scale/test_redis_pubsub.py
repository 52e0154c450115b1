"""The Redis broker against a real redis-server: two brokers stand for two processes."""

from __future__ import annotations

import pytest
import trio

from tests.redis_server import RedisServer
from vango_actors.pubsub import PubSubUnavailable, RedisBroker, open_pubsub


async def test_messages_cross_brokers_and_survive_a_redis_restart(redis: RedisServer) -> None:
    with trio.fail_after(20):
        async with (
            open_pubsub(RedisBroker(redis.url, ping_interval=0.5, max_backoff=0.2)) as a,
            open_pubsub(RedisBroker(redis.url, ping_interval=0.5, max_backoff=0.2)) as b,
        ):
            assert isinstance(a, RedisBroker) and isinstance(b, RedisBroker)
            await a.wait_connected()
            await b.wait_connected()
            sub = b.subscribe("room")
            await a.publish("room", {"text": "hi"})
            assert await sub.receive() == {"text": "hi"}

            await trio.to_thread.run_sync(redis.stop)
            with pytest.raises(PubSubUnavailable, match=r"publish\('room'\) failed: Redis at"):
                await a.publish("room", "lost")
            while b.connected:  # the listener notices the closed link
                await trio.sleep(0.05)
            assert b.status().as_json()["status"] == "down"
            assert b.status().error

            await trio.to_thread.run_sync(redis.start)
            await a.wait_connected()
            await b.wait_connected()
            await a.publish("room", "back")
            assert await sub.receive() == "back"
            assert b.status().reconnects == 1 and b.status().connected


async def test_unreachable_redis_at_start_is_reported_and_publish_fails_fast() -> None:
    from tests.redis_server import free_port

    url = f"redis://127.0.0.1:{free_port()}"
    with trio.fail_after(10):
        async with open_pubsub(url) as broker:
            await trio.sleep(0.3)
            status = broker.status().as_json()
            assert (status["backend"], status["status"]) == ("redis", "down")
            with pytest.raises(PubSubUnavailable, match="is unavailable"):
                await broker.publish("t", 1)


async def test_kept_messages_are_shared_capped_and_read_oldest_first(redis: RedisServer) -> None:
    with trio.fail_after(20):
        async with (
            open_pubsub(RedisBroker(redis.url)) as a,
            open_pubsub(RedisBroker(redis.url)) as b,
        ):
            assert isinstance(a, RedisBroker) and isinstance(b, RedisBroker)
            await b.wait_connected()
            sub = b.subscribe("room")
            for n in range(5):
                await a.publish_and_keep("room", {"n": n}, keep=3)
            assert [await sub.receive() for _ in range(5)] == [{"n": n} for n in range(5)]
            assert await b.recent("room", 10) == [{"n": 2}, {"n": 3}, {"n": 4}]  # capped at 3
            assert await b.recent("room", 2) == [{"n": 3}, {"n": 4}]
            assert await b.recent("other", 5) == []
            with pytest.raises(ValueError, match=r"recent\(count=...\): expected a count >= 1"):
                await b.recent("room", 0)
            await trio.to_thread.run_sync(redis.stop)
            with pytest.raises(PubSubUnavailable, match=r"recent\('room'\) failed: Redis at"):
                await b.recent("room", 3)
