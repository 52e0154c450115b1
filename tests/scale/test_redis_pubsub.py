"""The Redis broker against a real redis-server: two brokers stand for two processes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

from services.chat import ChatRoom
from services.presence import TOPIC, Presence
from tests.faultproxy import FaultProxy, open_fault_proxy
from tests.redis_server import RedisServer
from vango_actors import pubsub
from vango_actors.pubsub import PubSubUnavailable, RedisBroker, open_pubsub
from vango_actors.service import open_services


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


async def test_a_subscription_made_before_redis_pubsub_opened_hears_other_processes(
    redis: RedisServer,
) -> None:
    # an embedding program's task subscribed through pubsub.current() before the app opened
    # VANGO_PUBSUB=redis://...: it got a memory broker of its own and never heard a message
    with trio.fail_after(20):
        heard = pubsub.current().subscribe("room")
        async with (
            open_pubsub(RedisBroker(redis.url)) as a,
            open_pubsub(RedisBroker(redis.url)) as b,
        ):
            assert isinstance(a, RedisBroker) and isinstance(b, RedisBroker)
            await a.wait_connected()
            await b.wait_connected()
            await b.publish("room", "from another process")
            assert await heard.receive() == "from another process"
            assert a.status().subscriptions == 1 and b.status().subscriptions == 0


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
            await a.wait_connected()
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


async def test_a_process_whose_listener_is_not_subscribed_refuses_to_publish(
    redis: RedisServer,
) -> None:
    # Redis would take the message, but this process's own subscribers of the topic (the
    # sender's page) would never get it: refused, like a publish while Redis is down
    with trio.fail_after(20):
        async with open_pubsub(RedisBroker(redis.url)) as a:
            assert isinstance(a, RedisBroker)
            sub = a.subscribe("room")
            with pytest.raises(PubSubUnavailable, match="unavailable to this process's listener"):
                await a.publish("room", "too early")  # the listener has not subscribed yet
            with pytest.raises(PubSubUnavailable, match="the message was not sent"):
                await a.publish_and_keep("room", "too early", keep=5)
            await a.publish("elsewhere", "nobody here listens")  # no subscriber here misses it
            await a.wait_connected()
            await a.publish("room", "now")
            assert await sub.receive() == "now"
            assert await a.recent("room", 5) == []


async def test_chat_catches_up_on_what_was_sent_while_its_listener_was_down(
    redis: RedisServer,
) -> None:
    # Process A's link to Redis is cut (a proxy refuses it) while process B posts: after A's
    # listener is back, A's room loads what Redis kept and its open pages get the message
    with trio.fail_after(20):
        async with _behind_proxy(redis, ping_interval=0.5, max_backoff=0.2) as (proxy, a, b):
            async with open_services([ChatRoom], a):
                room = ChatRoom.instance()
                page = a.subscribe(room.topic)  # an open /chat page in process A
                proxy.refuse = True
                proxy.cut()
                while a.connected:
                    await trio.sleep(0.05)
                message = {"id": "m1", "user": "bob", "text": "sent meanwhile", "at": 1.0}
                await b.publish_and_keep(room.topic, message, keep=50)
                proxy.refuse = False
                assert await page.receive() == message  # sent on once merged
                assert room.history() == [message]


async def test_a_refused_auth_is_reported_by_its_reason_without_a_traceback_per_retry(
    redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    # a Redis that needs a password, a URL without one: the listener retries, and the error
    # (health's "error", the log) is Redis's NOAUTH, not the nursery's "ExceptionGroup: ..."
    with trio.fail_after(20):
        async with open_pubsub(RedisBroker(redis.url)) as admin:
            assert isinstance(admin, RedisBroker)
            await trio.to_thread.run_sync(admin.client.config_set, "requirepass", "pw")
        async with open_pubsub(RedisBroker(redis.url, max_backoff=0.1)) as broker:
            assert isinstance(broker, RedisBroker)
            while broker.status().error in (None, "not connected yet"):
                await trio.sleep(0.05)
            await trio.sleep(0.5)  # a few retries
            assert "NOAUTH" in (broker.status().error or ""), broker.status().error
            assert not broker.connected
        assert "pub/sub listener failed" not in caplog.text
        assert "ExceptionGroup" not in caplog.text


async def test_a_link_that_stops_answering_is_dropped_with_the_reason(
    redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with trio.fail_after(20):
        async with open_fault_proxy(redis.port) as proxy:
            url = f"redis://127.0.0.1:{proxy.port}"
            async with open_pubsub(RedisBroker(url, ping_interval=0.2, max_backoff=0.1)) as a:
                assert isinstance(a, RedisBroker)
                await a.wait_connected()
                proxy.stall = True  # connections stay open, nothing comes back
                while a.connected:
                    await trio.sleep(0.05)
                assert "did not answer PING" in (a.status().error or ""), a.status().error
                proxy.stall = False
                proxy.cut()
                await a.wait_connected()
        assert "pub/sub listener failed" not in caplog.text
        assert "ExceptionGroup" not in caplog.text


async def test_presence_joins_do_not_wait_for_a_redis_that_stopped_answering(
    redis: RedisServer,
) -> None:
    # Redis stalls (a long command, a paused server, a black-holed link not yet noticed by
    # the listener's PING): a page's join must not wait out the publish timeout (2 s), nor
    # queue behind the joins before it. The members still go out once Redis answers again.
    with trio.fail_after(20):
        async with _behind_proxy(redis) as (proxy, a, b):
            heard = b.subscribe(TOPIC)  # what another process hears
            async with open_services([Presence], a):
                presence = Presence.instance()
                proxy.stall = True
                with trio.fail_after(1):
                    async with trio.open_nursery() as nursery:
                        for n in range(3):
                            meta = {"name": f"user{n}"}
                            nursery.start_soon(presence.join, "/chat", f"m{n}", meta)
                assert [m["id"] for m in presence.members("/chat")] == ["m0", "m1", "m2"]
                proxy.stall = False
                while True:
                    message = await heard.receive()
                    if len(message["pages"].get("/chat", {})) == 3:
                        break


async def test_a_publish_redis_took_but_did_not_answer_is_maybe_sent_and_may_arrive(
    redis: RedisServer,
) -> None:
    # Redis stalls with the command on its way (here a proxy holds it): after the publish
    # timeout the caller must not be told the message was not sent, since it still arrives
    with trio.fail_after(20):
        async with _behind_proxy(redis) as (proxy, a, b):
            sub = b.subscribe("room")
            proxy.stall = True
            with pytest.raises(PubSubUnavailable, match="may still run") as raised:
                await a.publish("room", "late")
            assert raised.value.maybe_sent
            proxy.stall = False
            assert await sub.receive() == "late"
            proxy.refuse = True
            proxy.cut()
            await trio.to_thread.run_sync(redis.stop)
            with pytest.raises(PubSubUnavailable) as refused:
                await b.publish("room", "lost")
            assert not refused.value.maybe_sent


async def test_rediss_to_a_plain_redis_port_says_the_tls_handshake_failed(
    redis: RedisServer,
) -> None:
    # a plain Redis never answers the ClientHello: the listener must not wait forever
    url = f"rediss://127.0.0.1:{redis.port}"
    with trio.fail_after(10):
        async with open_pubsub(RedisBroker(url, publish_timeout=0.5, max_backoff=0.1)) as b:
            assert isinstance(b, RedisBroker)
            while b.status().error == "not connected yet":
                await trio.sleep(0.05)
            assert "TLS handshake" in (b.status().error or ""), b.status().error
            assert not b.connected


@asynccontextmanager
async def _behind_proxy(
    redis: RedisServer, **options: float
) -> AsyncIterator[tuple[FaultProxy, RedisBroker, RedisBroker]]:
    """Broker ``a`` reaches Redis through a fault proxy (``options`` for its RedisBroker),
    broker ``b`` directly (another process); both connected."""
    async with open_fault_proxy(redis.port) as proxy:
        url = f"redis://127.0.0.1:{proxy.port}"
        async with (
            open_pubsub(RedisBroker(url, **options)) as a,  # type: ignore[arg-type]
            open_pubsub(RedisBroker(redis.url)) as b,
        ):
            assert isinstance(a, RedisBroker) and isinstance(b, RedisBroker)
            await a.wait_connected()
            await b.wait_connected()
            yield proxy, a, b
