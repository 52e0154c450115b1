"""A loopback TCP proxy on trio that injects faults between a client and a server.

    async with open_fault_proxy(target_port) as proxy:   # proxy.port forwards to target_port
        proxy.cut()                      # close every open connection now (both ends)
        proxy.refuse = True              # new connections are closed at once
        proxy.stall = True               # stop forwarding (connections stay open) ...
        proxy.stall = False              # ... and go on, in order
        proxy.delay = 0.05               # hold every chunk this long before forwarding it
        proxy.drop_after = (200, 2000)   # cut each new connection after a random byte count
        proxy.target_port = other        # new connections go to another server
        proxy.cut_after_frames = 1       # the next connection is cut once the server has sent
                                         # its HTTP upgrade answer and this many WebSocket frames

Cutting after a byte budget tears frames in the middle, both directions, which is how a real
link fails. ``random`` is seeded per proxy (``seed``), so a failing run can be replayed.
For sync tests (Playwright) :class:`ThreadedFaultProxy` runs one in its own trio thread.
"""

from __future__ import annotations

import random
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import attrs
import trio

T = TypeVar("T")
CHUNK = 16384


@attrs.define(eq=False)
class _Link:
    """One proxied connection: its cancel scope and how many bytes it may still carry."""

    scope: trio.CancelScope
    budget: float
    frames: int | None = None  # server WebSocket frames still to forward (cut_after_frames)


class FaultProxy:
    """Forwards ``127.0.0.1:port`` to ``127.0.0.1:target_port``; see the module docstring."""

    def __init__(self, target_port: int, *, seed: int = 5) -> None:
        self.target_port = target_port
        self.port = 0
        self.refuse = False
        self.delay = 0.0
        self.drop_after: tuple[int, int] | None = None
        self.cut_after_frames: int | None = None
        self.accepted = 0  # connections forwarded
        self.cuts = 0  # connections the proxy cut (cut() or a byte budget)
        self.random = random.Random(seed)
        self._links: set[_Link] = set()
        self._flowing = trio.Event()
        self._flowing.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stall(self) -> bool:
        return not self._flowing.is_set()

    @stall.setter
    def stall(self, value: bool) -> None:
        if value and self._flowing.is_set():
            self._flowing = trio.Event()
        elif not value:
            self._flowing.set()

    @property
    def open_connections(self) -> int:
        return len(self._links)

    def cut(self) -> int:
        """Close every open connection (both sides); returns how many were cut."""
        links, self._links = self._links, set()
        for link in links:
            link.scope.cancel()
        self.cuts += len(links)
        return len(links)

    async def serve(self, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:
            task_status.started(self.port)
            await trio.serve_listeners(self._handle, listeners, handler_nursery=nursery)

    async def _handle(self, client: trio.SocketStream) -> None:
        async with client:
            if self.refuse:
                return
            try:
                upstream = await trio.open_tcp_stream("127.0.0.1", self.target_port)
            except OSError:
                return
            async with upstream:
                budget = float("inf")
                if self.drop_after is not None:
                    budget = self.random.randint(*self.drop_after)
                link = _Link(trio.CancelScope(), budget, self.cut_after_frames)
                self.cut_after_frames = None
                self._links.add(link)
                self.accepted += 1
                with link.scope:
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(self._pump, client, upstream, link, nursery)
                        nursery.start_soon(self._pump, upstream, client, link, nursery, True)
                self._links.discard(link)

    async def _pump(
        self,
        src: trio.SocketStream,
        dst: trio.SocketStream,
        link: _Link,
        nursery: trio.Nursery,
        from_server: bool = False,
    ) -> None:
        seen = b""  # cut_after_frames: the server's bytes so far
        try:
            while data := await src.receive_some(CHUNK):
                await self._flowing.wait()
                if self.delay:
                    await trio.sleep(self.delay)
                if from_server and link.frames is not None:
                    seen += data
                    end = _frames_end(seen, link.frames)
                    if end is not None:  # (until then every byte comes before the cut)
                        await dst.send_all(data[: len(data) - len(seen) + end])
                        self.cuts += 1
                        self._links.discard(link)
                        break
                if len(data) >= link.budget:
                    await dst.send_all(data[: int(link.budget)])
                    self.cuts += 1
                    self._links.discard(link)
                    break
                link.budget -= len(data)
                await dst.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        nursery.cancel_scope.cancel()  # one side ended: end the other (closes both sockets)


def _frames_end(data: bytes, frames: int) -> int | None:
    """Where the HTTP upgrade answer and then ``frames`` whole (unmasked, server) WebSocket
    frames end in ``data``; None while ``data`` does not hold them all yet (the end is then
    past ``data``)."""
    at = data.find(b"\r\n\r\n")
    if at < 0:
        return None
    at += 4
    for _ in range(frames):
        if len(data) < at + 2:
            return None
        size, at = data[at + 1] & 127, at + 2
        if size >= 126:
            width = 2 if size == 126 else 8
            if len(data) < at + width:
                return None
            size, at = int.from_bytes(data[at : at + width], "big"), at + width
        at += size
        if len(data) < at:
            return None
    return at


@asynccontextmanager
async def open_fault_proxy(target_port: int, *, seed: int = 5) -> AsyncIterator[FaultProxy]:
    """A running :class:`FaultProxy` in the caller's trio run; stopped on exit."""
    proxy = FaultProxy(target_port, seed=seed)
    async with trio.open_nursery() as nursery:
        await nursery.start(proxy.serve)
        try:
            yield proxy
        finally:
            nursery.cancel_scope.cancel()


class ThreadedFaultProxy:
    """A :class:`FaultProxy` in its own trio thread, for sync (Playwright) tests.

    Every control goes through :meth:`call`, which runs in the proxy's trio thread.
    """

    def __init__(self, target_port: int, *, seed: int = 5) -> None:
        self.proxy = FaultProxy(target_port, seed=seed)
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop: trio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=trio.run, args=(self._main,), daemon=True)

    async def _main(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._stop = trio.Event()
        async with trio.open_nursery() as nursery:
            await nursery.start(self.proxy.serve)
            self._ready.set()
            await self._stop.wait()
            nursery.cancel_scope.cancel()

    def __enter__(self) -> ThreadedFaultProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fault proxy did not start within 10 s")
        return self

    def __exit__(self, *exc: Any) -> None:
        stop = self._stop
        if stop is not None:
            self.call(lambda _: stop.set())
        self._thread.join(10)

    def call(self, fn: Callable[[FaultProxy], T]) -> T:
        """Run ``fn(proxy)`` in the proxy's thread and return its result."""
        assert self._token is not None
        return trio.from_thread.run_sync(fn, self.proxy, trio_token=self._token)

    @property
    def url(self) -> str:
        return self.proxy.url

    def cut(self) -> int:
        return self.call(FaultProxy.cut)

    def set(self, **fields: Any) -> None:
        """Set proxy attributes (``refuse``, ``stall``, ``delay``, ``drop_after``,
        ``cut_after_frames``, ``target_port``) in its thread."""

        def apply(proxy: FaultProxy) -> None:
            for name, value in fields.items():
                setattr(proxy, name, value)

        self.call(apply)
