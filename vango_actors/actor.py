"""SessionActor: one session's state, mailbox and render loop, as one trio task tree.

The actor handles one message at a time (an EVENT, a timer tick, a background result, a
posted call): dispatch, then re-render the dirty components (parents before children), diff
each against its last tree, and send ONE PATCHES frame. Attach and detach are plain method
calls from the connection's task: trio is single-threaded, so they are atomic with respect to
the loop and keep frame order without a mailbox hop.

Acknowledgement rule: every handled EVENT (including duplicates and dropped ones) is answered
by a PATCHES frame whose ``ack`` covers it; when the event changed nothing that frame has no
ops. Every PATCHES frame, ack-only or not, takes the next ``seq`` and enters the replay buffer.
Messages that are not events send nothing when nothing changed.
"""

from __future__ import annotations

import enum
import heapq
import inspect
import math
import types
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import attrs
import trio

from . import diff as _diff
from . import html as _html
from .component import (
    _PLACEHOLDER,
    Component,
    Host,
    SessionInfo,
    check_rendered,
    child_path,
    takes_argument,
)
from .lifecycle import EXPIRES_AFTER, SessionState, Trigger, next_state
from .mailbox import Mailbox
from .navigation import local_url, needs_rich, query_params
from .protocol import (
    VERSION,
    CloseCode,
    Error,
    ErrorCode,
    Event,
    GoAway,
    Hello,
    Reload,
    Welcome,
    encode,
    encode_patches,
)
from .scheduler import Call, Crash
from .supervisor import (
    Escalation,
    MountError,
    RestartTracker,
    crash_message,
    describe,
    handleable,
    logger,
)
from .vdom import ComponentNode, Element, HidCounter, Lazy, Node, Raw, Slot, Text, memoised

if TYPE_CHECKING:
    from .manager import RuntimeConfig

_INF = math.inf

DIRECT_QUEUE, DIRECT_SENT, DIRECT_PARTIAL = 0, 1, 2
"""What ``Attachment.direct(frame)`` did: nothing (the socket would block: queue the frame in
the outbox), sent it whole (or dropped it after close), or sent part and kept the rest (the
outbox reader must flush it: an empty frame in the outbox says so)."""
#: Messages a live actor takes from its mailbox in a row before it yields to other tasks.
_BURST = 64
#: EVENTs an actor polls from its socket in a row (the client floods) before it yields.
_POLL_BURST = 16
#: Navigations handled in a row for one message: the requested one, then those the pages it
#: mounts ask for in mount (an auth guard's redirect); past it, a loop between pages.
_MAX_HOPS = 8
#: Seconds during which a repeated crash (same component, place, exception type) of a session
#: logs one line without its traceback.
_TRACEBACK_PERIOD = 10.0


#: What a handling running in the door's poller task yields where it must wait (_off_poller).
_OFF_POLLER = object()
#: (component class, parent tag) pairs already warned about a duplicate key (once each).
_WARNED_DUPLICATE_KEYS: set[tuple[type, str]] = set()
_WARNED_NO_RICH: set[type] = set()  # page classes whose CALL went to a page without the script


@types.coroutine
def _off_poller() -> Generator[Any, Any, None]:
    """Leave the door's poller task: a handling that ran there (SessionActor.on_ready)
    stops here, before anything that may wait, and the session's own task carries it on."""
    yield _OFF_POLLER


@types.coroutine
def _resume_here(coro: Coroutine[Any, Any, None]) -> Generator[Any, Any, None]:
    """Run ``coro``, stopped at _off_poller in another task, to its end in this one: a
    coroutine begun elsewhere cannot be awaited, so this is ``yield from`` by hand."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            trap = coro.send(value) if error is None else coro.throw(error)
        except StopIteration:
            return
        try:
            value, error = (yield trap), None
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:  # cancellation, KeyboardInterrupt: into the handling
            value, error = None, exc


class ReadAgain(enum.Enum):
    """What an attachment's ``poll`` says when it has no EVENT to give (see read_with)."""

    WAIT = "wait"  # nothing to read yet: await ``wait()``, then poll again
    RECEIVE = "receive"  # something only the async ``reader()`` can take (a control frame)


@attrs.frozen(slots=True)
class SessionStatistics:
    """A snapshot of one session's queues and counters."""

    state: str
    mailbox_size: int  # messages waiting
    outbox_size: int  # frames waiting for the attached connection (0 if none)
    outbox_bytes: int  # their bytes (bounded by RuntimeConfig.outbox_bytes)
    seq: int  # last PATCHES seq
    ack: int  # highest event seq handled
    events_handled: int
    dropped_events: int
    restarts: int
    patches_sent: int
    bytes_sent: int
    resyncs: int


class _Incoming:
    """An EVENT frame from one attachment."""

    __slots__ = ("att", "event")

    def __init__(self, att: Attachment, event: Event) -> None:
        self.att = att
        self.event = event


class _Wake:
    """Wakes a loop blocked in a plain receive (see SessionActor._wake)."""


_WAKE = _Wake()


class _Connect:
    """The session's first claim by a live socket: run every instance's ``connected`` hook
    (SessionActor._connect). Queued first, past the mailbox's bound: it cannot be lost and
    runs before anything the socket sends; a message of its own, so a click pays nothing."""


_CONNECT = _Connect()
Message = _Incoming | Call | Crash | _Wake | _Connect


class _Outbox(Mailbox[bytes]):
    """A connection's outbox: a frame taken from it may let the session send the render it
    held back while the outbox was half full (``Attachment._took``)."""

    __slots__ = ("_att",)

    def __init__(self, att: Attachment, size: int) -> None:
        super().__init__(size)
        self._att = att

    def receive_nowait(self) -> bytes:
        frame = super().receive_nowait()
        self._att._took()
        return frame


def _render_held() -> None:
    """A message that only renders what the session held back (SessionActor._release)."""


class Attachment:
    """One connection's link to its session: an outbox to drain, a mailbox to deliver to.

    ``outbox`` ends when the runtime ends the connection; ``close_code`` / ``close_reason``
    then say why (``REPLACED``, ``SESSION_GONE``, ``GOING_AWAY``...).
    """

    __slots__ = (
        "_actor",
        "_send",
        "backlogged",
        "close_code",
        "close_reason",
        "direct",
        "interrupt",
        "outbox",
        "poll",
        "reader",
        "resyncs",
        "wait",
    )

    def __init__(self, actor: SessionActor, size: int) -> None:
        self._actor = actor
        self._send = self.outbox = _Outbox(self, size)  # one object, both ends
        self.close_code: int = CloseCode.NORMAL
        self.close_reason = ""
        self.resyncs = 0
        # The connection's non-blocking send (see DIRECT_SENT), or None: every frame goes
        # through the outbox. Used only while nothing waits in the outbox (``backlogged``
        # False, which the outbox reader sets once it drained it), so frames keep their order.
        self.direct: Callable[[bytes], int] | None = None
        self.backlogged = True  # attach() queues WELCOME (and catch-up) in the outbox
        # The connection's socket reader, run in the actor's own task while nothing waits in
        # the mailbox (the fast door: no reader task, no mailbox hop per EVENT); see read_with.
        self.reader: Callable[[], Awaitable[Event | None]] | None = None
        # With ``reader``: the same read without waiting, the wait between polls, and what
        # ends that wait early.
        self.poll: Callable[[], Event | ReadAgain | None] | None = None
        self.wait: Callable[[SessionActor], Awaitable[None]] | None = None
        self.interrupt: Callable[[], None] | None = None

    @property
    def session_id(self) -> str:
        return self._actor.id

    @property
    def closed(self) -> bool:
        return self._actor.attachment is not self

    async def deliver(self, event: Event) -> None:
        """Queue ``event`` in the session mailbox; waits while the mailbox is full.

        Not a checkpoint when the mailbox has room (the connection's socket read is one).

        Events from a connection that was replaced or detached are ignored: the client
        re-sends its unacknowledged events on its new connection.
        """
        if self._actor.attachment is not self:
            return
        message = _Incoming(self, event)
        try:
            try:
                self._actor.mailbox.send_nowait(message)  # room: no scheduler round trip
            except trio.WouldBlock:
                await self._actor.mailbox.send(message)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the session ended meanwhile; its outbox has ended too

    def offer(self, event: Event) -> bool:
        """Queue ``event`` if the mailbox has room, without a checkpoint; False if it is full
        (then ``deliver`` waits). Events of a replaced connection are dropped (True)."""
        if self._actor.attachment is not self:
            return True
        try:
            self._actor.mailbox.send_nowait(_Incoming(self, event))
        except trio.WouldBlock:
            return False
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the session ended meanwhile; its outbox has ended too
        return True

    def read_with(
        self,
        reader: Callable[[], Awaitable[Event | None]],
        poll: Callable[[], Event | ReadAgain | None],
        wait: Callable[[SessionActor], Awaitable[None]],
        interrupt: Callable[[], None],
    ) -> None:
        """Let the actor read this connection's socket in its own task whenever its mailbox
        is empty: ``reader()`` waits for and returns the next EVENT (cancelled, losing
        nothing, when a message arrives or the attachment changes), or returns None after
        setting ``reader`` back to None (the connection failed: back to the mailbox).

        Most reads go without a coroutine per read and without a cancel scope: ``poll()``
        is ``reader()`` that never waits (ReadAgain.WAIT: ``await wait(actor)``, which
        ``interrupt()`` ends early, then poll again; ReadAgain.RECEIVE: ``reader()`` this
        time, under a cancel scope of its own).

        ``wait(actor)`` may call ``actor.on_ready()`` in another task (the fast door's
        poller) when the socket becomes readable; the actor then handles the EVENTs there
        without waking its own task when it can (SessionActor.on_ready). A wait that cannot
        (no poller) ignores the actor."""
        self.poll, self.wait, self.interrupt = poll, wait, interrupt
        self.reader = reader
        if self._actor.attachment is self:
            self._actor._poke()

    def emit(self, frame: bytes) -> None:
        """Send ``frame`` (a PONG, an ERROR) in order with the session's frames, without
        waiting: straight to the socket, or through the outbox."""
        if self._actor.attachment is self:
            self._actor._emit(frame)

    def detach(self, going_away: bool = False) -> None:
        """The connection is gone: the session keeps its state for the grace period (the
        short ``going_away_grace`` when the client's page went away: close code 1001)."""
        self._actor.detach(self, going_away)

    @property
    def outbox_bytes(self) -> int:
        """Bytes of the frames waiting in the outbox (at most ``outbox_size`` frames, counted
        when asked: the outbox is only used while the socket is full)."""
        return sum(map(len, self.outbox.values()))

    def _put(self, frame: bytes, max_bytes: int) -> None:
        """Queue ``frame``; WouldBlock when the outbox holds its count of frames, or holds
        frames and ``frame`` would take it past ``max_bytes`` (0: no byte bound; a frame
        alone in the outbox always fits, however large)."""
        if max_bytes and self.outbox and self.outbox_bytes + len(frame) > max_bytes:
            raise trio.WouldBlock
        self._send.send_nowait(frame)

    def _took(self) -> None:
        """The connection took a frame from the outbox: renders the session held back while
        it was half full go out once it is not (SessionActor._hold_back); once it took them
        all, the next overflow counts from zero (``max_resyncs`` counts them in a row)."""
        if not self.outbox:
            self.resyncs = 0
        actor = self._actor
        if actor._held and actor.attachment is self and not actor._backed_up(self):
            actor._release()

    def _close(self, code: int, reason: str) -> None:
        self.close_code = code
        self.close_reason = reason
        self._send.close()


@attrs.define
class _End:
    """Why and how the session ends."""

    reason: str  # "expired", "ended", "shutdown"
    detail: str
    frame: bytes | None = None  # RELOAD or GOAWAY for an attached client
    close_code: int = CloseCode.NORMAL


_NO_REPLAY: deque[tuple[int, bytes]] = deque(maxlen=0)  # ``replay`` before the first frame
_DONE = trio.Event()  # ``done`` of a session that ended before anyone asked for it
_DONE.set()


class SessionActor:
    """One live session: the component tree, hid counter, mailbox, replay buffer, attachment."""

    # Slots: an idle session is mostly this object; with 40 attributes its __dict__ would be a
    # ~1.6 KB table (past the 30 keys a shared-key dict allows). A new attribute goes here.
    __slots__ = (
        "_bound",
        "_calls",
        "_carried",
        "_counts",
        "_deadline",
        "_dirty",
        "_dirty_n",
        "_done",
        "_errors",
        "_expiry",
        "_flash",
        "_focus",
        "_gone_away",
        "_held",
        "_host_bound",
        "_inbox",
        "_nav",
        "_nursery",
        "_on_poller",
        "_ops",
        "_read_scope",
        "_read_wake",
        "_replay",
        "_traced",
        "_wait_scope",
        "_waiting",
        "ack",
        "attachment",
        "bytes_sent",
        "config",
        "connected",
        "dropped_events",
        "end",
        "events_handled",
        "handoff_seq",
        "id",
        "ids",
        "info",
        "mailbox",
        "patches_sent",
        "redirect",
        "remounted",
        "replay_bytes",
        "restarts",
        "resyncs",
        "rich",
        "root",
        "seq",
        "started",
        "state",
        "title",
        "token",
        "url",
    )

    def __init__(
        self,
        session_id: str,
        root: type[Component],
        props: Mapping[str, Any],
        meta: Mapping[str, Any],
        config: RuntimeConfig,
        counts: dict[SessionState, int],
        expiry: Callable[[str, float], None] | None = None,
    ) -> None:
        self.id = session_id
        # The manager's one timer for every deadline (``expiry(id, deadline)``: call
        # _maybe_expire then); without it the loop waits under its own deadline.
        self._expiry = expiry
        self.info = SessionInfo(session_id, meta)
        self.config = config
        self.state = SessionState.PARKED
        self._counts = counts
        counts[SessionState.PARKED] += 1
        self.ids = HidCounter()
        self.seq = 0
        self.ack = 0
        self._replay: deque[tuple[int, bytes]] | None = None  # created by the first frame
        self.replay_bytes = 0  # bytes of the frames in ``replay`` (bounded by config.replay_bytes)
        self.attachment: Attachment | None = None
        self.mailbox = self._inbox = Mailbox[Message](config.mailbox_size)  # both ends
        self.root = Host(self, root, props, None, None, root.__name__)
        self.title: str | None = None
        self.end: _End | None = None
        self._done: trio.Event | None = None  # created when first asked for (see done)
        self._nursery: trio.Nursery | None = None
        self._deadline = trio.current_time() + config.unclaimed_ttl
        self._gone_away = False  # the last connection ended with the page's close 1001
        if expiry is not None:
            expiry(session_id, self._deadline)
        self._wait_scope: trio.CancelScope | None = None
        self._read_scope: trio.CancelScope | None = None  # around Attachment.reader
        self._read_wake: Callable[[], None] | None = None  # ends Attachment.wait (interrupt)
        self._on_poller = False  # handling an EVENT in the door's poller task (on_ready)
        # What on_ready leaves to this task: a handling stopped at _off_poller, or an error
        self._carried: Coroutine[Any, Any, None] | BaseException | None = None
        self._waiting = False  # blocked in a receive without a cancel scope
        self._dirty: list[tuple[int, int, Host]] = []
        self._dirty_n = 0
        self._ops: list[list[Any]] = []
        self._focus: list[tuple[Host, int | None]] = []
        self._errors: list[bytes] = []
        self._calls = False  # a CALL op is among _ops (page_op)
        # renders wait for the client to take frames from a half-full outbox (_hold_back)
        self._held = False
        # (component path, where, exception type) -> when its next traceback may be logged
        self._traced: dict[tuple[str, str, type], float] | None = None
        self._bound: dict[int, Host] = {}
        self._host_bound: dict[Host, dict[int, Element]] = {}
        self.started = False
        # a live socket claimed the session and its instances' ``connected`` hooks ran (or
        # run now): an instance mounted from then on gets its hook right after mount
        self.connected = False
        self.remounted = False  # created from a token: the client's DOM is another server's
        # seq of the last resync an attach sent because the client's DOM came from another
        # server's history: a client that has not applied it yet is not resumed (attach)
        self.handoff_seq = 0
        self.events_handled = 0
        self.dropped_events = 0
        self.restarts = 0
        self.patches_sent = 0
        self.bytes_sent = 0
        self.resyncs = 0
        self.rich = False  # the client has vango.rich.js (decided by the first page)
        self.url = str(meta.get("url", ""))  # the page URL (path?query), for handle_params
        self.token = ""  # the token of the page a live navigation led to ("": the first page's)
        self._flash: dict[str, list[Any]] = {}  # kind -> [message, navigations survived]
        self._nav: tuple[str, bool, bool, bool] | None = None  # url, replace, patch, popstate
        self.redirect: str | None = None  # the first render's mount navigated away: to here

    @property
    def replay(self) -> deque[tuple[int, bytes]]:
        """The last PATCHES frames as (seq, frame), oldest first (for resumes)."""
        return _NO_REPLAY if self._replay is None else self._replay

    @property
    def done(self) -> trio.Event:
        """Set once the session has ended and unmounted everything."""
        if self._done is None:
            self._done = trio.Event()
        return self._done

    # ------------------------------------------------------------------ Runtime protocol

    def request_navigation(self, url: str, replace: bool, patch: bool) -> None:
        self._nav = (_against(url, self.url), replace, patch, False)

    def flashes(self) -> dict[str, list[Any]]:
        return self._flash

    def mark_dirty(self, host: Host) -> None:
        self._dirty_n += 1
        heapq.heappush(self._dirty, (host.depth, self._dirty_n, host))

    def page_op(self, op: list[Any]) -> None:
        if op[0] == 9:
            self.title = op[1]
        elif op[0] == 13:
            self._calls = True  # the output orders them (_calls_last)
            if not self.rich and self.root.tree is not _PLACEHOLDER:
                self._warn_no_rich(op[1])  # (while the page mounts, the op decides: _wants_rich)
        self._ops.append(op)

    def _warn_no_rich(self, name: str) -> None:
        """Log once per page class a CALL the client will ignore: the page did not load
        vango.rich.js (its first render had no marker of it)."""
        cls = self.root.cls
        if cls not in _WARNED_NO_RICH:
            _WARNED_NO_RICH.add(cls)
            logger.warning(
                "session %s: CALL %r needs vango.rich.js, which page %s does not load (its "
                "first render has no data-js-*, data-vango-hook, data-vango-upload... "
                "attribute): the browser ignores it; set rich_client = True on its class",
                self.id,
                name,
                cls.__name__,
                extra={"session_id": self.id, "where": "page_op"},
            )

    def focus(self, host: Host, hid: int | None) -> None:
        self._focus.append((host, hid))

    def task_nursery(self) -> trio.Nursery:
        if self._nursery is None or self.end is not None:
            raise trio.ClosedResourceError(f"session {self.id} is not running")
        return self._nursery

    async def send(self, message: Call | Crash) -> None:
        await self.mailbox.send(message)
        self._stop_reading()

    def send_nowait(self, message: Call | Crash) -> None:
        """Queue ``message`` without waiting; trio.WouldBlock when the mailbox is full."""
        self.mailbox.send_nowait(message)
        self._stop_reading()

    # ------------------------------------------------------------------ task

    async def run(self, *, task_status: trio.TaskStatus[str]) -> None:
        """Mount and render the root, report its HTML, then serve the mailbox until the end.

        Raises MountError (before reporting) if the root fails to mount or render.
        """
        failure: Exception | None = None
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            try:
                await self._start_instance(self.root)
                html = _html.render(self.root.tree)  # (a value it cannot render fails here)
            except Exception as exc:
                failure = exc
                # What did mount (siblings of the failed child, the failed instance itself)
                # is unmounted as at a session's end: else its unmount() never ran and its
                # pub/sub subscriptions stayed in the hub, feeding this dead session's mailbox.
                await self._unmount_subtree(self.root)
                nursery.cancel_scope.cancel()
            else:
                self.started = True
                # the page loads vango.rich.js
                self.rich = needs_rich(self.root.cls, html) or _wants_rich(self._ops)
                if self._nav is not None and not self._nav[2]:
                    # mount navigated (an auth guard's navigate("/login")): the page is not
                    # shown; the creator sends the browser there (HTTP 302), the session ends
                    self.redirect = self._nav[0]
                    self._finish("ended", f"the page navigated to {self.redirect} in mount")
                self._nav = None  # (a push_patch while mounting: the URL is the request's)
                self._ops.clear()
                self._errors.clear()
                task_status.started(html)
                del html, task_status  # this frame lives as long as the session: keep neither
                try:
                    await self._loop()
                finally:
                    await self._shutdown()
                    nursery.cancel_scope.cancel()
        if failure is not None:
            raise MountError(self.root.path, failure) from failure

    async def _loop(self) -> None:
        receive = self._inbox.receive
        receive_nowait = self._inbox.receive_nowait
        burst = 0
        while self.end is None:
            # Live, or parked/disconnected with the manager's timer keeping the deadline: no
            # cancel scope here (and no attachment to read while not live).
            if self._deadline == _INF or self._expiry is not None:
                # Messages already queued are taken without a trip through the scheduler,
                # up to _BURST in a row while the connection keeps up with the frames; then
                # (or when empty) a real receive, which is a checkpoint.
                try:
                    if burst >= _BURST or self._outbox_backlog() >= _BURST:
                        raise trio.WouldBlock
                    message = receive_nowait()
                    burst += 1
                except trio.WouldBlock:
                    message = None  # waits happen outside the except: a session waiting
                    # there would keep the WouldBlock and its traceback (~0.7 KB) meanwhile
                if message is None:
                    att = self.attachment
                    if att is not None and att.reader is not None:
                        if burst >= _BURST or self._outbox_backlog() >= _BURST:
                            await trio.lowlevel.checkpoint()
                        burst = 0
                        await self._serve_reads(att)
                        continue
                    burst = 0
                    self._waiting = True
                    message = await receive()
                    self._waiting = False
            else:
                with trio.CancelScope(deadline=self._deadline) as scope:
                    self._wait_scope = scope
                    message = await receive()
                self._wait_scope = None
                if scope.cancelled_caught:
                    self._maybe_expire()
                    continue
            if message is None or message is _WAKE:
                continue
            try:
                await self._handle(message)
            except Escalation as exc:
                self._escalated(exc)
        await self._finish_in_flight()

    async def _finish_in_flight(self) -> None:
        """Draining: handle the events already in the mailbox so their acks precede GOAWAY.

        An event the server handled but never acknowledged would be re-sent to the next
        worker and applied twice; one it never handled is re-sent and applied there once.
        """
        end = self.end
        if end is None or end.reason != "shutdown" or self.attachment is None:
            return
        for _ in range(self._inbox.statistics().current_buffer_used):
            try:
                message = self._inbox.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel):
                return
            if type(message) is _Incoming:
                try:
                    await self._handle(message)
                except Escalation as exc:
                    self._escalated(exc)
                    return

    def _escalated(self, exc: Escalation) -> None:
        """End the session past a component's restart budget: the page reloads (RELOAD),
        unless the budget went on ``connected`` hooks as the page connected. The reloaded page
        would connect and fail again, as fast as it loads (a database down): the page is told
        (ERROR) and closed with 1008, on which the client stops and asks the user to reload."""
        logger.error(
            "session %s ends: %s",
            self.id,
            exc,
            extra={"session_id": self.id, "component": exc.path, "where": "escalation"},
        )
        if exc.at_connect:
            message = f"{exc.path} failed as the page connected: reload the page to try again"
            frame = encode(Error(ErrorCode.COMPONENT_CRASHED, message))
            self._finish("ended", str(exc), frame, CloseCode.POLICY_VIOLATION)
            return
        self._finish("ended", str(exc), encode(Reload(str(exc))), CloseCode.SESSION_GONE)

    def _outbox_backlog(self) -> int:
        att = self.attachment
        if att is None or not att.backlogged:  # direct sends: the outbox is empty
            return 0
        return att._send.statistics().current_buffer_used

    async def _serve_reads(self, att: Attachment) -> None:
        """The live loop while this task reads ``att``'s socket (the fast door): the next
        EVENT from the socket when the mailbox is empty, else the queued messages (up to
        ``_BURST`` in a row), each handled here. Returns when the attachment, its reader, the
        deadline or the end changed.

        Each EVENT is polled (``att.poll``); between polls the task awaits only readability
        (``att.wait``), which a wake (``_stop_reading``) ends through ``att.interrupt``: no
        read coroutine per event and no cancel scope, so an idle session keeps neither. A
        control frame (ReadAgain.RECEIVE) is read by ``att.reader`` under a cancel scope of
        its own; a wake cancels only such a read, never a handler. EVENTs that come during
        a wait may be handled by the door's poller (``on_ready``): this task then wakes only
        for what they leave to it (``_carried``) or for a wake.
        """
        reader, poll, wait, interrupt = att.reader, att.poll, att.wait, att.interrupt
        assert reader is not None and poll is not None and wait is not None  # (read_with)
        inbox = self._inbox
        burst = 0
        polled = 0  # events polled in a row without a wait (or a checkpoint)
        while self._reading(att, reader):
            # (an empty mailbox is looked at, not asked: raising and catching WouldBlock
            # once per event cost ~1 µs; a closed empty one still raises EndOfChannel)
            if (inbox or inbox.closed) and burst < _BURST and self._outbox_backlog() < _BURST:
                message: Message | None = inbox.receive_nowait()
                burst += 1
            else:
                message = None
            if message is None:
                if burst >= _BURST or polled >= _POLL_BURST or self._outbox_backlog() >= _BURST:
                    burst = polled = 0
                    await trio.lowlevel.checkpoint()  # then the mailbox again
                    continue
                burst = 0
                event = poll()
                if event is ReadAgain.WAIT:
                    polled = 0
                    self._read_wake = interrupt
                    await wait(self)  # (the actor itself: no bound method kept while idle)
                    if self._carried is not None:  # left by on_ready meanwhile
                        self._read_wake = None
                        await self._carry_on()
                        continue
                    if self._read_wake is None:  # woken: the loop's conditions changed
                        continue
                    self._read_wake = None
                    # (only a wake changes them, and the mailbox: poll again at once)
                    event = poll()
                    if event is ReadAgain.WAIT:
                        continue  # a spurious wake
                if event is ReadAgain.RECEIVE:
                    polled = 0
                    got: Event | None = None
                    with trio.CancelScope() as scope:
                        self._read_scope = scope
                        got = await reader()
                    self._read_scope = None
                    if scope.cancelled_caught:
                        continue  # woken before an EVENT came
                    event = got  # (one that came as the wake did is handled all the same)
                else:
                    polled += 1
                if event is None:
                    return  # the reader stopped (and set att.reader to None)
                message = _Incoming(att, event)
            if message is not _WAKE:
                await self._handle_escalating(message)

    def _reading(self, att: Attachment, reader: Callable[[], Awaitable[Event | None]]) -> bool:
        """``_serve_reads`` goes on reading ``att`` with ``reader`` (nothing changed them)."""
        return (
            self.end is None
            and self._deadline == _INF
            and self.attachment is att
            and att.reader is reader
        )

    def on_ready(self) -> bool:
        """The socket is readable while this loop waits on it (Attachment.read_with): handle
        its EVENTs here, in the door's poller task, sparing this task a wake. True when all
        was read and the wait goes on; False to wake the task: something only it can do (a
        mailbox message, a control frame, a changed attachment), or a handling that must
        wait (it stops at ``_off_poller``: ``_carried``, which the task carries on)."""
        att = self.attachment
        if att is None or att.poll is None or att.reader is None:
            return False
        poll, reader, inbox = att.poll, att.reader, self._inbox
        handled = 0
        while (
            self._read_wake is not None  # the loop waits (not woken meanwhile)
            and self._reading(att, reader)
            and not (inbox or inbox.closed)
            and handled < _POLL_BURST
            and self._outbox_backlog() < _BURST
        ):
            event = poll()
            if event is ReadAgain.WAIT:
                return True
            if type(event) is not Event:
                return False  # RECEIVE or None: the task's own read sees it
            handled += 1
            handling = self._handle_escalating(_Incoming(att, event))
            self._on_poller = True
            try:
                stop = handling.send(None)
            except StopIteration:
                continue
            except BaseException as exc:  # the task raises it, as if it had handled this
                self._carried = exc
                return False
            finally:
                self._on_poller = False
            if stop is not _OFF_POLLER:  # an await without _off_poller before it: a bug
                handling.close()
                self._carried = RuntimeError(f"a handling awaited {stop!r} in the door's poller")
                return False
            self._carried = handling  # stopped at _off_poller: the task carries it on
            return False
        return False

    async def _carry_on(self) -> None:
        """Finish in this task what ``on_ready`` began (or raise what it met)."""
        carried, self._carried = self._carried, None
        if isinstance(carried, BaseException):
            raise carried
        assert carried is not None
        await _resume_here(carried)

    async def _handle_escalating(self, message: Message) -> None:
        try:
            await self._handle(message)
        except Escalation as exc:
            self._escalated(exc)

    def _stop_reading(self) -> None:
        """Wake a loop waiting on its connection's socket (see Attachment.read_with); a no-op
        unless a read waits (see _serve_reads). Clearing ``_read_wake`` tells the wait that
        returned meanwhile it was woken. (An outer cancellation may leave either set: ending
        a wait or cancelling a scope that is over does nothing.)"""
        wake = self._read_wake
        if wake is not None:
            self._read_wake = None
            wake()
        scope = self._read_scope
        if scope is not None:
            self._read_scope = None
            scope.cancel()

    def _poke(self) -> None:
        """Make the loop look at its mailbox, attachment and deadline again, wherever it waits."""
        if self._wait_scope is not None:
            self._wait_scope.cancel()
        self._wake()

    def _wake(self) -> None:
        """Make a loop blocked in a plain receive look at its deadline and end flag again."""
        self._stop_reading()
        if self._waiting:
            self._waiting = False
            try:
                self.mailbox.send_nowait(_WAKE)
            except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
                pass  # a full mailbox wakes the loop anyway

    def _maybe_expire(self) -> None:
        if self.end is None and trio.current_time() >= self._deadline:
            field = EXPIRES_AFTER[self.state]
            seconds = getattr(self.config, field)
            what = "not claimed" if self.state is SessionState.PARKED else "no connection"
            if self.state is SessionState.DISCONNECTED and self._gone_away:
                field, what = "going_away_grace", "the page went away (close 1001), no connection"
                seconds = min(seconds, self.config.going_away_grace)
            self._finish("expired", f"{what} within {seconds} s ({field})")

    def stop(self, reason: str = "server shutting down") -> None:
        """Ask the session to end (GOAWAY to a live client, then unmount everything)."""
        self._finish("shutdown", reason, encode(GoAway(reason)), CloseCode.GOING_AWAY)

    def _finish(
        self, reason: str, detail: str, frame: bytes | None = None, code: int = CloseCode.NORMAL
    ) -> None:
        if self.end is None:
            self.end = _End(reason, detail, frame, code)
            if self._wait_scope is not None:
                self._wait_scope.cancel()
            self._wake()

    async def _shutdown(self) -> None:
        if self.end is None:  # the loop raised: a runtime bug, logged by the manager
            reason = "internal error: reload the page"
            self.end = _End("ended", reason, encode(Reload(reason)), CloseCode.INTERNAL_ERROR)
        att = self.attachment
        if att is not None:
            if self.end.frame is not None:
                self._emit(self.end.frame)
            self.attachment = None
            att._close(self.end.close_code, self.end.detail)
        self._move(Trigger.END)
        self._inbox.close()
        try:
            await self._unmount_subtree(self.root)
        finally:
            if self._done is None:
                self._done = _DONE
            self._done.set()

    def _move(self, trigger: Trigger) -> None:
        new = next_state(self.state, trigger)
        self._counts[self.state] -= 1
        self._counts[new] += 1
        self.state = new

    def _set_deadline(self, deadline: float) -> None:
        self._deadline = deadline
        if self._expiry is not None and deadline != _INF:
            self._expiry(self.id, deadline)
        if self._wait_scope is not None:
            self._wait_scope.deadline = deadline
        self._wake()

    # ------------------------------------------------------------------ attach / detach

    def attach(self, hello: Hello) -> Attachment:
        """Make ``hello``'s connection the session's one connection; queue WELCOME + catch-up."""
        old = self.attachment
        if old is not None:
            self.attachment = None
            old._close(CloseCode.REPLACED, "another connection claimed the session")
        # A client whose last connection broke before it applied the handoff resync still
        # has the other server's DOM and holds its events for a resync: it is not resumed
        # either (a resumed WELCOME would release them, with stale hids). The handoff resync
        # is numbered past the client's frames, so such a client's last_seq is below it
        # (or, its WELCOME lost too, above this session's seq).
        first = self.state is SessionState.PARKED
        resumed = not first and self.handoff_seq <= hello.last_seq <= self.seq
        self._move(Trigger.ATTACH)
        att = Attachment(self, self.config.outbox_size)
        self.attachment = att
        self._set_deadline(_INF)
        hb = self.config.heartbeat_ms
        self._emit(encode(Welcome(VERSION, self.seq, self.ack, hb, resumed)))
        if not resumed and (self.remounted or hello.last_seq > 0 or self.handoff_seq):
            # The client's DOM and seqs come from another server's history (a remount, or a
            # page that applied frames elsewhere before reaching this parked session).
            self.remounted = False
            self.seq = max(self.seq, hello.last_seq)  # (a resync applies across a gap)
            self._emit(self._resync_frame(hello.url))
            self.handoff_seq = self.seq
        else:
            self._catch_up(hello.last_seq, hello.url)
        if self._held:  # (what was held back is not in the catch-up: render it now)
            self._release()
        if first:  # the page is live now: the loop runs the ``connected`` hooks next
            try:
                self._inbox.send_first(_CONNECT)
            except trio.ClosedResourceError:
                pass  # the session is ending: no hooks for it
        return att

    def _catch_up(self, last_seq: int, shown: str) -> None:
        """Send what the client at ``last_seq`` has not applied: the frames after it when the
        replay buffer still holds them all, else a resync (``shown``: the client's URL)."""
        if last_seq == self.seq:
            return
        missing = self.seq - last_seq
        replay = self.replay
        if 0 < missing < self.config.outbox_size and replay and replay[0][0] <= last_seq + 1:
            for seq, frame in replay:
                if seq > last_seq:
                    self._emit(frame)
        else:
            self._emit(self._resync_frame(shown))

    def detach(self, att: Attachment, going_away: bool = False) -> None:
        """``going_away``: the client closed with 1001 (its page was closed or left), so no
        reconnect is coming: keep the session only ``going_away_grace`` (presence updates,
        memory is freed); any other end (a blip, a cut) keeps it ``grace_period``."""
        if att is not self.attachment:
            return
        self.attachment = None
        att._close(CloseCode.NORMAL, "detached")
        self._move(Trigger.DETACH)
        grace = self.config.grace_period
        if going_away:
            grace = min(grace, self.config.going_away_grace)
        self._gone_away = going_away
        self._set_deadline(trio.current_time() + grace)

    # ------------------------------------------------------------------ output

    def _emit(self, frame: bytes, max_bytes: int | None = None) -> None:
        """Send ``frame`` to the attached connection: straight to its socket, else through
        the outbox, bounded by ``outbox_size`` frames and ``max_bytes`` (default
        ``outbox_bytes``); a full outbox is coalesced into a resync (``_overflow``)."""
        att = self.attachment
        if att is None:
            return
        direct = att.direct
        if direct is not None and not att.backlogged:  # one hop: straight to the socket
            sent = direct(frame)
            if sent == DIRECT_SENT:
                self.bytes_sent += len(frame)
                return
            att.backlogged = True
            if sent == DIRECT_PARTIAL:  # the transport keeps the rest: the outbox reader
                self.bytes_sent += len(frame)  # flushes it on the empty frame
                frame = b""
        try:
            att._put(frame, self.config.outbox_bytes if max_bytes is None else max_bytes)
        except trio.WouldBlock:
            self._overflow(att)
            return
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.detach(att)  # the connection stopped reading its outbox
            return
        self.bytes_sent += len(frame)

    def _overflow(self, att: Attachment) -> None:
        """The client reads too slowly: drop queued patches, resync, or detach at the limit."""
        kept: list[bytes] = []
        while True:
            try:
                frame = Mailbox.receive_nowait(att.outbox)  # (not the client taking it)
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                break
            if not frame or frame[1] != 4:  # not PATCHES (WELCOME, ERROR, a flush): keep it
                kept.append(frame)
        att.resyncs += 1
        self.resyncs += 1
        if att.resyncs > self.config.max_resyncs:
            self.attachment = None
            att._close(
                CloseCode.INTERNAL_ERROR,
                f"outbox overflow: the client read too slowly ({self.config.max_resyncs} resyncs)",
            )
            self._move(Trigger.DETACH)
            self._set_deadline(trio.current_time() + self.config.grace_period)
            return
        for frame in [*kept, self._resync_frame()]:
            self._emit(frame, max_bytes=0)  # the resync goes in, whatever its size

    def _resync_frame(self, shown: str | None = None) -> bytes:
        """The whole page in one frame. ``shown`` is the URL the client shows (HELLO): when
        it is not the session's page (a copy of the page from before a live navigation, a
        page whose navigation answer fell out of the replay buffer), the frame also puts the
        page's URL in the address bar (PUSH_URL, replace) and hands over its token (TOKEN: a
        later remount mounts this page, not the one the client's HTML came with)."""
        ops: list[list[Any]] = [[7, 0, _html.render(self.root.tree)]]
        if self.title is not None:
            ops.append([9, self.title])
        if shown is not None and self.url and _page_of(shown) != _page_of(self.url):
            ops.append([8, self.url, True])
            if self.token:
                ops.append([12, self.token])
        return self._patches(ops)

    def _patches(self, ops: list[list[Any]]) -> bytes:
        self.seq += 1
        frame = encode_patches(self.seq, self.ack, ops)
        self._keep(frame)
        self.patches_sent += 1
        return frame

    def _keep(self, frame: bytes) -> None:
        """Put ``frame`` in the replay buffer; the oldest frames leave it past ``replay_size``
        frames or ``replay_bytes`` bytes (a resume from before them gets a resync)."""
        replay = self._replay
        if replay is None:
            if self.config.replay_size == 0:
                return
            replay = self._replay = deque(maxlen=self.config.replay_size)
        if len(replay) == replay.maxlen:
            self.replay_bytes -= len(replay[0][1])
        replay.append((self.seq, frame))
        self.replay_bytes += len(frame)
        limit = self.config.replay_bytes
        while self.replay_bytes > limit and replay:
            self.replay_bytes -= len(replay.popleft()[1])

    def _send_output(self, answer_event: bool) -> None:
        if self._errors:
            errors, self._errors = self._errors, []
            for frame in errors:
                self._emit(frame)
        if self._focus:
            self._flush_focus()
        if self._ops or answer_event:
            ops, self._ops = self._ops, []
            if self._calls:  # (a click of a page without CALLs skips the reordering)
                ops, self._calls = _calls_last(ops), False
            self._emit(self._patches(ops))

    def _flush_focus(self) -> None:
        for host, hid in self._focus:
            if host.alive:
                self._ops.append([10, host.tree.hid if hid is None else hid])
        self._focus.clear()

    # ------------------------------------------------------------------ messages

    async def _handle(self, message: Message) -> None:
        assert not isinstance(message, _Wake)
        if type(message) is _Incoming:
            if message.att is not self.attachment:
                return
            await self._on_event(message.event)
            if self._nav is not None:
                if self._on_poller:
                    await _off_poller()
                await self._navigations()
            await self._flush()
            if message.event.type == "submit":
                self._resync_submitted(message.event)
            self._send_output(True)
            return
        assert not isinstance(message, _Incoming)
        if message is _CONNECT:
            await self._connect()
        else:
            assert not isinstance(message, _Connect)
            host = message.host
            if host is not None and (not host.alive or host.generation != message.generation):
                return  # addressed to an instance that has been unmounted or restarted
            if isinstance(message, Crash):
                await self._crash(message.host, message.exc, message.where)
            else:
                await self._on_call(message)
                if message.handled is not None:
                    message.handled.set()
        if self._nav is not None:
            await self._navigations()
        if self._hold_back():
            return
        await self._flush()
        self._send_output(False)

    def _hold_back(self) -> bool:
        """A server push (timer, post, pub/sub) while the client has not taken half the
        outbox yet: keep the components dirty instead of queueing one more frame. The client
        needs the latest render, not each one: when it takes a frame (Attachment._took) one
        render sends every change since, where frames would pile up to an overflow (a resync
        that replaces the page, then close 1011). Events are answered at once (acks)."""
        att = self.attachment
        if att is None or not att.backlogged or not self._backed_up(att):
            return False
        self._held = True
        return True

    def _backed_up(self, att: Attachment) -> bool:
        """Half the outbox is taken, in frames or in bytes."""
        queued = len(att.outbox)
        if queued * 2 >= self.config.outbox_size:
            return True
        limit = self.config.outbox_bytes
        return queued > 0 and limit > 0 and att.outbox_bytes * 2 >= limit

    def _release(self) -> None:
        """Render what ``_hold_back`` kept: a message of its own (a full mailbox needs none:
        its next message renders, or holds back again)."""
        self._held = False
        try:
            self.send_nowait(Call(None, 0, _render_held, (), "render"))
        except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    async def _on_call(self, call: Call) -> None:
        host = call.host
        try:
            result = call.fn(*call.args)
            if result is not None and inspect.isawaitable(result):
                await result
        except BaseException as exc:
            error = handleable(exc)
            if host is None:
                logger.error(
                    "session %s: %s failed: %s",
                    self.id,
                    call.where,
                    describe(error),
                    exc_info=error,
                    extra={"session_id": self.id, "where": call.where},
                )
                return
            await self._crash(host, error, call.where)
            return
        if host is not None:
            host.mark_dirty()

    async def _on_event(self, event: Event) -> None:
        if event.seq <= self.ack:
            return  # a duplicate (re-sent across a reconnect): acknowledged, not applied
        self.ack = event.seq
        self.events_handled += 1
        if event.hid == 0 and event.type == "nav":
            self._on_nav_event(event)
            return
        host = self._bound.get(event.hid)
        element = None if host is None else self._host_bound[host].get(event.hid)
        binding = None if element is None else element.events.get(event.type)
        if binding is None:
            self._drop(event, host is not None)
            return
        assert host is not None
        handler = binding.handler
        owner = _owner(handler, host)
        try:
            result = handler(event) if takes_argument(handler) else handler()
            if result is not None and inspect.isawaitable(result):
                if self._on_poller:
                    await _off_poller()
                await result
        except BaseException as exc:
            if self._on_poller:
                await _off_poller()
            await self._crash(owner, handleable(exc), f"on_{event.type} handler")
            return
        owner.mark_dirty()

    def _resync_submitted(self, event: Event) -> None:
        """After a submit: the form's text fields rendered with a value other than the one the
        browser submitted get it again (``value=""`` clears a field; see diff.resync_submitted)."""
        form = event.payload.get("form")
        host = self._bound.get(event.hid)
        if type(form) is not dict or host is None or not host.alive:
            return
        element = self._host_bound[host].get(event.hid)
        if element is not None:
            done = {op[1] for op in self._ops if op[0] == 3 and op[2] == "value"}
            self._ops.extend(_diff.resync_submitted(element, form, done, self.root.tree))

    def _on_nav_event(self, event: Event) -> None:
        """The client followed a live link or went back/forward (``pop``: URL already shown)."""
        url = event.payload.get("url")
        if type(url) is not str or local_url(url) is None:
            message = f"nav event: expected a local URL str in 'url', got {url!r}"
            self._errors.append(encode(Error(ErrorCode.UNKNOWN_TARGET, message)))
            return
        pop = event.payload.get("pop") is True
        # a live link to the same page patches it (handle_params), as a server push_patch
        self._nav = (url, event.payload.get("replace") is True, True, pop)

    async def _navigations(self) -> None:
        """Run the requested navigation, then those the pages it mounts ask for in their
        ``mount`` (an auth guard's ``navigate("/login")``), at most ``_MAX_HOPS``. A later hop
        takes the first one's place in history: the page it leaves was never shown."""
        assert self._nav is not None
        _, replace, _, pop = self._nav
        await self._navigate()
        for _ in range(_MAX_HOPS - 1):
            if self._nav is None or self.end is not None:
                return
            url, _, patch, _ = self._nav
            if patch and url == self.url:  # handle_params patching to where it is: done
                self._nav = None
                return
            self._ops = [op for op in self._ops if op[0] != 8]  # (PUSH_URL)
            self._nav = (url, replace, patch, pop)
            await self._navigate()
        if self._nav is not None:
            logger.error(
                "session %s: more than %d navigations in a row (pages that navigate in mount "
                "to each other?); stopped at %s",
                self.id,
                _MAX_HOPS,
                self.url,
                extra={"session_id": self.id, "where": "navigation"},
            )
            self._nav = None

    async def _navigate(self) -> None:
        """Run the requested navigation: a patch (same page) or a remount of the root."""
        assert self._nav is not None
        url, replace, patch, pop = self._nav
        self._nav = None
        navigator = getattr(self.config, "navigator", None)
        dest = None if navigator is None or local_url(url) is None else navigator(url, self.info)
        if dest is None:
            if patch and navigator is None and local_url(url) is not None:
                await self._patch_params(url, replace, pop)  # no router (tests): same page
            elif pop and local_url(url) is not None:
                # Back/Forward to a page not reached live: the URL shows already, and a
                # REDIRECT (location.assign) would push it again, dropping Forward. RELOAD
                # loads what the address bar shows, in place.
                reason = f"{url} is loaded as a page"
                self._finish("ended", reason, encode(Reload(reason)), CloseCode.SESSION_GONE)
            else:
                self._ops.append([11, url])  # not a live page: the browser loads it (§6.1)
            return
        same = dest.component is self.root.cls and dict(dest.props) == dict(self.root.props)
        if same and (patch or pop):
            await self._patch_params(url, replace, pop)
        else:
            await self._remount(url, dest, replace, pop)

    async def _patch_params(self, url: str, replace: bool, pop: bool) -> None:
        self.url = url
        # after Back/Forward (pop) the URL shows already; writing it again puts right what
        # the answers to events sent before the pop (a push_patch's replace) wrote there
        self._ops.append([8, url, replace or pop])
        host = self.root
        if host.instance is not None:
            await self._handle_params(host)
            host.mark_dirty()

    async def _remount(self, url: str, dest: Any, replace: bool, pop: bool) -> None:
        """Unmount the page, mount ``dest.component`` in this session, send it whole."""
        await self._unmount_subtree(self.root)
        kept = [op for op in self._ops if op[0] == 13]  # JS calls of the old page still run
        self._ops = []
        self._age_flash()
        self.url = url
        self.info = SessionInfo(self.id, {**self.info.data, **dest.meta})
        self.title = dest.title
        cls = dest.component
        self.root = Host(self, cls, dict(dest.props), None, None, cls.__name__)
        try:
            await self._start_instance(self.root)
        except Escalation:
            # The page at ``url`` cannot mount: the session ends with RELOAD. Show ``url``
            # first, so the reload loads it (its error page, or the page if the failure has
            # passed), not the page the user left (a pop shows ``url`` already).
            if not pop:
                self._emit(self._patches([[8, url, replace]]))
            raise
        markup = _html.render(self.root.tree)
        ops: list[list[Any]] = [[7, 0, markup]]
        if self.title is not None:
            ops.append([9, self.title])
        ops.append([8, url, replace or pop])  # (pop: see _patch_params)
        self.token = dest.token
        if dest.token:
            ops.append([12, dest.token])
        if not self.rich and (dest.rich or needs_rich(cls, markup) or _wants_rich(self._ops)):
            # the page lacks vango.rich.js, which the new page needs: a full load of the URL
            ops = [[11, url]]
        # the old page's other ops are void; the new page's own (set_title...) follow
        self._ops = [*kept, *ops, *self._ops]

    def _age_flash(self) -> None:
        for kind, entry in list(self._flash.items()):
            if entry[1] >= 1:
                del self._flash[kind]
            else:
                entry[1] += 1

    async def _handle_params(self, host: Host) -> None:
        handler = getattr(host.instance, "handle_params", None)
        if handler is None:
            return
        try:
            result = handler(query_params(self.url))
            if result is not None and inspect.isawaitable(result):
                await result
        except BaseException as exc:
            await self._crash(host, handleable(exc), "handle_params")

    def _drop(self, event: Event, known_hid: bool) -> None:
        self.dropped_events += 1
        if known_hid:
            message = f"event {event.type!r} on h{event.hid}: the element does not bind it"
        else:
            message = f"event {event.type!r} on h{event.hid}: no element with that hid is bound"
        self._errors.append(encode(Error(ErrorCode.UNKNOWN_TARGET, message)))

    # ------------------------------------------------------------------ rendering

    async def _flush(self) -> None:
        """Re-render dirty components, parents before children, collecting their ops."""
        dirty = self._dirty
        while dirty:
            host = heapq.heappop(dirty)[2]
            if not host.dirty or not host.alive:
                continue
            try:
                await self._rerender(host)  # host.dirty stays set: assignments in render are no-ops
            except Escalation:
                raise
            except BaseException as exc:
                if self._on_poller:
                    await _off_poller()
                await self._crash(host, handleable(exc), "render")
            host.dirty = False

    async def _rerender(self, host: Host) -> None:
        resolved, removed, found = await self._render(host, memoise=True)
        try:
            copies = self.ids.copies
            ops, tree = _diff.diff(host.tree, resolved, self.ids)
            host.tree = tree  # type: ignore[assignment]  # an Element root stays an Element
            self._index(host, found, copies)
            self._ops.extend(ops)
        finally:
            if self.ids.duplicate_keys:
                self._warn_duplicate_keys(host)
            if removed and self._on_poller:
                await _off_poller()
            for child in removed:
                await self._unmount_subtree(child)

    def _warn_duplicate_keys(self, host: Host) -> None:
        """Log once per (component class, parent tag) a keyed list of ``host`` that repeats a
        key (the diff matched it by position, so the page stays right); clear the notes."""
        for tag, key in self.ids.duplicate_keys:
            if (host.cls, tag) not in _WARNED_DUPLICATE_KEYS:
                _WARNED_DUPLICATE_KEYS.add((host.cls, tag))
                logger.warning(
                    "session %s: %s: duplicate key %r among the children of <%s>; keys must "
                    "be unique among siblings: that list is matched by position instead "
                    "(slower, and an element's state follows its place, not its key)",
                    self.id,
                    host.path,
                    key,
                    tag,
                    extra={"session_id": self.id, "component": host.path, "where": "render"},
                )
        self.ids.duplicate_keys.clear()

    async def _render(
        self, host: Host, memoise: bool = False
    ) -> tuple[Element, list[Host], list[Element] | None]:
        """Render ``host``'s instance; resolve its child components (start new ones). Also
        the tree's elements that bind events, or None when the walk cannot tell (_Resolver).
        A re-render is ``memoise``d (vdom.memoised); a first render keeps no memo, so a
        component that never re-renders (most idle ones) holds none."""
        assert host.instance is not None
        render = host.instance.render
        if memoise:
            result, host.memo = memoised(render, host.memo)
        else:
            result = render()
        raw = check_rendered(host, result)
        old = host.children
        new: dict[tuple[type, object, int], Host] = {}
        fresh: list[Host] = []
        updated: list[Host] = []
        resolver = _Resolver(self, host, old, new, fresh, updated)
        resolved = resolver.node(raw)
        assert type(resolved) is Element
        host.children = new
        removed = [child for key, child in old.items() if new.get(key) is not child] if old else []
        if (fresh or updated) and self._on_poller:
            await _off_poller()
        for child in fresh:
            await self._start_instance(child)
        for child in updated:
            await self._update(child)
        return resolved, removed, None if resolver.shared else resolver.bound

    async def _update(self, child: Host) -> None:
        instance = child.instance
        if instance is None:
            return
        try:
            result = instance.update(child.props)
            if result is not None and inspect.isawaitable(result):
                await result
        except BaseException as exc:
            await self._crash(child, handleable(exc), "update")
            return
        child.mark_dirty()

    async def _start_instance(self, host: Host) -> None:
        """Mount a fresh instance and render it with fresh hids; restart on failure."""
        while True:
            host.dirty = True  # no re-render requests while mounting and rendering
            instance = host.new_instance()
            where = "mount"
            try:
                result = instance.mount(host.props)
                if result is not None and inspect.isawaitable(result):
                    await result
                if host is self.root and hasattr(instance, "handle_params"):
                    result = instance.handle_params(query_params(self.url))
                    if result is not None and inspect.isawaitable(result):
                        await result
                if self.connected and (hook := _connected_hook(instance)) is not None:
                    where = "connected"  # a live session: its hook now, before the first render
                    result = hook()
                    if result is not None and inspect.isawaitable(result):
                        await result
                    where = "mount"
                resolved, _, found = await self._render(host)
                copies = self.ids.copies
                host.tree = _diff.assign_hids(resolved, self.ids)  # type: ignore[assignment]
                if self.ids.duplicate_keys:
                    self._warn_duplicate_keys(host)
                host.dirty = False
                self._index(host, found, copies)
                return
            except Escalation:
                raise
            except BaseException as exc:
                error = handleable(exc)
                if host is self.root and not self.started:
                    if error is exc:
                        raise
                    raise error from exc
                self._record_crash(host, error, where)
                await self._teardown(host)

    async def _connect(self) -> None:
        """The session's first claim by a live socket (_CONNECT): run the ``connected`` hook
        of every instance on the page, parents first, each once. A crash restarts that
        component like a handler's; its new instance, as every instance mounted from now on,
        gets the hook right after its mount (_start_instance)."""
        self.connected = True
        try:
            for host, instance in _instances(self.root):
                if not host.alive or host.instance is not instance:
                    continue  # unmounted or restarted by an earlier hook's crash
                hook = _connected_hook(instance)
                if hook is None:
                    continue
                try:
                    result = hook()
                    if result is not None and inspect.isawaitable(result):
                        await result
                except BaseException as exc:
                    await self._crash(host, handleable(exc), "connected")
                    continue
                host.mark_dirty()
        except Escalation as exc:
            exc.at_connect = True  # (no RELOAD: see _escalated)
            raise

    async def _crash(self, host: Host, exc: Exception, where: str) -> None:
        """Supervise: log, tell the client, restart ``host`` (or escalate past its budget)."""
        if not host.alive:
            logger.error(
                "session %s: %s (already unmounted) raised in %s: %s",
                self.id,
                host.path,
                where,
                describe(exc),
                exc_info=exc,
                extra={"session_id": self.id, "component": host.path, "where": where},
            )
            return
        self._record_crash(host, exc, where)
        old_hid = host.tree.hid
        await self._teardown(host)
        await self._start_instance(host)
        if old_hid is not None:
            self._ops.append([7, old_hid, _html.render(host.tree)])

    def _record_crash(self, host: Host, exc: Exception, where: str) -> None:
        tracker = host.restarts
        if tracker is None:
            policy = host.cls.restart_policy or self.config.restart_policy
            tracker = host.restarts = RestartTracker(policy)
        if not tracker.allow_restart(trio.current_time()):
            raise Escalation(host.path, tracker.policy, exc) from exc
        self.restarts += 1
        traced = self._traceback_due(host, where, exc)
        logger.error(
            "session %s: %s crashed in %s, restarting: %s%s",
            self.id,
            host.path,
            where,
            describe(exc),
            "" if traced else f" (traceback omitted: one per {_TRACEBACK_PERIOD:g} s)",
            exc_info=exc if traced else None,
            extra={"session_id": self.id, "component": host.path, "where": where},
        )
        message = crash_message(host.path, where, exc, dev=self.config.dev)
        self._errors.append(encode(Error(ErrorCode.COMPONENT_CRASHED, message)))

    def _traceback_due(self, host: Host, where: str, exc: Exception) -> bool:
        """Whether this crash's log line carries its traceback: the first of the same crash
        (component, place, exception type) in this session within ``_TRACEBACK_PERIOD``, so
        a user clicking a failing button cannot flood the log with tracebacks."""
        traced = self._traced
        if traced is None:
            traced = self._traced = {}
        key = (host.path, where, type(exc))
        now = trio.current_time()
        if now < traced.get(key, -math.inf):
            return False
        traced[key] = now + _TRACEBACK_PERIOD
        return True

    async def _teardown(self, host: Host) -> None:
        """Unmount ``host``'s children and instance; the host itself stays for a fresh one."""
        children, host.children = list(host.children.values()), {}
        await self._unmount_each(children, host, leaves=False)
        host.generation += 1
        host.dirty = False

    async def _unmount_subtree(self, host: Host) -> None:
        """Unmount children first, then ``host``; it leaves the page for good."""
        await self._unmount_each(list(host.children.values()), host, leaves=True)

    async def _unmount_each(self, children: list[Host], host: Host, leaves: bool) -> None:
        """Unmount the subtrees of ``children``, then ``host``'s instance.

        A cancellation (the program running the runtime was cancelled) stops none of the
        others: each unmount still runs (an async one until its first await, as any trio
        clean-up) and its timers and subscriptions end; the cancellation goes on after.
        """
        stopped: BaseException | None = None
        for child in children:
            try:
                await self._unmount_subtree(child)
            except BaseException as exc:  # a cancellation: unmount errors are contained
                stopped = exc if stopped is None else stopped
        if leaves:
            host.alive = False
        try:
            await self._unmount_instance(host)
        except BaseException as exc:
            stopped = exc if stopped is None else stopped
        if stopped is not None:
            raise stopped

    async def _unmount_instance(self, host: Host) -> None:
        host.cancel_tasks()
        for hid in self._host_bound.pop(host, ()):
            if self._bound.get(hid) is host:
                del self._bound[hid]
        instance, host.instance = host.instance, None
        if instance is None:
            return
        object.__setattr__(instance, "_vango_host", None)
        object.__setattr__(instance, "_vango_left", True)
        try:
            result = instance.unmount()
            if result is not None and inspect.isawaitable(result):
                await result
        except BaseException as exc:
            error = handleable(exc)
            logger.error(
                "session %s: %s raised in unmount (ignored): %s",
                self.id,
                host.path,
                describe(error),
                exc_info=error,
                extra={"session_id": self.id, "component": host.path, "where": "unmount"},
            )

    def _index(self, host: Host, found: list[Element] | None, copies: int) -> None:
        """Record which hids of ``host``'s own tree bind events (slots are not descended):
        ``found``, the bound elements the render's resolver walk collected (numbered in place
        since by the diff), unless the numbering copied an element (``HidCounter.copies`` is
        no longer ``copies``, its count before); else a walk of the tree."""
        bound: dict[int, Element] = {}
        if found is None or self.ids.copies != copies:
            _collect_bound(host.tree, bound)
        else:
            for element in found:
                bound[element.hid] = element  # type: ignore[index]
        old = self._host_bound.get(host)
        if old is not None and old.keys() == bound.keys():  # the usual re-render
            self._host_bound[host] = bound
            return
        if old:
            for hid in old:
                if hid not in bound and self._bound.get(hid) is host:
                    del self._bound[hid]
        self._host_bound[host] = bound
        for hid in bound:
            self._bound[hid] = host

    # ------------------------------------------------------------------ statistics

    def statistics(self) -> SessionStatistics:
        att = self.attachment
        return SessionStatistics(
            state=self.state.value,
            mailbox_size=self._inbox.statistics().current_buffer_used,
            outbox_size=0 if att is None else att.outbox.statistics().current_buffer_used,
            outbox_bytes=0 if att is None else att.outbox_bytes,
            seq=self.seq,
            ack=self.ack,
            events_handled=self.events_handled,
            dropped_events=self.dropped_events,
            restarts=self.restarts,
            patches_sent=self.patches_sent,
            bytes_sent=self.bytes_sent,
            resyncs=self.resyncs,
        )


def _calls_last(ops: list[list[Any]]) -> list[list[Any]]:
    """``ops`` with each page's CALLs after its other ops, in order: a handler's
    ``push_event`` or ``exec_js`` reaches the DOM its render patched (hooks it added are
    mounted, elements it added found), as LiveView dispatches events after their patch. A
    REPLACE of the whole page (a live navigation) starts the next page: the calls before it
    still run on the old one."""
    out: list[list[Any]] = []
    calls: list[list[Any]] = []
    for op in ops:
        if op[0] == 13:
            calls.append(op)
            continue
        if op[0] == 7 and op[1] == 0:
            out.extend(calls)
            calls = []
        out.append(op)
    return out + calls if calls else out


def _against(url: str, page: str) -> str:
    """``url`` resolved against the page's path?query when relative (``?tab=b``, ``edit``,
    ``../list``), as the browser resolves an ``href``: ``push_patch("?tab=b")`` then patches
    this page and ``navigate("edit")`` mounts its sibling live, instead of a page load."""
    if not page or not url or url[0] == "/" or "\\" in url or urlsplit(url).scheme:
        return url  # absolute, scheme-relative, another scheme, or no page to resolve against
    return urljoin(page, url)


def _page_of(url: str) -> str:
    """The path?query of ``url`` (absolute, as in HELLO, or path?query#fragment): the page it
    shows, whatever the origin and fragment."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def _wants_rich(ops: list[list[Any]]) -> bool:
    """A CALL among a mounting page's ops: it uses vango.rich.js even if its first render
    shows no marker of it (``allow_upload`` adds CALL "load" for an input shown later)."""
    return any(op[0] == 13 for op in ops)


def _connected_hook(instance: Component) -> Callable[[], Any] | None:
    """``instance.connected``, or None when its class keeps Component's no-op (nothing to
    call, nothing to re-render) or uses the name for something else than a method."""
    hook = getattr(type(instance), "connected", None)
    if hook is Component.connected or not callable(hook):
        return None
    bound: Callable[[], Any] = instance.connected
    return bound


def _instances(root: Host) -> list[tuple[Host, Component]]:
    """Every mounted (host, instance) of ``root``'s subtree, parents first, in page order."""
    out: list[tuple[Host, Component]] = []
    stack = [root]
    while stack:
        host = stack.pop()
        if host.instance is not None:
            out.append((host, host.instance))
        stack.extend(reversed(host.children.values()))
    return out


def _owner(handler: Any, host: Host) -> Host:
    """The host to mark dirty (or restart) for ``handler``: its component's, else ``host``."""
    target = getattr(handler, "__self__", None)
    if isinstance(target, Component):
        owner = target._vango_host
        if owner is not None and owner.alive:
            return owner
    return host


def _collect_bound(node: Element, out: dict[int, Element]) -> None:
    if node.events and node.hid is not None:
        out[node.hid] = node
    for child in node.children:
        kind = type(child)
        if kind is Element:
            _collect_bound(child, out)  # type: ignore[arg-type]
        elif kind is Lazy:  # a memoised subtree: its elements are this host's too
            _collect_bound(child.rendered, out)  # type: ignore[union-attr,arg-type]


def _position(children: tuple[Node, ...], child: Node) -> int:
    """The index of ``child`` (this very object) in ``children``."""
    for index, other in enumerate(children):
        if other is child:
            return index
    raise ValueError(f"{child!r:.80} is not among the children")


class _Resolver:
    """Turns a render's ComponentNodes into Slots, matching existing children by class+key.

    On the way it collects the elements that bind events (``bound``), so the index needs no
    second walk: the diff and ``assign_hids`` number the render's own elements in place, and
    the diff keeps an element of the old tree met at its place (a memoised one). One that
    they copy instead (numbered elsewhere) counts in ``HidCounter.copies``, and a Lazy's
    subtree is not walked here (``shared``): then ``bound`` cannot be trusted, and the
    index walks the tree.
    """

    __slots__ = ("actor", "bound", "fresh", "host", "new", "old", "positions", "shared", "updated")

    def __init__(
        self,
        actor: SessionActor,
        host: Host,
        old: dict[tuple[type, object, int], Host],
        new: dict[tuple[type, object, int], Host],
        fresh: list[Host],
        updated: list[Host],
    ) -> None:
        self.actor = actor
        self.host = host
        self.old = old
        self.new = new
        self.fresh = fresh
        self.updated = updated
        self.positions: dict[type, int] = {}
        self.bound: list[Element] = []
        self.shared = False

    def node(self, node: Node) -> Node:
        kind = type(node)
        if kind is Element:
            return self.element(node)  # type: ignore[arg-type]
        if kind is ComponentNode:
            return self.component(node)  # type: ignore[arg-type]
        return node

    def element(self, node: Element) -> Element:
        children = node.children
        out: list[Node] | None = None
        for child in children:  # (no enumerate: the index is needed only for a change)
            kind = type(child)
            if kind is Element:
                grandchildren = child.children  # type: ignore[union-attr]
                if grandchildren and (len(grandchildren) > 1 or type(grandchildren[0]) is not Text):
                    resolved: Node = self.element(child)  # type: ignore[arg-type]
                else:  # a leaf (no child, or one text): nothing to resolve below it
                    resolved = child
                    if child.events:  # type: ignore[union-attr]
                        self.bound.append(child)  # type: ignore[arg-type]
            elif kind is ComponentNode:
                resolved = self.component(child)  # type: ignore[arg-type]
            else:
                resolved = child
                if kind is not Text and kind is not Raw and kind is not Slot:
                    self.shared = True  # a Lazy, an Element subclass: not walked here
            if resolved is not child and out is None:
                out = list(children[: _position(children, child)])
            if out is not None:
                out.append(resolved)
        if out is not None:
            node = Element(node.tag, node.attrs, tuple(out), node.key, node.events)
        if node.events:
            self.bound.append(node)
        return node

    def component(self, node: ComponentNode) -> Slot:
        cls = node.component
        if not (isinstance(cls, type) and issubclass(cls, Component)):
            raise TypeError(
                f"{self.host.path}: h({cls!r}, ...) needs a Component subclass, "
                f"got {type(cls).__name__}"
            )
        key = node.key
        if key is None:
            position = self.positions.get(cls, 0)
            self.positions[cls] = position + 1
        else:
            position = -1
        ident = (cls, key, position)
        while ident in self.new:  # a key used twice: told apart by order (-1, -2, ...)
            position -= 1
            ident = (cls, key, position)
        child = self.old.get(ident)
        if child is None:
            path = child_path(self.host, cls, key, position if key is None else -1 - position)
            child = Host(self.actor, cls, node.props, key, self.host, path)
            self.fresh.append(child)
        elif child.props != node.props:
            child.props = node.props
            self.updated.append(child)
        self.new[ident] = child
        return Slot(child, key)
