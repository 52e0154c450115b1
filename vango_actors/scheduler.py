"""Scheduler bridge: timers and background work owned by one component instance.

Tasks run in the session's nursery, each under its own cancel scope that belongs to the
instance, so unmount, restart and session end cancel them all. Nothing a task produces
touches the component directly: callbacks travel through the session mailbox as
:class:`Call` messages and run like events (one at a time, then render, diff, send), so
component code never needs locks. A failing background function arrives as :class:`Crash`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import trio

from .supervisor import handleable

if TYPE_CHECKING:
    from .component import Component, Host


@attrs.frozen(slots=True)
class Call:
    """Run ``fn(*args)`` in the session on behalf of ``host`` (if still that generation)."""

    host: Host | None
    generation: int
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    where: str = "callback"
    handled: trio.Event | None = None  # set once it ran (a timer sends its next tick then)


@attrs.frozen(slots=True)
class Crash:
    """Background work of ``host`` raised ``exc``: the supervisor handles it in the session."""

    host: Host
    generation: int
    exc: Exception
    where: str = "background task"


class Cancellable(Protocol):
    """What an instance owns besides tasks (e.g. a pub/sub subscription): cancel at unmount."""

    def cancel(self) -> None: ...
    @property
    def cancel_called(self) -> bool: ...


class TaskHandle:
    """Cancels one timer or background task; cancelling twice or after it ended is a no-op."""

    __slots__ = ("_scope",)

    def __init__(self, scope: Cancellable) -> None:
        self._scope = scope

    def cancel(self) -> None:
        self._scope.cancel()

    @property
    def cancelled(self) -> bool:
        return self._scope.cancel_called


class InstanceScheduler:
    """The timers and background tasks of one component instance."""

    __slots__ = ("generation", "host", "scopes")

    def __init__(self, host: Host) -> None:
        self.host = host
        self.generation = host.generation
        self.scopes: set[Cancellable] = set()  # task scopes and subscriptions

    def every(self, seconds: float, fn: Callable[[], Any]) -> TaskHandle:
        _check_interval("every", seconds)
        check_callable("every", fn, "self.every(1.0, self.tick)")
        return self._start(self._every, seconds, fn)

    def after(self, seconds: float, fn: Callable[[], Any]) -> TaskHandle:
        if not seconds >= 0:
            raise ValueError(f"after(seconds={seconds!r}): expected a delay >= 0")
        check_callable("after", fn, "self.after(1.0, self.done)")
        return self._start(self._after, seconds, fn)

    def spawn(
        self,
        async_fn: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        on_done: Callable[[Any], Any] | None,
    ) -> TaskHandle:
        if inspect.iscoroutine(async_fn):
            async_fn.close()  # never awaited: no RuntimeWarning on top of this error
            raise TypeError(
                "spawn() takes an async function and its arguments, got a coroutine object: "
                "write self.spawn(self.fetch, arg), not self.spawn(self.fetch(arg))"
            )
        check_callable("spawn", async_fn, "self.spawn(self.fetch, arg)")
        if on_done is not None:
            check_callable("spawn(on_done=)", on_done, "on_done=self.show")
        return self._start(self._background, async_fn, args, on_done)

    def cancel_all(self) -> None:
        scopes, self.scopes = self.scopes, set()
        for scope in scopes:
            scope.cancel()

    # ------------------------------------------------------------------ tasks

    def _start(self, body: Callable[..., Awaitable[None]], *args: Any) -> TaskHandle:
        scope = trio.CancelScope()
        self.scopes.add(scope)
        self.host.runtime.task_nursery().start_soon(self._run, scope, body, *args)
        return TaskHandle(scope)

    async def _run(
        self, scope: trio.CancelScope, body: Callable[..., Awaitable[None]], *args: Any
    ) -> None:
        try:
            with scope:
                await body(*args)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the session's mailbox is closed: the session is ending
        finally:
            self.scopes.discard(scope)

    async def _send(self, message: Call | Crash) -> None:
        await self.host.runtime.send(message)

    async def _every(self, seconds: float, fn: Callable[[], Any]) -> None:
        due = trio.current_time() + seconds
        while True:
            await trio.sleep_until(due)
            handled = trio.Event()
            await self._send(Call(self.host, self.generation, fn, (), "timer", handled))
            # one tick in the mailbox at a time: a callback slower than the interval must not
            # queue ticks ahead of the user's events (the missed ones are skipped below)
            await handled.wait()
            due += seconds
            now = trio.current_time()
            if due <= now:  # the mailbox or the tick held us up: skip the missed ticks
                due += math.ceil((now - due) / seconds) * seconds

    async def _after(self, seconds: float, fn: Callable[[], Any]) -> None:
        await trio.sleep(seconds)
        await self._send(Call(self.host, self.generation, fn, (), "timer"))

    async def _background(
        self,
        async_fn: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        on_done: Callable[[Any], Any] | None,
    ) -> None:
        try:
            pending = async_fn(*args)
            if not inspect.isawaitable(pending):
                raise TypeError(_not_async(async_fn, pending))
            result = await pending
        except BaseException as exc:
            error = handleable(exc)
            await self._send(Crash(self.host, self.generation, error))
            return
        if on_done is not None:
            await self._send(Call(self.host, self.generation, on_done, (result,), "on_done"))


async def post(component: Component, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """Queue ``fn(*args)`` for ``component``'s session (``Component.post``); nothing when the
    component was unmounted or its session ended (VangoError if it was never mounted)."""
    check_callable("post", fn, "await self.post(self.show, result)")
    if component._vango_host is None and component._vango_left:
        await trio.lowlevel.checkpoint()
        return
    host = component._require_host()
    try:
        await host.runtime.send(Call(host, host.generation, fn, args, "post"))
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # the session ended first


def check_callable(name: str, fn: object, example: str) -> None:
    """Refuse a value that is not callable where it is passed (``self.every(1.0, self.tick())``
    passes tick's result): else each tick would crash the component far from the mistake."""
    if not callable(fn):
        raise TypeError(
            f"{name}: expected a function to call later, got {type(fn).__name__} "
            f"(pass the function itself, e.g. {example})"
        )


def _not_async(fn: Callable[..., Any], returned: object) -> str:
    """What spawn says of a plain function: it ran (in the session, blocking it) and gave a
    value where an awaitable was due; an ``async def`` cannot be told apart from a function
    returning one (``lambda: self.fetch(1)``) until it is called."""
    name = getattr(fn, "__name__", type(fn).__name__)
    return (
        f"spawn({name}): expected an async function (async def), {name}() returned "
        f"{type(returned).__name__}; for blocking work, await trio.to_thread.run_sync(...) "
        "in an async one"
    )


def _check_interval(name: str, seconds: float) -> None:
    if not seconds > 0:
        raise ValueError(f"{name}(seconds={seconds!r}): expected an interval > 0")
