"""One edge-triggered epoll for many sockets, so a read wait costs no syscall of its own.

trio arms every ``wait_readable`` EPOLLONESHOT: each wait is an ``epoll_ctl`` plus trio's
registration bookkeeping, once per click per session on the fast door. A
:class:`ReadPoller` registers each socket once (EPOLLIN | EPOLLRDHUP | EPOLLET) in an epoll
of its own; one task waits on that epoll's fd (one trio wait per batch of ready sockets) and
reschedules the task waiting on each ready socket directly, oldest edge first, a few per
scheduler pass (fair latency under load). A socket's *owner* (given to :meth:`register`) may
take a readiness edge itself, in the poller's task, instead of waking the waiting task
(:class:`ReadyHandler`: the fast door's session actor handles a click there when it can).
A readiness edge that comes while no task waits is remembered, so the next wait returns at
once; a reader must therefore read until a short read (or EAGAIN) before it waits again, as
with any edge-triggered poll. A spurious wake costs one EAGAIN.

The same task keeps the connections' timers (:class:`Alarm`: park until a deadline or an
early :meth:`Alarm.ring`, the heartbeat's wait): one heap and one cancel scope for all of
them instead of a cancel scope per idle connection.

Linux only (``select.epoll``); :func:`available` says whether it can run here. Once the
poller has stopped, waits fall back to ``trio.lowlevel.wait_readable`` and alarms to a
cancel scope of their own.
"""

from __future__ import annotations

import heapq
import itertools
import math
import select
import socket
from collections import deque
from collections.abc import Awaitable
from typing import Any, Protocol

import outcome
import trio

_EDGE = getattr(select, "EPOLLIN", 0) | getattr(select, "EPOLLRDHUP", 0)
_EDGE |= getattr(select, "EPOLLET", 0)
_MAX_EVENTS = 512  # per epoll_wait; a fuller batch is polled again before waiting
# Readers woken per scheduler pass, oldest edge first. trio runs each pass's batch of tasks
# in FIFO or LIFO order (a coin toss per pass), so a batch of 100 woken at once gave a click
# anywhere from 0 to 2 batch-times of latency (p99 ~2.2x the mean at 100 busy sessions);
# chunks of 8 keep the order to within 8 handlers (p99 ~1.4-1.7x) for ~2 % more instructions.
_WAKE_PER_PASS = 8


class ReadyHandler(Protocol):
    """What may take a socket's readiness edges in the poller's task (see ``register``)."""

    def on_ready(self) -> bool:
        """The socket is readable and a task waits on it: True when this call took the
        readiness (read to a short read; the task waits on), False to wake the task."""
        ...


def available() -> bool:
    """True where a ReadPoller can run (Linux epoll)."""
    return hasattr(select, "epoll")


class _Parked:
    """A place one task waits at (``wait_task_rescheduled(self.abort)``) until resumed."""

    __slots__ = ("task",)

    def __init__(self) -> None:
        self.task: trio.lowlevel.Task | None = None

    def abort(self, _: Any) -> trio.lowlevel.Abort:
        """The waiting task was cancelled: nobody waits any more."""
        self.task = None
        return trio.lowlevel.Abort.SUCCEEDED

    def resume(self, error: BaseException | None = None) -> bool:
        """Wake the waiting task (raising ``error`` in it, if given); False when nobody
        waits."""
        task = self.task
        if task is None:
            return False
        self.task = None
        if error is None:
            trio.lowlevel.reschedule(task)
        else:
            trio.lowlevel.reschedule(task, outcome.Error(error))
        return True


class _Watch(_Parked):
    """One registered socket: the task waiting on it, or a readiness edge nobody took yet;
    ``owner`` may take edges itself while the task waits (see ReadyHandler)."""

    __slots__ = ("owner", "ready")

    def __init__(self, owner: ReadyHandler | None) -> None:
        super().__init__()
        self.ready = False
        self.owner = owner


class Alarm(_Parked):
    """One task's wait until a deadline or an early :meth:`ring`, kept by ``poller``'s task
    while it runs (a connection's heartbeat wait), else by a cancel scope of its own."""

    __slots__ = ("_poller", "_scope", "deadline")

    def __init__(self, poller: ReadPoller | None) -> None:
        super().__init__()
        self._poller = poller
        self.deadline = math.inf
        self._scope: trio.CancelScope | None = None  # the wait's own, without a poller

    def sleep_until(self, deadline: float) -> Awaitable[None]:
        """Wait until ``deadline`` (trio's clock) or :meth:`ring`; cancellable. Await it at
        once: a plain function returning the wait, so no frame of its own is kept."""
        poller = self._poller
        if poller is None or not poller.running:
            return self._sleep_scoped(deadline)
        if self.task is not None:
            raise trio.BusyResourceError("another task is already waiting on this alarm")
        self.task = trio.lowlevel.current_task()
        self.deadline = deadline
        poller._add_alarm(self)
        return trio.lowlevel.wait_task_rescheduled(self.abort)

    def ring(self) -> None:
        """End the wait now (a no-op when nobody waits)."""
        if not self.resume() and self._scope is not None:
            self._scope.cancel()

    async def _sleep_scoped(self, deadline: float) -> None:
        with trio.CancelScope(deadline=deadline) as scope:
            self._scope = scope
            try:
                await trio.sleep_forever()
            finally:
                self._scope = None


class ReadPoller:
    """Readability of many sockets through one epoll and one task (:meth:`run`), and the
    :class:`Alarm` timers of the same connections."""

    __slots__ = (
        "_alarms",
        "_epoll",
        "_order",
        "_running",
        "_scope",
        "_timer_scope",
        "_watches",
    )

    def __init__(self) -> None:
        self._epoll: Any = select.epoll()
        self._watches: dict[int, _Watch] = {}
        self._scope: trio.CancelScope | None = None
        self._running = False
        # (deadline, order, alarm); an entry whose alarm no longer waits for that deadline
        # is dropped when it comes up
        self._alarms: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._timer_scope: trio.CancelScope | None = None  # its deadline: the first alarm's

    def _add_alarm(self, alarm: Alarm) -> None:
        deadline = alarm.deadline
        heapq.heappush(self._alarms, (deadline, next(self._order), alarm))
        scope = self._timer_scope
        if scope is not None and deadline < scope.deadline:
            scope.deadline = deadline

    def _ring_due(self) -> None:
        """Wake every alarm whose deadline has come."""
        alarms = self._alarms
        now = trio.current_time()
        while alarms and alarms[0][0] <= now:
            deadline, _, alarm = heapq.heappop(alarms)
            if alarm.task is not None and alarm.deadline == deadline:
                alarm.ring()

    def __len__(self) -> int:
        return len(self._watches)

    def register(self, sock: socket.socket, owner: ReadyHandler | None = None) -> None:
        """Watch ``sock`` (non-blocking) until :meth:`forget`; data already waiting counts.
        While a task waits on it, ``owner.on_ready()`` is asked first when it is readable."""
        fd = sock.fileno()
        if fd in self._watches:  # a socket closed without forget() had this fd number
            self._forget(fd)
        self._watches[fd] = _Watch(owner)
        try:
            self._epoll.register(fd, _EDGE)
        except FileExistsError:
            self._epoll.modify(fd, _EDGE)
        except BaseException:
            del self._watches[fd]
            raise

    def forget(self, sock: socket.socket) -> None:
        """Stop watching ``sock`` (before it is closed); a task waiting on it gets
        ``trio.ClosedResourceError``, as with ``trio.lowlevel.notify_closing``."""
        self._forget(sock.fileno())

    def _forget(self, fd: int) -> None:
        watch = self._watches.pop(fd, None)
        if watch is None:
            return
        try:
            self._epoll.unregister(fd)
        except (OSError, ValueError):
            pass  # the epoll is closed, or the fd already was
        watch.resume(trio.ClosedResourceError("socket closed"))

    async def wait_readable(self, sock: socket.socket) -> None:
        """Return once ``sock`` may have bytes to read (at once if an edge was left over).

        Like ``trio.lowlevel.wait_readable``: cancellable; one task per socket at a time."""
        watch = self._watches.get(sock.fileno()) if self._running else None
        if watch is None:
            await trio.lowlevel.wait_readable(sock)
            return
        if watch.ready:
            watch.ready = False
            return
        if watch.task is not None:
            raise trio.BusyResourceError("another task is already waiting to read this socket")
        watch.task = trio.lowlevel.current_task()
        await trio.lowlevel.wait_task_rescheduled(watch.abort)

    @property
    def running(self) -> bool:
        """Waits go through this poller (and :meth:`interrupt` can end them)."""
        return self._running

    def interrupt(self, sock: socket.socket) -> None:
        """End the wait of the task waiting on ``sock`` through the poller, if any: it
        returns as if the socket were readable (a spurious wake costs its reader one
        EAGAIN), without a cancel scope to cancel."""
        watch = self._watches.get(sock.fileno())
        if watch is not None:
            watch.resume()

    async def run(self) -> None:
        """Wake the waiters of ready sockets until :meth:`stop` (shielded from outer
        cancellation, so sockets can still be read while their connections shut down)."""
        watches = self._watches
        poll = self._epoll.poll
        queue: deque[_Watch] = deque()  # ready sockets with a waiter, in the order they came
        reschedule = trio.lowlevel.reschedule
        with trio.CancelScope(shield=True) as scope:
            self._scope = scope
            self._running = True
            try:
                while True:
                    # One scope until the first alarm is due (not one per wait): its deadline
                    # can strike only the epoll wait, which comes with the queue empty (a
                    # queue that never empties rings them between passes instead).
                    first = self._alarms[0][0] if self._alarms else math.inf
                    with trio.CancelScope(deadline=first) as timer_scope:
                        self._timer_scope = timer_scope
                        while True:
                            if not queue:
                                # (idle: the last socket woken must not be kept: its owner
                                # is a connection, with its session, ended or not)
                                watch = owner = task = None
                                await trio.lowlevel.wait_readable(self._epoll.fileno())
                            while True:  # new edges join the back of the queue
                                events = poll(0, _MAX_EVENTS)
                                for fd, _ in events:
                                    watch = watches.get(fd)
                                    if watch is None:
                                        continue
                                    if watch.task is None:
                                        watch.ready = True
                                    else:
                                        queue.append(watch)
                                if len(events) < _MAX_EVENTS:
                                    break
                            woken = 0
                            while queue and woken < _WAKE_PER_PASS:
                                watch = queue.popleft()
                                task = watch.task
                                if task is None:  # its wait was cancelled meanwhile
                                    watch.ready = True
                                    continue
                                woken += 1
                                owner = watch.owner
                                error: outcome.Outcome[None] | None = None
                                if owner is not None:  # in the waiting task's context
                                    try:
                                        took = task.context.run(owner.on_ready)
                                    except Exception as exc:  # a bug: the waiting task's
                                        took, error = False, outcome.Error(exc)
                                    if took or watch.task is not task:
                                        continue  # taken, or the task was woken meanwhile
                                watch.task = None
                                if error is None:
                                    reschedule(task)
                                else:
                                    reschedule(task, error)
                            if queue:
                                # Busy: the epoll wait (where the scope's deadline strikes)
                                # may not come for long; ring what is due between passes.
                                alarms = self._alarms
                                if alarms and alarms[0][0] <= trio.current_time():
                                    self._ring_due()
                                await trio.lowlevel.cancel_shielded_checkpoint()
                    self._timer_scope = None
                    self._ring_due()
            finally:
                self._running = False
                self._timer_scope = None
                self._wake_all()
                trio.lowlevel.notify_closing(self._epoll.fileno())
                self._epoll.close()

    def stop(self) -> None:
        """End :meth:`run`; waiting tasks wake and wait through trio from then on."""
        if self._scope is not None:
            self._scope.cancel()

    def _wake_all(self) -> None:
        for watch in self._watches.values():
            watch.ready = True  # readiness is unknown now: let every reader look
            watch.resume()
        alarms, self._alarms = self._alarms, []
        for _, _, alarm in alarms:  # early: each looks at the time and waits again, scoped
            alarm.ring()
