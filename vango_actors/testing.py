"""Test live pages without a browser or a socket: the app author's harness (a pytest plugin).

A :class:`LiveView` is one browser tab, in memory. It drives the real runtime path a socket
would (``SessionManager.create`` -> ``attach`` -> ``Attachment.deliver``) and applies every
PATCHES frame to :class:`vango_actors.dom.Document`, the reference patch applier, so what a
test reads is what a browser would show::

    async def test_counter(vango):            # fixture from this plugin
        view = await vango.mount("/counter")
        await view.click("#inc")
        assert view.text("#count") == "1"

Interactions (``click``, ``type``, ``change``, ``check``, ``submit``, ``keydown``, ...) find
the element by CSS selector, pick the nearest ancestor-or-self that binds the event type (as
the client does), send one EVENT and wait until the server has acknowledged it and gone idle.
Each returns a :class:`Reply` (the frames that arrived), so tests can assert exact patches.
Timers run on trio's clock: request pytest-trio's ``autojump_clock`` and
``await view.advance(seconds)``.

Outside pytest: ``async with open_harness("my_routes") as vango: ...``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from .component import Component
from .dom import Document, DomElement
from .errors import VangoError
from .html import render
from .mailbox import Mailbox
from .manager import SessionManager, open_runtime
from .protocol import (
    SERVER_FRAME_LIMITS,
    VERSION,
    Error,
    Event,
    Frame,
    GoAway,
    Hello,
    Patches,
    Reload,
    Welcome,
    decode,
)
from .routing import RouteTable, scan
from .service import Service, open_services, package_services

__all__ = ["Harness", "LiveView", "Reply", "ViewError", "open_harness"]

DEFAULT_TIMEOUT = 10.0  # seconds (virtual under autojump_clock) an event may take to be acked


class ViewError(VangoError, AssertionError):
    """A harness interaction could not happen: no such element, nothing bound, session gone.

    It is an ``AssertionError`` too, so pytest shows it as a test failure with its message.
    """


@attrs.frozen
class Reply:
    """The frames the server sent in answer to one interaction (decoded, already applied)."""

    frames: tuple[Frame, ...]

    @property
    def patches(self) -> list[Patches]:
        return [f for f in self.frames if isinstance(f, Patches)]

    @property
    def ops(self) -> list[list[Any]]:
        """Every patch op of this reply, in the order they were applied."""
        return [op for frame in self.patches for op in frame.ops]

    @property
    def errors(self) -> list[Error]:
        return [f for f in self.frames if isinstance(f, Error)]


class LiveView:
    """One live page in memory: its document, its session and the frames it received."""

    def __init__(
        self,
        manager: SessionManager | None,
        session_id: str | None,
        html: str,
        *,
        title: str | None = None,
        url: str = "/",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.manager = manager
        self.session_id = session_id
        self.document = Document.from_html(html)
        self.document.title = title
        self.document.url = url
        self.timeout = timeout
        self.frames: list[Frame] = []  # everything received, in order
        self.seq = 0  # last PATCHES seq applied
        self.acked = 0  # highest event seq the server acknowledged
        self.event_seq = 0
        self.ended: Reload | GoAway | None = None  # the session ended (RELOAD / GOAWAY)
        self._outbox: Mailbox[bytes] | None = None
        self._attachment: Any = None

    # ------------------------------------------------------------------ connecting

    async def connect(self) -> Reply:
        """Attach like a client sending HELLO (done by ``mount``); returns WELCOME and catch-up."""
        if self.manager is None or self.session_id is None:
            raise ViewError("a static page has no session to connect to")
        hello = Hello(VERSION, self.session_id, "", self.seq, self.event_seq, self.url)
        self._attachment = await self.manager.attach(self.session_id, hello)
        self._outbox = self._attachment.outbox
        return await self.settle()

    def disconnect(self) -> None:
        """Drop the connection (like a closed tab or a cut network); the session keeps state."""
        if self._attachment is not None:
            self._attachment.detach()
            self._attachment = self._outbox = None

    # ------------------------------------------------------------------ reading the page

    @property
    def url(self) -> str:
        return self.document.url or "/"

    @property
    def title(self) -> str | None:
        return self.document.title

    def select(self, selector: str) -> list[DomElement]:
        """Every element matching ``selector`` (tag, #id, .class, [attr], [attr=v], spaces)."""
        return self.document.select(selector)

    def element(self, selector: str) -> DomElement:
        """The one element matching ``selector``; ViewError if there are none or several."""
        found = self.select(selector)
        if len(found) != 1:
            raise ViewError(
                f"expected exactly one element matching {selector!r}, found {len(found)}"
                f"{self._page_excerpt()}"
            )
        return found[0]

    def exists(self, selector: str) -> bool:
        return bool(self.select(selector))

    def text(self, selector: str | None = None) -> str:
        """The text content of the element (or of the whole page)."""
        node = self.document.root if selector is None else self.element(selector)
        return node.text_content

    def html(self, selector: str | None = None) -> str:
        """The page's HTML (or one element's), with live form state written back."""
        if selector is None:
            return self.document.to_html()
        return self.element(selector).to_html()

    def value(self, selector: str) -> str | bool:
        """The live ``value`` of a form control (``checked`` for checkboxes and radios)."""
        element = self.element(selector)
        if element.attrs.get("type") in ("checkbox", "radio"):
            return element.prop("checked")
        return element.prop("value")

    @property
    def patches(self) -> list[Patches]:
        return [f for f in self.frames if isinstance(f, Patches)]

    @property
    def errors(self) -> list[Error]:
        """ERROR frames received so far (e.g. a component crash: code 8)."""
        return [f for f in self.frames if isinstance(f, Error)]

    # ------------------------------------------------------------------ interacting

    async def click(self, selector: str) -> Reply:
        payload: dict[str, Any] = {}
        element = self.element(selector)
        if element.tag in ("input", "select", "textarea"):
            payload["value"] = str(element.prop("value"))
        return await self.dispatch(selector, "click", payload)

    async def type(self, selector: str, text: str, *, event: str = "input") -> Reply:
        """Set a field's value to ``text`` and fire ``input`` (as if pasted: one event).

        Debounce and throttle are client-side timing: the harness sends the event at once.
        """
        self.element(selector).props["value"] = text
        return await self.dispatch(selector, event, {"value": text})

    async def change(self, selector: str, value: str) -> Reply:
        """Set a field's (or select's) value and fire ``change``."""
        return await self.type(selector, value, event="change")

    async def check(self, selector: str, checked: bool = True) -> Reply:
        """Tick (or untick) a checkbox or radio and fire ``change`` with ``checked``."""
        element = self.element(selector)
        element.props["checked"] = checked
        value = element.attrs.get("value", "on")
        return await self.dispatch(selector, "change", {"value": value, "checked": checked})

    async def keydown(self, selector: str, key: str, *, event: str = "keydown") -> Reply:
        element = self.element(selector)
        payload: dict[str, Any] = {"key": key}
        if element.tag in ("input", "textarea", "select"):
            payload["value"] = str(element.prop("value"))
        return await self.dispatch(selector, event, payload)

    async def submit(self, selector: str, values: Mapping[str, Any] | None = None) -> Reply:
        """Submit a form: its named fields' live values, overridden by ``values``.

        Fields named in ``values`` are also written into the page, as if typed first.
        """
        form = self.element(selector)
        for name, value in (values or {}).items():
            for field in form.select(f"[name={name}]"):
                if field.attrs.get("type") not in ("checkbox", "radio"):
                    field.props["value"] = str(value)
        collected = {**form_values(form), **(values or {})}
        return await self.dispatch(selector, "submit", {"form": collected})

    async def dispatch(
        self, selector: str, type: str, payload: Mapping[str, Any] | None = None
    ) -> Reply:
        """Send an event of ``type`` to the element (or its nearest bound ancestor), then wait
        until it is acknowledged and the session is idle."""
        target = bound_element(self.element(selector), type)
        if target is None:
            raise ViewError(
                f"{selector!r} has no {type!r} binding (data-on) on itself or an ancestor: "
                f"bind it with on_{type}=... in render()"
            )
        hid = target.hid
        assert hid is not None
        payload = dict(payload or {})
        keys = target.attrs.get("data-keys")
        if type in ("keydown", "keyup") and keys and payload.get("key") not in keys.split():
            return Reply(())  # the client filters keys: nothing is sent
        return await self.send_event(hid, type, payload)

    async def send_event(self, hid: int, type: str, payload: dict[str, Any]) -> Reply:
        """The raw EVENT path (hids are not checked: for tests of bad input)."""
        if self._attachment is None:
            raise ViewError("the view is not connected (disconnected, or its session ended)")
        self.event_seq += 1
        seq = self.event_seq
        received = len(self.frames)
        await self._attachment.deliver(Event(seq, hid, type, payload))
        with trio.move_on_after(self.timeout) as scope:
            while self.acked < seq and self.ended is None:
                await self._receive()
        if scope.cancelled_caught:
            raise ViewError(f"event {type!r} on hid {hid} was not acknowledged in {self.timeout} s")
        await self.settle()
        return Reply(tuple(self.frames[received:]))

    async def advance(self, seconds: float) -> Reply:
        """Let ``seconds`` pass (instantly under ``autojump_clock``), then settle."""
        received = len(self.frames)
        deadline = trio.current_time() + seconds
        while trio.current_time() < deadline:
            with trio.move_on_at(deadline):
                await self._receive()
        await self.settle()
        return Reply(tuple(self.frames[received:]))

    async def settle(self) -> Reply:
        """Wait until every task is blocked, then apply whatever the session sent."""
        received = len(self.frames)
        await trio.testing.wait_all_tasks_blocked()
        while self._receive_nowait():
            await trio.testing.wait_all_tasks_blocked()
        return Reply(tuple(self.frames[received:]))

    # ------------------------------------------------------------------ frames

    async def _receive(self) -> None:
        if self._outbox is None:
            await trio.sleep_forever()
            return
        try:
            data = await self._outbox.receive()
        except trio.EndOfChannel:
            self._outbox = None
            return
        self._apply(data)

    def _receive_nowait(self) -> bool:
        if self._outbox is None:
            return False
        try:
            data = self._outbox.receive_nowait()
        except trio.WouldBlock:
            return False
        except trio.EndOfChannel:
            self._outbox = None
            return False
        self._apply(data)
        return True

    def _apply(self, data: bytes) -> None:
        frame = decode(data, SERVER_FRAME_LIMITS)
        self.frames.append(frame)
        if isinstance(frame, Patches):
            self.document.apply(frame.ops)
            self.seq = frame.seq
            self.acked = max(self.acked, frame.ack)
        elif isinstance(frame, Welcome):
            self.acked = max(self.acked, frame.ack)
        elif isinstance(frame, Reload | GoAway):
            self.ended = frame
            self._attachment = None

    def _page_excerpt(self) -> str:
        page = self.document.to_html()
        return f"; the page is: {page[:400]}{'...' if len(page) > 400 else ''}"

    def __repr__(self) -> str:
        return f"<LiveView {self.url} session={self.session_id}>"


def bound_element(element: DomElement, type: str) -> DomElement | None:
    """Nearest ancestor-or-self with a hid whose ``data-on`` lists ``type`` (as the client)."""
    node: DomElement | None = element
    while node is not None:
        if node.hid is not None and type in node.attrs.get("data-on", "").split():
            return node
        node = node.parent
    return None


def form_values(form: DomElement) -> dict[str, Any]:
    """Named controls' values like the client's ``FormData`` (unticked boxes left out)."""
    out: dict[str, Any] = {}
    for control in form.iter():
        name = control.attrs.get("name")
        if not name or control.tag not in ("input", "textarea", "select") or _skipped(control):
            continue
        value = _control_value(control)
        if value is None:
            continue
        if name in out:
            previous = out[name]
            out[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[name] = value
    return out


def _skipped(control: DomElement) -> bool:
    kind = control.attrs.get("type", "")
    if "disabled" in control.attrs or kind in ("submit", "button", "image", "reset", "file"):
        return True
    return kind in ("checkbox", "radio") and not control.prop("checked")


def _control_value(control: DomElement) -> str | None:
    if control.tag != "select":
        if control.attrs.get("type") in ("checkbox", "radio"):
            return control.attrs.get("value", "on")
        return str(control.prop("value"))
    options = list(control.select("option"))
    chosen = [o for o in options if o.prop("selected")] or options[:1]
    if not chosen:
        return None
    return chosen[0].attrs.get("value", chosen[0].text_content)


# ---------------------------------------------------------------------------- the harness


class Harness:
    """Mounts pages of one routes package on one in-process runtime."""

    def __init__(self, manager: SessionManager, routes: str | RouteTable | None) -> None:
        self.manager = manager
        self._routes = routes
        self.views: list[LiveView] = []

    @property
    def routes(self) -> RouteTable:
        """The route table, scanned on first use (so component-only tests need no package)."""
        if not isinstance(self._routes, RouteTable):
            self._routes = scan(self._routes or default_routes())
        return self._routes

    async def mount(
        self,
        target: str | type[Component],
        props: Mapping[str, Any] | None = None,
        *,
        connect: bool = True,
    ) -> LiveView:
        """Open a page: a path of the routes package (``"/users/7"``) or a Component class.

        As the HTTP front does, a live page becomes a new session (same ``create`` call, same
        ``meta``); with ``connect`` the view then attaches like a client sending HELLO.
        """
        view = await (
            self._mount_path(target)
            if isinstance(target, str)
            else self._mount_class(target, props)
        )
        self.views.append(view)
        if connect and view.session_id is not None:
            await view.connect()
        return view

    async def _mount_class(self, cls: type[Component], props: Mapping[str, Any] | None) -> LiveView:
        created = await self.manager.create(cls, props)
        return LiveView(self.manager, created.session_id, created.html, title=created.title)

    async def _mount_path(self, path: str) -> LiveView:
        found = self.routes.match(path)
        if found is None:
            patterns = ", ".join(r.pattern for r in self.routes.routes) or "none"
            raise ViewError(f"no route matches {path!r} (routes: {patterns})")
        route, params = found
        title = route.spec.title_for(params)
        if not route.is_live:
            return LiveView(None, None, render(route.target(**params)), title=title, url=path)
        meta = {"route": route.pattern, "params": {k: str(v) for k, v in params.items()}}
        created = await self.manager.create(route.target, dict(params), meta=meta)
        return LiveView(
            self.manager, created.session_id, created.html, title=created.title or title, url=path
        )


def default_routes() -> str:
    """``VANGO_ROUTES`` or ``app_routes``, like the HTTP front."""
    return os.environ.get("VANGO_ROUTES", "").strip() or "app_routes"


@asynccontextmanager
async def open_harness(
    routes: str | RouteTable | None = None,
    *,
    services: Iterable[Callable[[], Service]] | None = None,
    **runtime_config: Any,
) -> AsyncIterator[Harness]:
    """A runtime for the block (``dev=True`` unless given: tracebacks in ERROR frames), with
    services started first and stopped last, as the app does: ``services``, else the routes
    package's ``services`` list (none when the package does not exist: component tests)."""
    runtime_config.setdefault("dev", True)
    if services is None:
        services = _routes_services(routes)
    async with open_services(services), open_runtime(**runtime_config) as manager:
        yield Harness(manager, routes)


def _routes_services(routes: str | RouteTable | None) -> tuple[Callable[[], Service], ...]:
    if isinstance(routes, RouteTable):
        return ()
    package = routes or default_routes()
    try:
        return package_services(package)
    except ModuleNotFoundError as exc:
        if exc.name == package:
            return ()
        raise


# ---------------------------------------------------------------------------- pytest plugin


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "vango_routes",
        "routes package the `vango` fixture mounts paths from (default: VANGO_ROUTES or "
        "app_routes)",
        default="",
    )


@pytest.fixture
def vango_routes(request: pytest.FixtureRequest) -> str:
    """The routes package; override this fixture or set ``vango_routes`` in the pytest ini."""
    configured = str(request.config.getini("vango_routes")).strip()
    return configured or default_routes()


@pytest.fixture
def vango_runtime_config() -> dict[str, Any]:
    """Keyword arguments for the test runtime (``RuntimeConfig`` fields); override to change."""
    return {"dev": True}


@pytest.fixture
async def vango(vango_routes: str, vango_runtime_config: dict[str, Any]) -> AsyncIterator[Harness]:
    """A :class:`Harness` on a fresh runtime for this test (drained afterwards)."""
    async with open_harness(vango_routes, **vango_runtime_config) as harness:
        yield harness
