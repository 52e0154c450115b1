"""Mailbox: the bounded FIFO of sessions and connections keeps trio memory channel semantics."""

from __future__ import annotations

import tracemalloc

import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from vango_actors.mailbox import Mailbox


async def test_values_come_out_in_order_and_a_full_mailbox_would_block() -> None:
    box = Mailbox[int](2)
    box.send_nowait(1)
    box.send_nowait(2)
    with pytest.raises(trio.WouldBlock):
        box.send_nowait(3)
    assert box.statistics().current_buffer_used == len(box) == 2
    assert list(box.values()) == [1, 2] and list(Mailbox[int](1).values()) == []
    assert [box.receive_nowait(), await box.receive()] == [1, 2]
    with pytest.raises(trio.WouldBlock):
        box.receive_nowait()


async def test_a_waiting_receiver_gets_the_value_directly() -> None:
    box = Mailbox[str](1)
    got: list[str] = []

    async def receive() -> None:
        got.append(await box.receive())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(receive)
        await trio.testing.wait_all_tasks_blocked()
        assert box.statistics().tasks_waiting_receive == 1
        box.send_nowait("a")
        box.send_nowait("b")  # the first went to the receiver: room for this one
    assert got == ["a"] and box.receive_nowait() == "b"


async def test_blocked_senders_get_in_in_order_and_a_cancelled_one_sends_nothing() -> None:
    box = Mailbox[int](1)
    box.send_nowait(0)
    scopes = {}

    async def send(n: int) -> None:
        with trio.CancelScope() as scopes[n]:
            await box.send(n)

    async with trio.open_nursery() as nursery:
        for n in (1, 2, 3):
            nursery.start_soon(send, n)
            await trio.testing.wait_all_tasks_blocked()
        assert box.statistics().tasks_waiting_send == 3
        scopes[2].cancel()
        await trio.testing.wait_all_tasks_blocked()
        got = [await box.receive() for _ in range(3)]
    assert got == [0, 1, 3] and len(box) == 0
    assert scopes[2].cancelled_caught and box.statistics().tasks_waiting_send == 0


async def test_a_cancelled_receive_takes_nothing() -> None:
    box = Mailbox[int](4)
    with trio.move_on_after(0.01):
        await box.receive()
    box.send_nowait(7)  # nobody waits now: it is queued
    assert box.receive_nowait() == 7


async def test_close_lets_the_receiver_drain_then_end() -> None:
    box = Mailbox[int](4)
    box.send_nowait(1)
    box.send_nowait(2)
    box.close()
    box.close()  # idempotent
    with pytest.raises(trio.ClosedResourceError, match="the mailbox is closed"):
        box.send_nowait(3)
    assert [value async for value in box] == [1, 2]
    with pytest.raises(trio.EndOfChannel):
        box.receive_nowait()


async def test_close_wakes_a_waiting_receiver_and_waiting_senders() -> None:
    empty, full = Mailbox[int](1), Mailbox[int](1)
    full.send_nowait(0)
    outcomes: list[str] = []

    async def receive() -> None:
        with pytest.raises(trio.EndOfChannel):
            await empty.receive()
        outcomes.append("receiver ended")

    async def send() -> None:
        with pytest.raises(trio.ClosedResourceError, match="closed while this send waited"):
            await full.send(1)
        outcomes.append("sender refused")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(receive)
        nursery.start_soon(send)
        await trio.testing.wait_all_tasks_blocked()
        empty.close()
        full.close()
    assert sorted(outcomes) == ["receiver ended", "sender refused"]
    assert full.receive_nowait() == 0  # what was queued is still drained


async def test_one_receiver_at_a_time() -> None:
    box = Mailbox[int](1)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(box.receive)
        await trio.testing.wait_all_tasks_blocked()
        with pytest.raises(trio.BusyResourceError, match="another task is already waiting"):
            await box.receive()
        box.send_nowait(1)


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="expected a size >= 1"):
        Mailbox[int](0)


_OPS = st.lists(st.one_of(st.integers(0, 99), st.none()), max_size=40)


@settings(max_examples=60, deadline=None)
@given(ops=_OPS, size=st.integers(1, 4))
def test_send_nowait_and_receive_nowait_match_a_trio_memory_channel(
    ops: list[int | None], size: int
) -> None:
    """An int is a send_nowait, None a receive_nowait: same values, same WouldBlocks."""
    box = Mailbox[int](size)
    send, receive = trio.open_memory_channel[int](size)

    def outcome(fn: object, *args: int) -> object:
        try:
            return fn(*args)  # type: ignore[operator]
        except trio.WouldBlock:
            return "would block"

    for op in ops:
        if op is None:
            assert outcome(box.receive_nowait) == outcome(receive.receive_nowait)
        else:
            assert outcome(box.send_nowait, op) == outcome(send.send_nowait, op)
        assert len(box) == send.statistics().current_buffer_used


def test_an_empty_mailbox_is_a_fraction_of_a_memory_channel_pair() -> None:
    """Every idle session keeps two (its mailbox and its connection's outbox)."""

    def traced(make: object) -> int:
        tracemalloc.start()
        try:
            kept = [make() for _ in range(200)]  # type: ignore[operator]
            size = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        del kept
        return size // 200

    mailbox = traced(lambda: Mailbox[bytes](32))
    channel = traced(lambda: trio.open_memory_channel[bytes](32))
    assert mailbox <= 150 and channel > 5 * mailbox, (mailbox, channel)


async def test_notify_is_called_when_a_value_is_queued_or_it_closes_with_no_receiver() -> None:
    box = Mailbox[int](2)
    calls: list[int] = []
    box.notify = lambda: calls.append(len(box))
    box.send_nowait(1)
    box.send_nowait(2)
    with pytest.raises(trio.WouldBlock):
        box.send_nowait(3)  # not queued: no call
    assert box.receive_nowait() == 1
    box.close()
    assert calls == [1, 2, 1]
    async with trio.open_nursery() as nursery:  # a waiting receiver gets values directly
        other = Mailbox[int](1)
        other.notify = lambda: calls.append(-1)
        nursery.start_soon(other.receive)
        await trio.testing.wait_all_tasks_blocked()
        other.send_nowait(9)
    assert calls == [1, 2, 1]


async def test_send_first_jumps_the_queue_even_when_full_and_wakes_the_receiver() -> None:
    box = Mailbox[int](2)
    box.send_first(0)  # empty: it is the queue
    box.send_nowait(1)
    box.send_first(-1)  # full: it goes in all the same, ahead of the rest
    assert list(box.values()) == [-1, 0, 1]
    assert [box.receive_nowait() for _ in range(3)] == [-1, 0, 1]
    got: list[int] = []

    async def receive() -> None:
        got.append(await box.receive())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(receive)
        await trio.testing.wait_all_tasks_blocked()
        box.send_first(7)
    assert got == [7] and len(box) == 0
    box.close()
    with pytest.raises(trio.ClosedResourceError):
        box.send_first(8)
