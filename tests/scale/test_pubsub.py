"""Pub/sub in one process: the memory broker, component subscriptions, the Service base."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pytest
import trio
import trio.testing

from tests.runtime.harness import Browser
from vango_actors import Component, Element, RestartPolicy, h, open_runtime, pubsub
from vango_actors.pubsub import MemoryBroker, open_pubsub
from vango_actors.service import Service, ServiceUnavailable, open_services


async def test_memory_publish_reaches_every_subscriber_of_the_topic_only() -> None:
    broker = MemoryBroker()
    a, b, other = broker.subscribe("t"), broker.subscribe("t"), broker.subscribe("u")
    await broker.publish("t", {"n": 1})
    assert await a.receive() == {"n": 1}
    assert await b.receive() == {"n": 1}
    with pytest.raises(trio.WouldBlock):
        other._receive.receive_nowait()
    a.close()
    await broker.publish("t", [2])
    assert await b.receive() == [2]
    assert broker.status().as_json() | {"subscriptions": 0} == {
        "backend": "memory", "status": "ok", "error": None, "published": 2,
        "delivered": 3, "dropped": 0, "reconnects": 0, "subscriptions": 0,
    }  # fmt: skip


async def test_each_subscriber_gets_its_own_copy() -> None:
    broker = MemoryBroker()
    a, b = broker.subscribe("t"), broker.subscribe("t")
    await broker.publish("t", {"items": [1]})
    first = await a.receive()
    first["items"].append(2)
    assert await b.receive() == {"items": [1]}


async def test_a_full_subscription_drops_and_counts_instead_of_blocking() -> None:
    broker = MemoryBroker()
    sub = broker.subscribe("t", buffer=2)
    for n in range(5):
        await broker.publish("t", n)
    assert (sub.dropped, broker.status().dropped) == (3, 3)
    assert [await sub.receive(), await sub.receive()] == [0, 1]


async def test_unserialisable_messages_and_bad_topics_are_refused_with_the_reason() -> None:
    broker = MemoryBroker()
    with pytest.raises(ValueError, match=r"publish\('t'\): expected a msgpack-serialisable"):
        await broker.publish("t", object())
    with pytest.raises(ValueError, match="expected a non-empty str topic, got ''"):
        await broker.publish("", 1)
    with pytest.raises(ValueError, match="expected a non-empty str topic, got 3"):
        broker.subscribe(3)  # type: ignore[arg-type]


def test_make_broker_refuses_unknown_backends() -> None:
    with pytest.raises(ValueError, match="expected 'memory' or a redis:// URL, got 'kafka://x'"):
        pubsub.make_broker("kafka://x")


# ------------------------------------------------------------------------------ components


class Listener(Component):
    unmounted: ClassVar[int] = 0

    def mount(self, props: Mapping[str, Any]) -> None:
        self.got: list[Any] = []
        self.subscribe("news", self.on_news)

    def on_news(self, message: Any) -> None:
        if message == "boom":
            raise RuntimeError("bad news")
        self.got.append(message)

    def stop(self) -> None:
        self.unsubscribe("news")

    def render(self) -> Element:
        return h.div(
            h.span(", ".join(map(str, self.got)), id="got"),
            h.button("stop", id="stop", on_click=self.stop),
        )


async def test_component_gets_messages_through_its_mailbox_and_unsubscribes() -> None:
    async with open_pubsub() as broker, open_runtime() as rt:
        browser = await Browser.open(rt, Listener)
        await browser.settle()
        await broker.publish("news", 1)
        await broker.publish("news", "two")
        await browser.settle()
        assert browser.doc.select("#got")[0].text_content == "1, two"
        assert broker.status().subscriptions == 1
        await browser.click("#stop")  # unsubscribes from inside a handler
        await browser.settle()
        assert broker.status().subscriptions == 0
        await broker.publish("news", 3)
        await browser.settle()
        assert browser.doc.select("#got")[0].text_content == "1, two"


async def test_a_crashing_subscriber_restarts_resubscribed_and_ending_unsubscribes() -> None:
    async with open_pubsub() as broker:
        async with open_runtime() as rt:
            browser = await Browser.open(rt, Listener)
            await broker.publish("news", "boom")
            await browser.settle()
            assert broker.status().subscriptions == 1  # the old one is gone, the new one is on
            await broker.publish("news", 5)
            await browser.settle()
            assert browser.doc.select("#got")[0].text_content == "5"
        assert broker.status().subscriptions == 0  # the session ended with the runtime


async def test_a_task_that_took_the_broker_before_pubsub_opened_still_hears_and_is_heard() -> None:
    # An embedding program starts its own tasks next to hypercorn's serve(): one that calls
    # pubsub.current() before the app's lifespan opened pub/sub got a broker of its own, so
    # its subscription never heard a page and what it published never reached one (silently)
    early = pubsub.current()
    heard = early.subscribe("chat")
    async with open_pubsub() as broker, open_runtime() as rt:
        browser = await Browser.open(rt, Listener)
        await browser.settle()
        await early.publish("news", "from a task")
        await browser.settle()
        assert browser.doc.select("#got")[0].text_content == "from a task"
        await broker.publish("chat", "from a page")
        with trio.fail_after(1):
            assert await heard.receive() == "from a page"


# ------------------------------------------------------------------------------ services


class Counter(Service):
    restart_policy: ClassVar[RestartPolicy] = RestartPolicy(max_restarts=2, within=10.0)

    async def init(self) -> None:
        self.n = 0

    def add(self, k: int) -> int:
        if k < 0:
            raise ValueError(f"expected k >= 0, got {k}")
        self.n += k
        return self.n


class StrictCounter(Counter):
    restart_on_call_error = True


async def test_a_calls_error_is_the_callers_and_the_service_keeps_its_state() -> None:
    # a bad input from a page (an empty poll option, say) must not reset a service every
    # session shares, nor, repeated, fail it for good
    async with open_services([Counter]) as group:
        counter = Counter.instance()
        assert [await counter.call(counter.add, 2), await counter.call(counter.add, 3)] == [2, 5]
        for _ in range(10):
            with pytest.raises(ValueError, match="expected k >= 0, got -1"):
                await counter.call(counter.add, -1)
        assert await counter.call(counter.add, 1) == 6
        assert group.healthy
        assert counter.statistics().as_json() == {
            "name": "Counter", "state": "running", "restarts": 0, "calls": 13, "mailbox": 0,
        }  # fmt: skip


async def test_calls_run_in_order_and_crashes_restart_it_until_the_budget() -> None:
    async with open_services([StrictCounter]) as group:
        counter = StrictCounter.instance()
        assert [await counter.call(counter.add, 2), await counter.call(counter.add, 3)] == [2, 5]
        for _ in range(2):
            with pytest.raises(ValueError, match="expected k >= 0, got -1"):
                await counter.call(counter.add, -1)
            await trio.testing.wait_all_tasks_blocked()
            assert counter.state == "running" and counter.n == 0  # restarted: fresh state
        with pytest.raises(ValueError):
            await counter.call(counter.add, -1)  # the 3rd crash within 10 s: failed for good
        await trio.testing.wait_all_tasks_blocked()
        assert not group.healthy
        with pytest.raises(ServiceUnavailable, match=r"StrictCounter is unavailable \(failed\)"):
            await counter.call(counter.add, 1)
        assert counter.statistics().as_json() == {
            "name": "StrictCounter", "state": "failed", "restarts": 2, "calls": 5, "mailbox": 0,
        }  # fmt: skip


class Nested(Service):
    async def init(self) -> None:
        self.n = 0

    async def add_twice(self) -> int:
        await self.call(self.add)  # waits for the mailbox this call is blocking
        return await self.call(self.add)

    def add(self) -> int:
        self.n += 1
        return self.n


async def test_a_service_calling_itself_from_a_call_is_told_instead_of_waiting_for_ever() -> None:
    # call() from the service's own task waits for a call that can only run after this one:
    # the service and every page calling it hung silently
    with trio.fail_after(5):
        async with open_services([Nested]) as group:
            nested = Nested.instance()
            with pytest.raises(RuntimeError, match=r"Nested.call\(\) from inside Nested's own"):
                await nested.call(nested.add_twice)
            assert await nested.call(nested.add) == 1  # still serving
            assert group.healthy


async def test_instance_of_a_service_that_is_not_running_says_how_to_start_it() -> None:
    with pytest.raises(ServiceUnavailable, match=r"Counter is not running: list it in create_app"):
        Counter.instance()


async def test_a_full_mailbox_keeps_messages_in_order_up_to_the_buffer_then_drops() -> None:
    """Delivery is a send_nowait into the session mailbox; when it is full, messages wait in
    order in the subscription's backlog (DEFAULT_BUFFER), and only beyond it are dropped."""
    sent = 2 + pubsub.DEFAULT_BUFFER + 5
    async with open_pubsub() as broker, open_runtime(mailbox_size=2, outbox_size=1024) as rt:
        browser = await Browser.open(rt, Listener)
        await browser.settle()
        taken = [broker.publish_local("news", n) for n in range(sent)]  # no checkpoint
        kept = sum(taken)  # the mailbox (2, +1 handed to the waiting actor), then the backlog
        assert kept == 3 + pubsub.DEFAULT_BUFFER
        assert taken == [1] * kept + [0] * (sent - kept)
        while await browser.settle():  # (renders past half the outbox wait for the reads)
            pass
        got = browser.doc.select("#got")[0].text_content.split(", ")
        assert got == [str(n) for n in range(kept)]
        assert broker.status().dropped == sent - kept
        await broker.publish("news", "after")  # the backlog is empty again: direct delivery
        await browser.settle()
        assert browser.doc.select("#got")[0].text_content.endswith(", after")


async def test_memory_broker_keeps_the_last_messages_of_a_topic() -> None:
    broker = MemoryBroker()
    sub = broker.subscribe("room")
    for n in range(4):
        await broker.publish_and_keep("room", {"n": n}, keep=2)
    assert [await sub.receive() for _ in range(4)] == [{"n": n} for n in range(4)]
    assert await broker.recent("room", 5) == [{"n": 2}, {"n": 3}]
    assert await broker.recent("room", 1) == [{"n": 3}]


async def test_an_undecodable_message_is_dropped_for_components_and_others_still_arrive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with open_pubsub() as broker, open_runtime() as rt:
        browser = await Browser.open(rt, Listener)
        await browser.settle()
        assert broker.hub.deliver("news", b"\xc1") == 0  # 0xc1: never valid msgpack
        await broker.publish("news", "fine")
        await browser.settle()
        assert browser.doc.select("#got")[0].text_content == "fine"
        assert broker.status().dropped == 1
        assert "dropped an undecodable message on 'news'" in caplog.text
