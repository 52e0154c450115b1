"""Service actors: app-wide, supervised, long-lived actors that pages talk to.

A service is one object per process with a mailbox: ``await service.call(fn, *args)`` runs
``fn(*args)`` inside the service's own task, one call at a time (no locks), and returns its
result or raises its exception. ``run()`` holds the service's background work (listening to a
topic, heartbeats). Services start with the app (``create_app(services=[...])`` or a
``services`` list in the routes package) through :func:`open_services`, and pages find them
with ``ChatRoom.instance()``.

Errors of a call are the caller's: the exception is re-raised in the caller and the service
goes on with its state, as a Python object does when one of its methods raises (a page's bad
input must not reset, or with a few repeats fail, a service every session shares). A call
that could leave half-changed state should check before it changes anything; a service whose
invariants a failed call may break sets ``restart_on_call_error = True``.

Supervision ("let it crash") covers the service's own work: when ``init`` or ``run`` raises
(or a call, with ``restart_on_call_error``), the error is logged and the service restarts:
``init()`` runs again and must set up all state. Calls waiting in the mailbox survive the
restart. More crashes than the class's ``restart_policy`` allows mark the service *failed*:
calls raise :class:`ServiceUnavailable` and ``/vango/health`` says so. A failure of the first
``init`` stops start-up.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, ClassVar, TypeVar

import attrs
import trio

from . import pubsub
from .errors import VangoError
from .supervisor import RestartPolicy, RestartTracker, describe, handleable

log = logging.getLogger("vango_actors.service")

S = TypeVar("S", bound="Service")


class ServiceUnavailable(VangoError):
    """The service is not running here (not started, stopped, or failed past its budget)."""


@attrs.frozen
class ServiceStatistics:
    name: str
    state: str  # "starting", "running", "restarting", "failed", "stopped"
    restarts: int
    calls: int
    mailbox: int  # calls waiting

    def as_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


class _Request:
    __slots__ = ("args", "done", "error", "fn", "result")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args
        self.done = trio.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class Service:
    """Base class of service actors. Override ``init`` and, if needed, ``run`` / ``terminate``."""

    #: crashes allowed within a time window before the service is marked failed
    restart_policy: ClassVar[RestartPolicy] = RestartPolicy(max_restarts=5, within=30.0)
    #: calls that may wait; callers beyond it wait for room (backpressure)
    mailbox_size: ClassVar[int] = 256
    #: a call that raises also restarts the service (``init`` again), within the policy
    restart_on_call_error: ClassVar[bool] = False

    pubsub: pubsub.MemoryBroker | pubsub.RedisBroker
    state: str = "starting"
    restarts: int = 0
    calls: int = 0

    async def init(self) -> None:
        """Set up all state; runs at start and again after every restart."""

    async def run(self) -> None:
        """Background work for as long as the service runs (default: none)."""
        await trio.sleep_forever()

    async def terminate(self) -> None:
        """Best-effort clean-up at shutdown (bounded by a few seconds)."""

    @property
    def name(self) -> str:
        return type(self).__name__

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` in the service's task; its result, or its exception re-raised.

        Not from that task itself (``init`` or a call): the call would wait for itself."""
        if trio.lowlevel.current_task() is self.__dict__.get("_task"):
            name = getattr(fn, "__name__", "fn")
            raise RuntimeError(
                f"{self.name}.call() from inside {self.name}'s own task (init or a call) would "
                f"wait for itself for ever: call the method directly, e.g. self.{name}(...)"
            )
        request = _Request(fn, args)
        try:
            await self._mailbox().send(request)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise self._unavailable() from None
        await request.done.wait()
        if request.error is not None:
            raise request.error
        return request.result

    @classmethod
    def instance(cls: type[S]) -> S:
        """The running instance of this service class in this process."""
        found = _REGISTRY.get().get(cls)
        if found is None:
            raise ServiceUnavailable(
                f"{cls.__name__} is not running: list it in create_app(services=[...]) or in "
                "the routes package's `services` list"
            )
        assert isinstance(found, cls)
        return found

    def statistics(self) -> ServiceStatistics:
        box = self.__dict__.get("_inbox")
        waiting = 0 if box is None else box.statistics().current_buffer_used
        return ServiceStatistics(self.name, self.state, self.restarts, self.calls, waiting)

    # ------------------------------------------------------------------ internals

    def _mailbox(self) -> trio.MemorySendChannel[_Request]:
        box: trio.MemorySendChannel[_Request] | None = self.__dict__.get("_outbox")
        if box is None:
            raise self._unavailable()
        return box

    def _unavailable(self) -> ServiceUnavailable:
        return ServiceUnavailable(f"{self.name} is unavailable ({self.state})")

    async def _serve(self, inbox: trio.MemoryReceiveChannel[_Request]) -> None:
        async for request in inbox:
            self.calls += 1
            try:
                result = request.fn(*request.args)
                if inspect.isawaitable(result):
                    result = await result
            except Exception as exc:
                request.error = exc
                request.done.set()
                if self.restart_on_call_error:
                    raise
                continue
            except BaseException:
                # a cancelled call (the service is restarting or stopping) is not the
                # caller's error: it gets ServiceUnavailable, never a foreign Cancelled
                request.error = self._unavailable()
                request.done.set()
                raise
            request.result = result
            request.done.set()


def package_services(package: str) -> tuple[Callable[[], Service], ...]:
    """The ``services`` list of a routes package (empty without one)."""
    return tuple(getattr(importlib.import_module(package), "services", ()))


async def supervise(service: Service, *, task_status: trio.TaskStatus[None]) -> None:
    """Run ``service`` until cancelled, restarting it within its policy's budget."""
    send, inbox = trio.open_memory_channel[_Request](service.mailbox_size)
    service.__dict__["_outbox"], service.__dict__["_inbox"] = send, inbox
    service.__dict__["_task"] = trio.lowlevel.current_task()  # runs init and the calls
    tracker = RestartTracker(type(service).restart_policy)
    started = False
    try:
        while True:
            try:
                async with trio.open_nursery() as nursery:
                    await service.init()
                    service.state = "running"
                    if not started:
                        started = True
                        task_status.started()
                    nursery.start_soon(service.run)
                    await service._serve(inbox)
            except BaseException as exc:
                error = handleable(exc)
                if not started:
                    raise
                if not tracker.allow_restart(trio.current_time()):
                    log.error("service %s failed for good: %s", service.name, describe(error))
                    service.state = "failed"
                    return
                service.restarts += 1
                service.state = "restarting"
                log.error(
                    "service %s crashed, restarting: %s",
                    service.name,
                    describe(error),
                    exc_info=error,
                )
    finally:
        send.close()
        _fail_waiting(inbox, service)
        if service.state != "failed":
            service.state = "stopped"
        with trio.CancelScope(shield=True), trio.move_on_after(3):
            try:
                await service.terminate()
            except Exception as exc:
                log.error("service %s: terminate failed: %s", service.name, describe(exc))


def _fail_waiting(inbox: trio.MemoryReceiveChannel[_Request], service: Service) -> None:
    while True:
        try:
            request = inbox.receive_nowait()
        except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
            break
        request.error = service._unavailable()
        request.done.set()
    inbox.close()


_REGISTRY: trio.lowlevel.RunVar[dict[type[Service], Service]] = trio.lowlevel.RunVar(
    "vango_services", default={}
)


@attrs.define
class ServiceGroup:
    """The services one ``open_services`` block runs."""

    services: list[Service] = attrs.field(factory=list)

    def statistics(self) -> list[ServiceStatistics]:
        return [service.statistics() for service in self.services]

    @property
    def healthy(self) -> bool:
        return all(service.state == "running" for service in self.services)


@asynccontextmanager
async def open_services(
    factories: Iterable[Callable[[], Service]],
    broker: pubsub.MemoryBroker | pubsub.RedisBroker | None = None,
) -> AsyncIterator[ServiceGroup]:
    """Start one instance per factory (a Service class or e.g. a ``functools.partial``) in
    order, register them for ``Cls.instance()``, stop them in reverse order at exit."""
    group = ServiceGroup()
    previous = _REGISTRY.get()
    registry = dict(previous)
    _REGISTRY.set(registry)
    try:
        async with trio.open_nursery() as nursery:
            scopes: list[trio.CancelScope] = []
            for factory in factories:
                service = factory()
                if not isinstance(service, Service):
                    raise TypeError(f"open_services: {factory!r} made {service!r}, not a Service")
                service.pubsub = broker if broker is not None else pubsub.current()
                registry[type(service)] = service
                group.services.append(service)
                scope = trio.CancelScope()
                scopes.append(scope)
                await nursery.start(_scoped, scope, service)
            try:
                yield group
            finally:
                for scope in reversed(scopes):
                    scope.cancel()
    finally:
        _REGISTRY.set(previous)


async def _scoped(
    scope: trio.CancelScope, service: Service, *, task_status: trio.TaskStatus[None]
) -> None:
    with scope:
        await supervise(service, task_status=task_status)
