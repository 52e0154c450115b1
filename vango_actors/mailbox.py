"""Mailbox: a bounded FIFO between trio tasks, light enough to keep one per idle session.

It keeps the part of trio's memory channel API the runtime uses (``send``,
``send_nowait``, ``receive``, ``receive_nowait``, ``close``, ``statistics``, ``async for``)
and its semantics: a full mailbox makes ``send_nowait`` raise ``trio.WouldBlock`` and
``send`` wait (senders are served in order); a value sent while the receiver waits is handed
to it directly; ``send``/``receive`` are checkpoints; after ``close`` sends raise
``trio.ClosedResourceError`` and the receiver drains what is queued, then gets
``trio.EndOfChannel``. One object is both ends (the runtime never hands ends to different
owners), and only one task may wait in ``receive`` at a time.

Why not ``trio.open_memory_channel``: an idle session keeps two (its mailbox and its
connection's outbox), and each is three objects with two sets, two ordered dicts and a deque
(~1.7 KB). A Mailbox is one slotted object (~80 bytes) until something is queued; the deque
exists only while values wait, the senders' queue only while one waits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import attrs
import outcome
import trio
from trio.lowlevel import (
    Abort,
    Task,
    cancel_shielded_checkpoint,
    checkpoint_if_cancelled,
    current_task,
    reschedule,
    wait_task_rescheduled,
)

T = TypeVar("T")


@attrs.frozen(slots=True)
class MailboxStatistics:
    """The fields of ``trio.MemoryChannelStatistics`` the runtime reads."""

    current_buffer_used: int
    max_buffer_size: int
    tasks_waiting_send: int
    tasks_waiting_receive: int


class Mailbox(Generic[T]):
    """A bounded FIFO of at most ``size`` values; see the module docstring."""

    __slots__ = ("_closed", "_items", "_receiver", "_senders", "_size", "notify")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"Mailbox(size={size!r}): expected a size >= 1")
        self._size = size
        self._items: deque[T] | None = None  # None while empty
        self._receiver: Task | None = None  # the task waiting in receive
        self._senders: deque[tuple[Task, T]] | None = None  # tasks waiting in send
        self._closed = False
        # Called when a value is queued or the mailbox closes while no task waits in
        # receive: a task that waits for other things too (a connection's heartbeat) can
        # watch the mailbox without a receive (and without a second task).
        self.notify: Callable[[], None] | None = None

    def __len__(self) -> int:
        items = self._items
        return 0 if items is None else len(items)

    def values(self) -> Iterable[T]:
        """The queued values, oldest first (a live view: do not keep it across a checkpoint)."""
        return () if self._items is None else self._items

    # ------------------------------------------------------------------ send

    def send_nowait(self, value: T) -> None:
        """Queue ``value`` (or hand it to the waiting receiver); trio.WouldBlock when full."""
        if self._closed:
            raise trio.ClosedResourceError("the mailbox is closed: its session or connection ended")
        receiver = self._receiver
        if receiver is not None:
            self._receiver = None
            reschedule(receiver, outcome.Value(value))
            return
        items = self._items
        if items is None:
            self._items = deque((value,))
        elif len(items) >= self._size:
            raise trio.WouldBlock
        else:
            items.append(value)
        if self.notify is not None:
            self.notify()

    def send_first(self, value: T) -> None:
        """Queue ``value`` ahead of every queued value, even in a full mailbox (or hand it to
        the waiting receiver): for the runtime's own one-off message that must be handled
        next and must not be lost (a session's first claim). ClosedResourceError once closed."""
        if self._closed or self._receiver is not None:
            self.send_nowait(value)  # ClosedResourceError, or handed to the waiting receiver
            return
        if self._items is None:
            self._items = deque((value,))
        else:
            self._items.appendleft(value)
        if self.notify is not None:
            self.notify()

    async def send(self, value: T) -> None:
        """Queue ``value``, waiting (in order with other senders) while the mailbox is full."""
        await checkpoint_if_cancelled()
        try:
            self.send_nowait(value)
        except trio.WouldBlock:
            pass
        else:
            await cancel_shielded_checkpoint()
            return
        entry = (current_task(), value)
        senders = self._senders
        if senders is None:
            senders = self._senders = deque()
        senders.append(entry)

        def abort(_: Any) -> Abort:
            waiting = self._senders
            if waiting is not None:
                for i, other in enumerate(waiting):
                    if other is entry:
                        del waiting[i]
                        break
                if not waiting:
                    self._senders = None
            return Abort.SUCCEEDED

        await wait_task_rescheduled(abort)

    # ------------------------------------------------------------------ receive

    def receive_nowait(self) -> T:
        """The oldest value; trio.WouldBlock when empty, trio.EndOfChannel when empty and
        closed."""
        items = self._items
        if not items:
            if self._closed:
                raise trio.EndOfChannel
            raise trio.WouldBlock
        value = items.popleft()
        senders = self._senders
        if senders:  # room now: the longest-waiting sender's value goes in
            task, waiting = senders.popleft()
            if not senders:
                self._senders = None
            items.append(waiting)
            reschedule(task)
        elif not items:
            self._items = None
        return value

    async def receive(self) -> T:
        """The oldest value, waiting for one; trio.EndOfChannel once closed and drained."""
        await checkpoint_if_cancelled()
        try:
            value = self.receive_nowait()
        except trio.WouldBlock:
            pass
        else:
            await cancel_shielded_checkpoint()
            return value
        if self._receiver is not None:
            raise trio.BusyResourceError("another task is already waiting in this mailbox")
        self._receiver = current_task()
        result: T = await wait_task_rescheduled(self._abort_receive)
        return result

    def _abort_receive(self, _: Any) -> Abort:
        self._receiver = None
        return Abort.SUCCEEDED

    def __aiter__(self) -> Mailbox[T]:
        return self

    async def __anext__(self) -> T:
        try:
            return await self.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None

    # ------------------------------------------------------------------ close

    def close(self) -> None:
        """No more sends (waiting senders get trio.ClosedResourceError); the receiver drains
        what is queued, then gets trio.EndOfChannel. Idempotent."""
        if self._closed:
            return
        self._closed = True
        receiver, self._receiver = self._receiver, None
        if receiver is not None:  # it waits, so nothing is queued
            reschedule(receiver, outcome.Error(trio.EndOfChannel()))
        elif self.notify is not None:
            self.notify()
        senders, self._senders = self._senders, None
        for task, _ in senders or ():
            error = trio.ClosedResourceError("the mailbox was closed while this send waited")
            reschedule(task, outcome.Error(error))

    @property
    def closed(self) -> bool:
        return self._closed

    def statistics(self) -> MailboxStatistics:
        return MailboxStatistics(
            current_buffer_used=len(self),
            max_buffer_size=self._size,
            tasks_waiting_send=len(self._senders or ()),
            tasks_waiting_receive=0 if self._receiver is None else 1,
        )
