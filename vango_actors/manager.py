"""SessionManager: creates, claims, expires and shuts down session actors.

The manager owns one nursery for all sessions. Each session runs in a wrapper that contains
runtime bugs: a failing session is logged and ends alone, the nursery never dies for it. The
lifecycle rules (parked -> live -> disconnected -> ended) are the table in
:mod:`vango_actors.lifecycle`; the counts per state are kept here.
"""

from __future__ import annotations

import contextvars
import heapq
import math
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from types import MappingProxyType
from typing import Any

import attrs
import trio

from .actor import Attachment, SessionActor, SessionStatistics
from .component import Component
from .errors import VangoError
from .lifecycle import SessionState
from .navigation import Navigator
from .protocol import Hello
from .supervisor import RestartPolicy, describe, handleable, logger

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@attrs.frozen(kw_only=True)
class RuntimeConfig:
    """Sizes and timeouts of the session runtime; every queue is bounded by one of these."""

    unclaimed_ttl: float = 30.0  # seconds a rendered page may wait for its first attach
    grace_period: float = 60.0  # seconds a disconnected session is kept for a reconnect
    # seconds it is kept when its page went away (the client closed with 1001: tab closed,
    # reloaded, left): no reconnect is coming, so presence and memory are freed soon
    going_away_grace: float = 5.0
    mailbox_size: int = attrs.field(default=64, validator=attrs.validators.ge(1))
    outbox_size: int = attrs.field(default=32, validator=attrs.validators.ge(4))
    # bytes the outbox may hold (0: no byte bound); past it, like past outbox_size frames, the
    # queued patches are replaced by one resync. A frame alone in the outbox always fits.
    outbox_bytes: int = attrs.field(default=256 * 1024, validator=attrs.validators.ge(0))
    replay_size: int = attrs.field(default=64, validator=attrs.validators.ge(0))
    replay_bytes: int = attrs.field(default=256 * 1024, validator=attrs.validators.ge(0))
    max_resyncs: int = 3  # outbox overflows in a row (not caught up) before it is detached
    heartbeat_ms: int = 15_000
    max_sessions: int = 10_000
    restart_policy: RestartPolicy = attrs.field(factory=RestartPolicy)
    dev: bool = False  # ERROR frames carry tracebacks
    ended_memory: int = 10_000  # ended session ids remembered for clear SessionNotFound reasons
    navigator: Navigator | None = None  # live navigation: URL -> Destination (the front's)


class SessionNotFound(VangoError):
    """``attach`` named a session that is unknown, expired or ended; the client must reload."""

    def __init__(self, session_id: str, reason: str, detail: str = "") -> None:
        text = f"session {session_id!r} not found ({reason})"
        super().__init__(f"{text}: {detail}" if detail else text)
        self.session_id = session_id
        self.reason = reason


class SessionLimitReached(VangoError):
    """``create`` was called while ``max_sessions`` sessions exist."""


class RuntimeClosed(VangoError):
    """``create`` was called on a manager that is shutting down or shut down."""


@attrs.frozen(slots=True)
class CreatedSession:
    """A new, parked session: the id the page embeds and the root component's HTML."""

    session_id: str
    html: str
    title: str | None = None
    #: The root's ``mount`` navigated to this URL: the page is not to be shown (answer a page
    #: request with a redirect there); the session has ended already.
    redirect: str | None = None
    #: The page needs vango.rich.js (a marker in its HTML, or a CALL while mounting).
    rich: bool = False


@attrs.frozen(slots=True)
class ManagerStatistics:
    """Counts for /vango/health and /vango/metrics; the counters include ended sessions."""

    live: int
    parked: int
    disconnected: int
    total_created: int
    restarts: int
    dropped_events: int
    events_handled: int
    patches_sent: int
    bytes_sent: int
    resyncs: int


@attrs.define
class _Retired:
    restarts: int = 0
    dropped_events: int = 0
    events_handled: int = 0
    patches_sent: int = 0
    bytes_sent: int = 0
    resyncs: int = 0

    def add(self, actor: SessionActor) -> None:
        for name in attrs.fields_dict(_Retired):
            setattr(self, name, getattr(self, name) + getattr(actor, name))


_STARTED = trio.Event()
_STARTED.set()


class _Start:
    """``create``'s side of a session task's start-up (a ``task_status`` for
    ``SessionActor.run``): the page HTML, or the exception that kept it from starting."""

    __slots__ = ("done", "error", "html")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.html = ""
        self.error: BaseException | None = None

    def started(self, value: str = "") -> None:
        self.html = value
        self.done.set()

    def take(self) -> str:
        """The HTML, once: the session task's frame keeps this object as long as it runs."""
        html, self.html = self.html, ""
        self.done = _STARTED
        return html

    def fail(self, error: BaseException) -> None:
        if self.done.is_set():
            return
        if not isinstance(error, Exception):  # cancelled: the runtime is stopping
            error = RuntimeClosed("cannot create a session: the runtime stopped while it mounted")
        self.error = error
        self.done.set()


class SessionManager:
    """All sessions of one process. Use :func:`open_runtime` to get one."""

    def __init__(
        self, nursery: trio.Nursery, config: RuntimeConfig, timers: trio.Nursery | None = None
    ) -> None:
        """Sessions run in ``nursery``; the expiry timer in ``timers`` (default: the same)."""
        self.config = config
        self._nursery = nursery
        # One timer for the deadlines of every parked and disconnected session (a cancel
        # scope per waiting session cost ~0.8 KB each): a heap of (deadline, session id),
        # stale entries skipped, and one task sleeping until the earliest.
        self._deadlines: list[tuple[float, str]] = []
        self._timer = trio.CancelScope()
        self._sessions: dict[str, SessionActor] = {}
        self._ended: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._counts = {state: 0 for state in SessionState}
        self._retired = _Retired()
        self._created = 0
        self._closing = False
        self._context = contextvars.copy_context()  # where session tasks are spawned
        self._context.run((timers or nursery).start_soon, self._expire_sessions)

    # ------------------------------------------------------------------ API

    async def create(
        self,
        root: type[Component],
        props: Mapping[str, Any] | None = None,
        *,
        meta: Mapping[str, Any] | None = None,
        session_id: str | None = None,
    ) -> CreatedSession:
        """Mount and render ``root`` in a new parked session; raises MountError if it fails.

        ``session_id`` is for remounting a session another process rendered (the id comes
        from a verified token): its first attach answers with a resync whatever the client
        says it applied. By default a fresh id with 192 random bits is drawn.
        """
        self._check_can_create(root)
        remount = session_id is not None
        if session_id is None:
            session_id = secrets.token_urlsafe(24)
        elif session_id in self._sessions:
            raise VangoError(f"cannot create session {session_id!r}: that id is in use")
        props = _EMPTY if props is None else MappingProxyType(dict(props))
        meta = _EMPTY if meta is None else MappingProxyType(dict(meta))
        actor = SessionActor(
            session_id, root, props, meta, self.config, self._counts, self._expire_at
        )
        actor.remounted = remount
        self._sessions[session_id] = actor
        start = _Start()
        # The session task runs in the runtime's context, not the caller's: a task keeps the
        # contextvars it was spawned with, and a page request's (Quart's request context, the
        # request, its headers, hypercorn's stream...) would live as long as the session.
        self._context.run(self._nursery.start_soon, self._run_session, actor, start)
        try:
            await start.done.wait()
        except BaseException:
            actor.stop("the page request was cancelled")  # never reaches a page: end it
            raise
        if start.error is not None:
            raise start.error  # _run_session forgot the session already
        self._created += 1
        return CreatedSession(session_id, start.take(), actor.title, actor.redirect, actor.rich)

    async def attach(self, session_id: str, hello: Hello) -> Attachment:
        """Claim the session for one connection; WELCOME and catch-up are already queued."""
        actor = self._sessions.get(session_id)
        if actor is None or actor.end is not None:
            raise self._not_found(session_id)
        return actor.attach(hello)

    def has(self, session_id: str) -> bool:
        """True while a session with this id runs here (parked, live or disconnected)."""
        actor = self._sessions.get(session_id)
        return actor is not None and actor.end is None

    def session(self, session_id: str) -> SessionActor:
        """The actor of a running session (tests, tools); raises SessionNotFound."""
        actor = self._sessions.get(session_id)
        if actor is None:
            raise self._not_found(session_id)
        return actor

    async def aclose(self, deadline: float = 10.0) -> None:
        """Drain: GOAWAY to live clients, unmount every session (children first).

        Waits at most ``deadline`` seconds, then cancels whatever is left. Afterwards
        ``create`` raises RuntimeClosed.
        """
        self._closing = True
        actors = list(self._sessions.values())
        for actor in actors:
            actor.stop()
        with trio.move_on_after(deadline) as scope:
            for actor in actors:
                await actor.done.wait()
        if scope.cancelled_caught:
            left = sum(1 for a in actors if not a.done.is_set())
            logger.warning(
                "shutdown deadline of %s s passed: cancelling %d sessions", deadline, left
            )
            self._nursery.cancel_scope.cancel()

    def statistics(self) -> ManagerStatistics:
        actors = list(self._sessions.values())
        retired = self._retired

        def total(name: str) -> int:
            return int(getattr(retired, name)) + sum(int(getattr(a, name)) for a in actors)

        counts = self._counts
        return ManagerStatistics(
            live=counts[SessionState.LIVE],
            parked=counts[SessionState.PARKED],
            disconnected=counts[SessionState.DISCONNECTED],
            total_created=self._created,
            restarts=total("restarts"),
            dropped_events=total("dropped_events"),
            events_handled=total("events_handled"),
            patches_sent=total("patches_sent"),
            bytes_sent=total("bytes_sent"),
            resyncs=total("resyncs"),
        )

    def session_statistics(self, session_id: str) -> SessionStatistics:
        return self.session(session_id).statistics()

    def __len__(self) -> int:
        return len(self._sessions)

    # ------------------------------------------------------------------ internals

    def _check_can_create(self, root: type[Component]) -> None:
        if self._closing:
            raise RuntimeClosed("cannot create a session: the runtime is shutting down")
        if len(self._sessions) >= self.config.max_sessions:
            raise SessionLimitReached(
                f"cannot create a session: the limit of {self.config.max_sessions} "
                "sessions (max_sessions) is reached"
            )
        if not (isinstance(root, type) and issubclass(root, Component)):
            raise TypeError(f"create() needs a Component subclass, got {root!r}")

    def _not_found(self, session_id: str) -> SessionNotFound:
        reason, detail = self._ended.get(session_id, ("unknown", "no such session here"))
        return SessionNotFound(session_id, reason, detail)

    async def _run_session(self, actor: SessionActor, start: _Start) -> None:
        """Run one session; a failure to start is handed to ``create`` (through ``start``),
        a runtime bug after start ends this session only, logged."""
        try:
            await actor.run(task_status=start)
        except BaseException as exc:
            if not actor.started:
                start.fail(exc)
                if isinstance(exc, Exception):
                    return
                raise  # a cancellation (or KeyboardInterrupt) still ends the task
            error = handleable(exc)
            logger.error(
                "session %s ended by a runtime error: %s",
                actor.id,
                describe(error),
                exc_info=error,
                extra={"session_id": actor.id},
            )
        finally:
            if actor.started:
                self._retire(actor)
            elif self._sessions.get(actor.id) is actor:
                del self._sessions[actor.id]
                self._counts[actor.state] -= 1

    def _expire_at(self, session_id: str, deadline: float) -> None:
        """Session ``session_id`` expires at ``deadline`` unless it moves again before."""
        heapq.heappush(self._deadlines, (deadline, session_id))
        if deadline < self._timer.deadline:
            self._timer.deadline = deadline

    async def _expire_sessions(self) -> None:
        """The timer task: sleep until the earliest deadline, expire whoever is due (a
        session whose deadline moved since has a later entry, or none while live)."""
        heap = self._deadlines
        while True:
            with self._timer:
                await trio.sleep_forever()
            now = trio.current_time()
            while heap and heap[0][0] <= now:
                deadline, session_id = heapq.heappop(heap)
                actor = self._sessions.get(session_id)
                if actor is not None and actor._deadline == deadline:
                    actor._maybe_expire()
            # (this frame sleeps until the next deadline: it must not keep the last session
            # it expired, with its whole tree, for as long as the server is idle)
            actor = None
            self._timer = trio.CancelScope(deadline=heap[0][0] if heap else math.inf)

    def _retire(self, actor: SessionActor) -> None:
        self._sessions.pop(actor.id, None)
        self._retired.add(actor)
        end = actor.end
        reason, detail = ("ended", "") if end is None else (end.reason, end.detail)
        self._ended[actor.id] = (reason, detail)
        while len(self._ended) > self.config.ended_memory:
            self._ended.popitem(last=False)


@asynccontextmanager
async def open_runtime(**config: Any) -> AsyncIterator[SessionManager]:
    """Run a SessionManager inside the current trio program; drains sessions on exit.

    Keyword arguments are :class:`RuntimeConfig` fields, or pass ``config=RuntimeConfig()``.
    """
    settings = config.pop("config", None) or RuntimeConfig(**config)
    async with trio.open_nursery() as timers:
        async with trio.open_nursery() as nursery:
            manager = SessionManager(nursery, settings, timers)
            try:
                yield manager
            finally:
                with trio.CancelScope(shield=True):
                    await manager.aclose()
                nursery.cancel_scope.cancel()
        timers.cancel_scope.cancel()
