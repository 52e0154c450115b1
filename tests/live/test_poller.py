"""The fast door's shared edge-triggered epoll: no wake lost, none spent on the wrong task."""

from __future__ import annotations

import contextlib
import gc
import os
import random
import socket
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial

import pytest
import trio
import trio.testing

from vango_actors.fastdoor import OP_BINARY, FastTransport
from vango_actors.poller import Alarm, ReadPoller, available

from .test_fastdoor import client_frame

pytestmark = pytest.mark.skipif(not available(), reason="the poller needs Linux epoll")


def _pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    a.setblocking(False)
    return a, b


async def _parked(nursery: trio.Nursery, fn: Callable[[], Awaitable[object]]) -> None:
    """Start ``fn`` and return once it (and everything else) waits."""
    nursery.start_soon(fn)
    await trio.testing.wait_all_tasks_blocked()


@asynccontextmanager
async def running_poller() -> AsyncIterator[ReadPoller]:
    poller = ReadPoller()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(poller.run)
        await trio.testing.wait_all_tasks_blocked()
        try:
            yield poller
        finally:
            poller.stop()


async def test_fifty_transports_receive_every_frame_in_order_through_one_poller() -> None:
    pairs = [_pair() for _ in range(50)]
    rng = random.Random(3)
    sent = [[f"{i}:{j}".encode() * (1 + j % 5) for j in range(60)] for i in range(len(pairs))]
    got: list[list[bytes]] = [[] for _ in pairs]
    with trio.fail_after(20):
        async with running_poller() as poller:
            transports = [FastTransport(a, 1 << 20, poller=poller) for a, _ in pairs]
            for a, _ in pairs:
                poller.register(a)

            async def read(i: int) -> None:
                while len(got[i]) < len(sent[i]):
                    got[i].append(await transports[i].receive())

            async def write() -> None:
                pending = [list(messages) for messages in sent]
                while any(pending):
                    i = rng.randrange(len(pairs))
                    burst, pending[i] = pending[i][:3], pending[i][3:]
                    if burst:
                        pairs[i][1].sendall(b"".join(client_frame(OP_BINARY, m) for m in burst))
                    if rng.random() < 0.3:
                        await trio.sleep(0)  # let readers wait, so some edges find a waiter

            async with trio.open_nursery() as nursery:
                for i in range(len(pairs)):
                    nursery.start_soon(read, i)
                nursery.start_soon(write)
            assert len(poller) == len(pairs)
            for a, _ in pairs:
                poller.forget(a)
            assert len(poller) == 0
    assert got == sent
    for a, b in pairs:
        a.close()
        b.close()


async def test_readers_wake_in_the_order_their_bytes_came_a_few_per_pass() -> None:
    """Fair latency: trio runs a pass's tasks in FIFO or LIFO order (a coin toss), so the
    poller wakes the oldest edges first, at most 8 per pass."""
    pairs = [_pair() for _ in range(24)]
    order = list(range(len(pairs)))
    random.Random(5).shuffle(order)
    woke: list[int] = []
    with trio.fail_after(5):
        async with running_poller() as poller:
            for a, _ in pairs:
                poller.register(a)

            async def wait(i: int) -> None:
                await poller.wait_readable(pairs[i][0])
                woke.append(i)

            async with trio.open_nursery() as nursery:
                for i in range(len(pairs)):
                    nursery.start_soon(wait, i)
                await trio.testing.wait_all_tasks_blocked()
                for i in order:  # all before the poller looks: epoll keeps this order
                    pairs[i][1].send(b"!")
    chunks = [order[i : i + 8] for i in range(0, len(order), 8)]
    assert [sorted(woke[i : i + 8]) for i in range(0, len(woke), 8)] == [sorted(c) for c in chunks]
    for a, b in pairs:
        a.close()
        b.close()


async def test_an_edge_nobody_waited_for_is_kept_for_the_next_wait() -> None:
    a, b = _pair()
    with a, b, trio.fail_after(5):
        async with running_poller() as poller:
            poller.register(a)
            b.send(b"x")
            await trio.testing.wait_all_tasks_blocked()  # the poller saw the edge, no waiter
            await poller.wait_readable(a)  # returns at once
            assert a.recv(10) == b"x"


async def test_bytes_waiting_before_register_count_as_readable() -> None:
    a, b = _pair()
    with a, b, trio.fail_after(5):
        b.send(b"early")
        async with running_poller() as poller:
            poller.register(a)
            await poller.wait_readable(a)
            assert a.recv(10) == b"early"


async def test_a_cancelled_wait_loses_no_later_wake() -> None:
    a, b = _pair()
    with a, b, trio.fail_after(5):
        async with running_poller() as poller:
            poller.register(a)
            scope = trio.CancelScope()

            async def cancelled_wait() -> None:
                with scope:
                    await poller.wait_readable(a)

            async with trio.open_nursery() as nursery:
                await _parked(nursery, cancelled_wait)
                scope.cancel()
            assert scope.cancelled_caught
            async with trio.open_nursery() as nursery:
                await _parked(nursery, partial(poller.wait_readable, a))
                b.send(b"y")  # wakes the second waiter, not the cancelled one
            assert a.recv(10) == b"y"


async def test_one_waiter_per_socket() -> None:
    a, b = _pair()
    with a, b, trio.fail_after(5):
        async with running_poller() as poller:
            poller.register(a)
            async with trio.open_nursery() as nursery:
                await _parked(nursery, partial(poller.wait_readable, a))
                with pytest.raises(trio.BusyResourceError):
                    await poller.wait_readable(a)
                b.send(b"z")


async def test_forget_wakes_the_waiter_with_closed_resource_error() -> None:
    a, b = _pair()
    with a, b, trio.fail_after(5):
        async with running_poller() as poller:
            poller.register(a)
            errors: list[BaseException] = []

            async def wait() -> None:
                try:
                    await poller.wait_readable(a)
                except trio.ClosedResourceError as exc:
                    errors.append(exc)

            async with trio.open_nursery() as nursery:
                await _parked(nursery, wait)
                poller.forget(a)
            assert len(errors) == 1
            poller.forget(a)  # twice is harmless


async def test_after_stop_waiters_wake_and_later_waits_go_through_trio() -> None:
    a, b = _pair()
    with a, b, trio.fail_after(5):
        poller = ReadPoller()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(poller.run)
            await trio.testing.wait_all_tasks_blocked()
            poller.register(a)
            woke = trio.Event()

            async def wait() -> None:
                await poller.wait_readable(a)
                woke.set()

            nursery.start_soon(wait)
            await trio.testing.wait_all_tasks_blocked()
            poller.stop()
            await woke.wait()  # readiness unknown once stopped: the reader looks
        b.send(b"late")
        await poller.wait_readable(a)  # trio's own wait now
        assert a.recv(10) == b"late"
        poller.forget(a)


async def test_a_reused_fd_number_registers_again() -> None:
    async with running_poller() as poller:
        a, b = _pair()
        c, d = _pair()
        poller.register(a)
        fd = a.fileno()
        a.close()  # closed without forget(): the kernel drops it from the epoll
        b.close()
        os.dup2(c.fileno(), fd)  # a new socket under the old fd number
        c.close()
        reused = socket.socket(fileno=fd)
        with reused, d, trio.fail_after(5):
            poller.register(reused)
            d.send(b"new")
            await poller.wait_readable(reused)
            assert reused.recv(10) == b"new"


async def test_alarms_wake_at_their_deadlines_in_order(autojump_clock: trio.abc.Clock) -> None:
    """The heartbeat's wait: many alarms on one poller, each woken at its own deadline (trio's
    clock; the poller holds one scope for the first deadline, not one per alarm)."""
    woke: list[tuple[int, float]] = []
    async with running_poller() as poller:
        start = trio.current_time()
        deadlines = [start + d for d in (30.0, 5.0, 12.5, 5.0, 60.0, 0.5)]

        async def sleeper(i: int) -> None:
            await Alarm(poller).sleep_until(deadlines[i])
            woke.append((i, trio.current_time()))

        async with trio.open_nursery() as nursery:
            for i in range(len(deadlines)):
                nursery.start_soon(sleeper, i)
        assert [deadlines[i] for i, _ in woke] == sorted(deadlines)  # (two share 5.0)
        for i, at in woke:
            assert deadlines[i] <= at < deadlines[i] + 0.01


async def test_a_rung_alarm_wakes_now_and_can_wait_again(autojump_clock: trio.abc.Clock) -> None:
    async with running_poller() as poller:
        alarm = Alarm(poller)
        start = trio.current_time()

        async def sleep(deadline: float) -> None:  # (sleep_until is awaited where it is called)
            await alarm.sleep_until(deadline)

        async with trio.open_nursery() as nursery:
            await _parked(nursery, partial(sleep, start + 100))
            alarm.ring()
        assert trio.current_time() - start < 0.01  # rung: not the deadline
        alarm.ring()  # nobody waits: nothing happens
        await alarm.sleep_until(start + 3)  # its first deadline's stale entry is ignored
        assert start + 3 <= trio.current_time() < start + 3.01
        with trio.move_on_after(1):
            await alarm.sleep_until(start + 1000)
        assert alarm.task is None  # a cancelled wait leaves nobody behind


async def test_alarms_work_without_a_running_poller(autojump_clock: trio.abc.Clock) -> None:
    """After the poller stops, waiting alarms wake (early) and later ones keep their own
    cancel scope: deadlines and rings still work."""
    poller = ReadPoller()
    alarm = Alarm(poller)
    start = trio.current_time()

    async def sleep(deadline: float) -> None:
        await alarm.sleep_until(deadline)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(poller.run)
        await trio.testing.wait_all_tasks_blocked()
        await _parked(nursery, partial(sleep, start + 100))
        poller.stop()
    assert trio.current_time() - start < 0.01
    await alarm.sleep_until(start + 2)
    assert start + 2 <= trio.current_time() < start + 2.01
    async with trio.open_nursery() as nursery:
        await _parked(nursery, partial(sleep, start + 100))
        alarm.ring()
    assert trio.current_time() - start < 2.01


class _Owner:
    """A socket's owner that reads readiness edges itself in the poller's task (the fast
    door's transport): ``answers`` say, edge by edge, whether it took the edge (True), left
    it to the waiting task (False), or raised."""

    def __init__(self, sock: socket.socket, answers: list[bool | Exception]) -> None:
        self.sock, self.answers = sock, answers
        self.read: list[bytes] = []
        self.tasks: list[str] = []

    def on_ready(self) -> bool:
        self.tasks.append(trio.lowlevel.current_task().name)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if answer:
            self.read.append(self.sock.recv(100))
        return answer


async def test_an_owner_may_take_edges_while_its_task_waits_on() -> None:
    a, b = _pair()
    with a, b, trio.fail_after(5):
        async with running_poller() as poller:
            owner = _Owner(a, [True, True, False])
            poller.register(a, owner)
            woke = trio.Event()

            async def wait() -> None:
                await poller.wait_readable(a)
                woke.set()

            async with trio.open_nursery() as nursery:
                await _parked(nursery, wait)
                for data in (b"one", b"two"):
                    b.send(data)
                    await trio.testing.wait_all_tasks_blocked()
                    assert not woke.is_set()  # taken in the poller: the task waits on
                b.send(b"three")
                await woke.wait()  # the owner left this edge to the task
            assert owner.read == [b"one", b"two"]
            assert a.recv(100) == b"three"
            assert all("ReadPoller.run" in name for name in owner.tasks)


async def test_an_idle_poller_keeps_nothing_of_the_last_socket_it_woke() -> None:
    # the owner is a connection (with its session): it must go with it, not stay in the
    # poller task's frame until another socket wakes
    a, b = _pair()
    with a, b, trio.fail_after(5):
        async with running_poller() as poller:
            owner = _Owner(a, [False])
            poller.register(a, owner)
            async with trio.open_nursery() as nursery:
                await _parked(nursery, partial(poller.wait_readable, a))
                b.send(b"x")  # the owner leaves the edge to the task, which returns
            poller.forget(a)
            kept = weakref.ref(owner)
            del owner
            await trio.testing.wait_all_tasks_blocked()
            gc.collect()
            assert kept() is None


async def test_an_owner_is_asked_only_while_a_task_waits() -> None:
    a, b = _pair()
    with a, b, trio.fail_after(5):
        async with running_poller() as poller:
            owner = _Owner(a, [])  # any question would fail: no answer left
            poller.register(a, owner)
            b.send(b"x")
            await trio.testing.wait_all_tasks_blocked()  # the edge is kept for the next wait
            await poller.wait_readable(a)  # returns at once, the owner not asked
            assert a.recv(10) == b"x" and owner.tasks == []


async def test_an_owner_that_raises_hands_the_error_to_its_waiting_task() -> None:
    """A bug in an owner ends its own socket's wait with the error; the poller serves on."""
    (a, b), (c, d) = _pair(), _pair()
    with a, b, c, d, trio.fail_after(5):
        async with running_poller() as poller:
            poller.register(a, _Owner(a, [ValueError("owner bug")]))
            poller.register(c)
            caught: list[Exception] = []

            async def wait() -> None:
                try:
                    await poller.wait_readable(a)
                except ValueError as exc:
                    caught.append(exc)

            async with trio.open_nursery() as nursery:
                await _parked(nursery, wait)
                b.send(b"x")
            assert [str(exc) for exc in caught] == ["owner bug"]
            d.send(b"y")
            await poller.wait_readable(c)  # the other socket is still served
            assert c.recv(10) == b"y"


async def test_an_owner_that_wakes_its_task_itself_wakes_it_once() -> None:
    """The owner's work may end the wait itself (a wake through ``interrupt``): the task is
    rescheduled once, not again by the poller."""
    a, b = _pair()
    with a, b, trio.fail_after(5):
        async with running_poller() as poller:

            class Waking:
                def on_ready(self) -> bool:
                    poller.interrupt(a)
                    return False

            poller.register(a, Waking())
            async with trio.open_nursery() as nursery:
                await _parked(nursery, partial(poller.wait_readable, a))
                b.send(b"x")
            await trio.testing.wait_all_tasks_blocked()
            assert a.recv(10) == b"x"


async def test_alarms_ring_on_time_while_the_sockets_never_stop_being_ready() -> None:
    """A saturated door (some socket always ready, so the poller never waits on its epoll)
    still rings its connections' timers: heartbeats go on under load."""
    pairs = [_pair() for _ in range(20)]
    for _, b in pairs:
        b.setblocking(False)
    rung: list[float] = []
    done = trio.Event()
    with trio.fail_after(10):
        async with running_poller() as poller, trio.open_nursery() as nursery:
            for a, _ in pairs:
                poller.register(a)

            async def busy(a: socket.socket, b: socket.socket) -> None:
                b.send(b"x")
                while True:  # every read is answered with more bytes: always ready again
                    await poller.wait_readable(a)
                    with contextlib.suppress(BlockingIOError):
                        a.recv(100)
                        time.sleep(0.0002)  # a little work per message, as a handler does
                        b.send(b"x")

            for a, b in pairs:
                nursery.start_soon(busy, a, b)
            alarm = Alarm(poller)
            start = trio.current_time()

            async def sleeper() -> None:
                await alarm.sleep_until(start + 0.2)
                rung.append(trio.current_time() - start)
                done.set()

            nursery.start_soon(sleeper)
            with trio.move_on_after(2):
                await done.wait()
            nursery.cancel_scope.cancel()
        for a, b in pairs:
            a.close()
            b.close()
    assert rung and 0.2 <= rung[0] < 0.6, rung
