"""Components: the unit of state, rendering and supervision in a live session.

Users subclass :class:`Component`; the runtime wraps every instance in a :class:`Host` (the
instance holder that a parent's tree references through a :class:`~vango_actors.vdom.Slot`).
A host outlives restarts: the supervisor swaps the instance inside it, so parents never notice.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import attrs

from .errors import VangoError
from .html import REFUSED_URL, safe_url
from .vdom import Element, Memo

if TYPE_CHECKING:
    import trio

    from .scheduler import Call, Crash, InstanceScheduler, TaskHandle
    from .supervisor import RestartPolicy, RestartTracker

EMPTY_PROPS: Mapping[str, Any] = MappingProxyType({})


class RenderError(VangoError):
    """A component's ``render()`` broke its contract (it must return exactly one Element)."""


@attrs.frozen(slots=True)
class SessionInfo:
    """What a component may know about its session: the id and the front's signed ``data``."""

    id: str
    data: Mapping[str, Any] = attrs.field(factory=dict)


class Runtime(Protocol):
    """The session services a host needs (implemented by the SessionActor)."""

    info: SessionInfo

    def mark_dirty(self, host: Host) -> None: ...
    def page_op(self, op: list[Any]) -> None: ...
    def focus(self, host: Host, hid: int | None) -> None: ...
    def task_nursery(self) -> trio.Nursery: ...
    async def send(self, message: Call | Crash) -> None: ...
    def send_nowait(self, message: Call | Crash) -> None: ...
    def request_navigation(self, url: str, replace: bool, patch: bool) -> None: ...
    def flashes(self) -> dict[str, list[Any]]: ...


class Component:
    """Base class for live components.

    Override ``render`` (required), and optionally ``mount``, ``connected``, ``update`` and
    ``unmount``; any of them except ``render`` may be ``async``. Assigning a public attribute
    marks the component for re-render, and so does running one of its event handlers (for
    in-place mutations).
    """

    #: Restart budget for instances of this class; None uses the runtime's policy.
    restart_policy: ClassVar[RestartPolicy | None] = None

    props: Mapping[str, Any]
    session: SessionInfo
    _vango_host: Host | None = None
    _vango_left = False  # unmounted (left the page, restarted, or its session ended)

    def mount(self, props: Mapping[str, Any]) -> Awaitable[None] | None:
        """Called once with the initial props (also available as ``self.props``)."""
        return None

    def connected(self) -> Awaitable[None] | None:
        """Called once per instance when a live socket has the page: for the instances of a
        page at the session's first claim, then right after mount for any instance mounted
        later (a new child, a restart, a live navigation's page); not on a reconnect. A page
        fetched but never connected (curl, a crawler, JS off) never gets it: what only a
        live user should do (join presence, say "X is here") goes here, not in ``mount``."""
        return None

    def update(self, props: Mapping[str, Any]) -> Awaitable[None] | None:
        """Called when a parent re-renders this child with different props (``!=``)."""
        self.props = props
        return None

    def render(self) -> Element:
        """Return exactly one Element: this component's root."""
        raise NotImplementedError(f"{type(self).__name__} must implement render()")

    def unmount(self) -> Awaitable[None] | None:
        """Called when the component leaves the page, is restarted or the session ends."""
        return None

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name[0] != "_":
            host = self._vango_host
            if host is not None:
                host.mark_dirty()

    # ------------------------------------------------------------------ page-level ops

    def set_title(self, title: str) -> None:
        """Set ``document.title`` on the client (sent as a TITLE op with the next patches)."""
        self._runtime().page_op([9, str(title)])

    def push_url(self, url: str, *, replace: bool = False) -> None:
        """Change the browser URL (history push, or replace) without a navigation."""
        self._runtime().page_op([8, str(url), bool(replace)])

    def focus(self, hid: int | None = None) -> None:
        """Focus element ``hid`` (default: this component's root) after the next render."""
        host = self._require_host()
        host.runtime.focus(host, hid)

    # ------------------------------------------------------------------ live navigation

    def push_patch(self, url: str, *, replace: bool = False) -> None:
        """Same page, new URL (e.g. new query params): the browser URL changes (history push)
        and the page's ``handle_params(params)`` runs with the new query; no remount. A
        relative ``url`` (``"?tab=b"``) is resolved against the page's, as an ``href``.
        A ``javascript:``, ``vbscript:`` or ``data:`` URL raises ``ValueError``."""
        self._runtime().request_navigation(_navigable(url), bool(replace), True)

    def navigate(self, url: str, *, replace: bool = False) -> None:
        """Go to another page of this app over the same socket (no reload): the page at
        ``url`` (relative ones resolved against the page's, as an ``href``) is mounted in
        this session; a URL that is no live page here is loaded (any site: check a URL from
        user data is local before). A ``javascript:``, ``vbscript:``
        or ``data:`` URL raises ``ValueError``: the client would run it in the page."""
        self._runtime().request_navigation(_navigable(url), bool(replace), False)

    # ------------------------------------------------------------------ flash messages

    def put_flash(self, kind: str, message: str) -> None:
        """Show ``message`` under ``kind`` ("info", "error"...) in ``self.flash``; it survives
        one live navigation (shown on the next page), then is dropped."""
        self._runtime().flashes()[str(kind)] = [str(message), 0]
        self._mark_root_dirty()

    def clear_flash(self, kind: str | None = None) -> None:
        """Drop the flash message of ``kind`` (all of them when None)."""
        flashes = self._runtime().flashes()
        if kind is None:
            flashes.clear()
        else:
            flashes.pop(kind, None)
        self._mark_root_dirty()

    @property
    def flash(self) -> Mapping[str, str]:
        """The session's current flash messages by kind (read-only copy)."""
        host = self._vango_host
        if host is None:
            return EMPTY_PROPS
        return {kind: entry[0] for kind, entry in host.runtime.flashes().items()}

    # ------------------------------------------------------------------ client extension

    def push_event(self, name: str, payload: Mapping[str, Any] | None = None) -> None:
        """Send ``payload`` to the JS hooks that called ``this.handleEvent(name, fn)``."""
        args = {"name": str(name), "payload": dict(payload or {})}
        self._runtime().page_op([13, "event", args])

    def exec_js(self, js: Any) -> None:
        """Run client commands (:class:`vango_actors.commands.JS`) in the browser now."""
        self._runtime().page_op([13, "exec", {"cmds": list(getattr(js, "commands", js))}])

    # ------------------------------------------------------------------ uploads

    def allow_upload(
        self,
        name: str,
        *,
        accept: Iterable[str] = (),
        max_entries: int = 1,
        max_size: int = 8 * 1024 * 1024,
    ) -> None:
        """Accept files for the input ``self.upload_input(name)`` (see vango_actors.uploads)."""
        from . import uploads

        slot = uploads.UploadSlot(name, tuple(accept), max_entries, max_size)
        uploads.allow(self, slot)

    def upload_input(self, name: str, **attrs: Any) -> Element:
        """The file input of upload ``name`` (``data-vango-upload``)."""
        from . import uploads

        return uploads.file_input(self, name, **attrs)

    def uploads(self, name: str) -> list[Any]:
        """The entries of upload ``name`` (name, type, size, progress, error, done, path)."""
        from . import uploads

        return list(uploads.slot_of(self, name).entries.values())

    def upload_errors(self, name: str) -> list[str]:
        """Errors of upload ``name`` as a whole (too many files)."""
        from . import uploads

        return list(uploads.slot_of(self, name).errors)

    def consume_uploads(self, name: str) -> list[Any]:
        """Finished entries of ``name``: their ``path`` (a spool file) is now the caller's."""
        from . import uploads

        return uploads.slot_of(self, name).consume()

    def cancel_upload(self, name: str, ref: str) -> None:
        """Cancel entry ``ref`` of upload ``name``; the client stops sending it."""
        from . import uploads

        uploads.cancel(self, name, ref)

    # ------------------------------------------------------------------ scheduler bridge

    def every(self, seconds: float, fn: Callable[[], Any]) -> TaskHandle:
        """Call ``fn()`` every ``seconds`` as a session message, until unmount."""
        return self._scheduler().every(seconds, fn)

    def after(self, seconds: float, fn: Callable[[], Any]) -> TaskHandle:
        """Call ``fn()`` once after ``seconds`` as a session message, unless unmounted first."""
        return self._scheduler().after(seconds, fn)

    def spawn(
        self,
        async_fn: Callable[..., Awaitable[Any]],
        *args: Any,
        on_done: Callable[[Any], Any] | None = None,
    ) -> TaskHandle:
        """Run ``async_fn(*args)`` in the background; ``on_done(result)`` runs as a message."""
        return self._scheduler().spawn(async_fn, args, on_done)

    async def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """From any task of this trio run: run ``fn(*args)`` in the session, like an event.
        Dropped when this instance left the page (unmounted, restarted) or its session ended
        first: the poster cannot know, and a timer tick for it is dropped the same way."""
        from .scheduler import post

        await post(self, fn, args)

    # ------------------------------------------------------------------ pub/sub

    def subscribe(self, topic: str, handler: Callable[[Any], Any]) -> TaskHandle:
        """Run ``handler(message)`` in the session for every message published on ``topic``
        (any process sharing the backend), until ``unsubscribe``, unmount or restart."""
        from .pubsub import subscribe_host

        handle = subscribe_host(self._require_host(), topic, handler)
        subs: dict[str, list[TaskHandle]] = self.__dict__.setdefault("_vango_subs", {})
        subs.setdefault(topic, []).append(handle)
        return handle

    def unsubscribe(self, topic: str) -> None:
        """Stop every subscription of this instance to ``topic`` (no-op if there is none)."""
        for handle in self.__dict__.get("_vango_subs", {}).pop(topic, ()):
            handle.cancel()

    async def publish(self, topic: str, message: Any) -> None:
        """Publish ``message`` (msgpack-serialisable) on ``topic``; raises PubSubUnavailable
        when the backend cannot take it (the message is then not sent, unless the error's
        ``maybe_sent``: Redis did not answer in time and may still deliver it)."""
        from .pubsub import current

        await current().publish(topic, message)

    # ------------------------------------------------------------------ internals

    def _require_host(self) -> Host:
        host = self._vango_host
        if host is None:
            raise VangoError(
                f"{type(self).__name__} is not mounted in a session: "
                "page-level ops and timers are available from mount() on"
            )
        return host

    def _runtime(self) -> Runtime:
        return self._require_host().runtime

    def _mark_root_dirty(self) -> None:
        host = self._require_host()
        while host.parent is not None:
            host = host.parent
        host.mark_dirty()

    def _scheduler(self) -> InstanceScheduler:
        return self._require_host().scheduler()


class Host:
    """Holds one component position in the page: class, props, live instance and its tree.

    This is the ``Slot.ref`` the diff sees. ``generation`` grows at every restart so messages
    (timer ticks, background results) addressed to a dead instance are dropped.
    """

    __slots__ = (
        "_scheduler",
        "alive",
        "children",
        "cls",
        "depth",
        "dirty",
        "generation",
        "instance",
        "key",
        "memo",
        "parent",
        "path",
        "props",
        "restarts",
        "runtime",
        "tree",
    )

    def __init__(
        self,
        runtime: Runtime,
        cls: type[Component],
        props: Mapping[str, Any],
        key: str | int | None,
        parent: Host | None,
        path: str,
    ) -> None:
        self.runtime = runtime
        self.cls = cls
        self.props = props
        self.key = key
        self.parent = parent
        self.depth: int = 0 if parent is None else parent.depth + 1
        self.path = path
        self.instance: Component | None = None
        self.tree: Element = _PLACEHOLDER
        self.memo: Memo | None = None  # the last re-render's (vdom.memoised)
        self.children: dict[tuple[type, object, int], Host] = {}
        self.dirty = False
        self.alive = True
        self.generation: int = 0
        self.restarts: RestartTracker | None = None
        self._scheduler: InstanceScheduler | None = None

    def mark_dirty(self) -> None:
        if not self.dirty and self.alive:
            self.dirty = True
            self.runtime.mark_dirty(self)

    def scheduler(self) -> InstanceScheduler:
        if self._scheduler is None:
            from .scheduler import InstanceScheduler

            self._scheduler = InstanceScheduler(self)
        return self._scheduler

    def cancel_tasks(self) -> None:
        """Cancel every timer and background task of the current instance."""
        if self._scheduler is not None:
            self._scheduler.cancel_all()
            self._scheduler = None

    def new_instance(self) -> Component:
        """Create a fresh, unmounted instance wired to this host."""
        instance = self.cls.__new__(self.cls)
        object.__setattr__(instance, "props", self.props)
        object.__setattr__(instance, "session", self.runtime.info)
        instance.__init__()  # type: ignore[misc]
        object.__setattr__(instance, "_vango_host", self)
        self.instance = instance
        self.memo = None
        return instance

    def __repr__(self) -> str:
        return f"<Host {self.path} gen={self.generation}>"


_PLACEHOLDER = Element("template")


def child_path(parent: Host, cls: type, key: str | int | None, position: int) -> str:
    """``Page/TodoList/Row[key=3]``; unkeyed siblings of one class: ``Row``, ``Row[1]``...;
    a key used twice: ``Row[key=3]``, ``Row[key=3][1]``..."""
    if key is not None:
        if position:
            return f"{parent.path}/{cls.__name__}[key={key}][{position}]"
        return f"{parent.path}/{cls.__name__}[key={key}]"
    if position:
        return f"{parent.path}/{cls.__name__}[{position}]"
    return f"{parent.path}/{cls.__name__}"


def _navigable(url: object) -> str:
    """``url`` as a str, unless its scheme would run script or show a made-up document: the
    client loads a URL that is no live page with ``location.assign``, which runs
    ``javascript:`` URLs in the page (the check is html.safe_url's, as for ``href``)."""
    text = str(url)
    if safe_url("href", text) == REFUSED_URL:
        raise ValueError(
            f"refused navigation to {text[:60]!r}: javascript:, vbscript: and data: URLs "
            f"would run in the page"
        )
    return text


def check_rendered(host: Host, result: object) -> Element:
    """Return ``result`` if it is one Element, else raise a RenderError that says what came."""
    if type(result) is Element:
        return result
    if isinstance(result, Element):
        return result
    got = type(result).__name__
    raise RenderError(f"{host.path}.render() must return exactly one Element, got {got}")


# ---------------------------------------------------------------------- calling user code

_TAKES_EVENT: dict[tuple[object, bool], bool] = {}


def takes_argument(fn: Callable[..., Any]) -> bool:
    """True if ``fn`` is to be called with the event: its first positional parameter is
    required, or it takes ``*args``. Cached per code object (not for a decorated function:
    a decorator's wrapper shares one code object among all the functions it wraps)."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    key = (code if code is not None else fn, hasattr(fn, "__self__"))
    cached = _TAKES_EVENT.get(key)
    if cached is None:
        cached = _accepts_one(fn)
        if code is not None and not hasattr(fn, "__wrapped__"):
            _TAKES_EVENT[key] = cached
    return cached


def _accepts_one(fn: Callable[..., Any]) -> bool:
    """The first positional parameter decides: one without a default takes the event, one
    with a default keeps it (``lambda n=name: ...``, the loop-capture idiom)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    for p in params:
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            return True
        if p.kind in positional:
            return p.default is inspect.Parameter.empty
    return False
