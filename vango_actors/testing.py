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
What the browser does by itself is done too: a typed value stays in the field for a later
submit, a click on a submit button submits its form, a link is followed, form values are what
``formValues`` in vango.js sends, and live navigation (``navigate``, ``back``, a server's
``navigate``) and REDIRECT mount the page they lead to, as the browser would.
Timers run on trio's clock: request pytest-trio's ``autojump_clock`` and
``await view.advance(seconds)``.

Outside pytest: ``async with open_harness("my_routes") as vango: ...``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any
from urllib.parse import urljoin

import attrs
import pytest
import trio
import trio.testing

from .component import Component, SessionInfo
from .diff import ATTR_VALUE_TYPES, input_type
from .dom import VALID_NUMBER, Document, DomElement, as_parsed
from .errors import VangoError
from .html import render
from .mailbox import Mailbox
from .manager import SessionManager, open_runtime
from .navigation import Destination, live_destination, local_url, route_meta, url_path
from .protocol import (
    SERVER_FRAME_LIMITS,
    VERSION,
    Error,
    Event,
    Frame,
    GoAway,
    Hello,
    Op,
    Patches,
    Reload,
    Welcome,
    decode,
)
from .routing import Route, RouteError, RouteTable, scan
from .service import Service, open_services, package_services
from .vdom import option_label

__all__ = ["Harness", "LiveView", "Reply", "ViewError", "open_harness"]

DEFAULT_TIMEOUT = 10.0  # seconds (virtual under autojump_clock) an event may take to be acked
CONTROLS = ("input", "select", "textarea")
_TEXTLIKE = frozenset(
    "text search url tel email password date month week time datetime-local number".split()
)
_BUTTON_KINDS = frozenset({"submit", "image", "reset", "button"})
_LISTED = frozenset({*CONTROLS, "button", "fieldset", "object", "output"})  # form= applies
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LAST_BREAKS = re.compile(r"[\r\n]+\Z")
_MAXLENGTH_KINDS = frozenset("text search url tel email password textarea".split())
_DATE = r"\d{4,}-\d\d-\d\d"
_TIME = r"\d\d:\d\d(:\d\d(\.\d{1,3})?)?"
_VALID_TEXT = {  # what a number or date field holds (HTML's valid strings), and the words
    "number": (VALID_NUMBER, "a number (like -1.5)"),
    "date": (re.compile(_DATE), "a date (like 2024-12-31)"),
    "month": (re.compile(r"\d{4,}-\d\d"), "a month (like 2024-12)"),
    "week": (re.compile(r"\d{4,}-W\d\d"), "a week (like 2024-W52)"),
    "time": (re.compile(_TIME), "a time (like 23:59)"),
    "datetime-local": (
        re.compile(f"{_DATE}[T ]{_TIME}"),
        "a date and time (like 2024-12-31T23:59)",
    ),
}
_Step = Callable[[], Awaitable[Any]]  # one event a user act sends (or a link it follows)
_MAX_REDIRECTS = 10  # mount-time redirects followed in a row (browsers stop near 20)


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
    """One live page in memory: its document, its session and the frames it received.

    A full page load in this tab (a REDIRECT, a plain link, ``back`` past one) keeps the
    object: the view then holds the new page, with its own session.
    """

    def __init__(
        self,
        manager: SessionManager | None,
        session_id: str | None,
        html: str,
        *,
        title: str | None = None,
        url: str = "/",
        timeout: float = DEFAULT_TIMEOUT,
        harness: Harness | None = None,
    ) -> None:
        self.manager = manager
        self.session_id = session_id
        self.document = Document.from_html(html)
        self.document.title = None if title is None else as_parsed(title)  # as in <title>
        self.document.url = url
        self.timeout = timeout
        self.harness = harness  # mounts the pages that full page loads lead to
        self.frames: list[Frame] = []  # everything received, in order
        self.seq = 0  # last PATCHES seq applied
        self.acked = 0  # highest event seq the server acknowledged
        self.event_seq = 0
        self.ended: Reload | GoAway | None = None  # the session ended (RELOAD / GOAWAY)
        self._outbox: Mailbox[bytes] | None = None
        self._attachment: Any = None
        self._redirect: str | None = None  # a REDIRECT received: loaded on the next settle
        self._loaded_at = 0  # history entries before this index belong to earlier page loads

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
        """The live ``value`` of a form control (``checked`` for checkboxes and radios; a
        select's is its first chosen option's value, "" when none is chosen)."""
        element = self.element(selector)
        if element.tag == "input" and input_type(element.attrs) in ("checkbox", "radio"):
            return element.prop("checked")
        return _control_value(element)

    @property
    def patches(self) -> list[Patches]:
        return [f for f in self.frames if isinstance(f, Patches)]

    @property
    def errors(self) -> list[Error]:
        """ERROR frames received so far (e.g. a component crash: code 8)."""
        return [f for f in self.frames if isinstance(f, Error)]

    # ------------------------------------------------------------------ interacting

    async def click(self, selector: str) -> Reply:
        """Click like a user: ``click`` goes to the nearest bound element, then the browser's
        default action runs unless the client prevents it (it does for a bound link or submit
        button): a box is ticked (``input`` and ``change`` follow, if bound), a label clicks its
        control, a submit button submits its form, a reset button resets it, a link is
        followed."""
        element = self.element(selector)
        if _unclickable(element):
            raise ViewError(f"{selector!r} is disabled: a browser sends no click")
        steps = self._clicked(element, selector)
        if steps is None:
            raise self._unbound(selector, "click")
        return await self._run(steps)

    def _clicked(self, element: DomElement, selector: str) -> list[_Step] | None:
        """A click at ``element`` and its default action, as Chromium runs them: what changes
        in the page at once (a box ticked, a form reset) is done now, and the events the
        client sends, their payloads read now too, are returned in order. None when nothing
        at all happens (nothing bound, no default action)."""
        bound = bound_element(element, "click")
        stream = _stream_click(element)
        action = _activated(element)
        box = action if action is not None and _is_box(action) else None
        before = _tick(box) if box is not None else {}  # ticked before the click is sent
        prevented = stream is not None or (bound is not None and _prevents_default(bound))
        if prevented:
            for other, checked in before.items():  # a prevented click unticks it again
                other.props["checked"] = checked
            action = box = None
        steps: list[_Step] = []
        if bound is not None:
            payload = {"value": _control_value(bound)} if bound.tag in CONTROLS else {}
            steps.append(partial(self._send_to, bound, "click", payload))
        if stream is not None:  # after the click binding, as vango.rich.js's listener
            steps.append(partial(self._send_to, stream[0], "stream", stream[1]))
        if box is not None and before[box] is not box.prop("checked"):
            steps.append(partial(self._send_bound, box, ("input", "change"), _box_payload(box)))
        if action is None or box is not None:
            return steps if bound is not None or stream is not None or box is not None else None
        if action.tag == "a":
            return [*steps, partial(self._follow, action)]
        form = _form_of(action)
        if _is_submit_button(action) and form is not None:
            return [*steps, self._submitted(form, action, selector)]
        if _is_reset_button(action) and form is not None:
            _reset(form)
            return steps
        control = _labeled_control(action, self.document.root) if action.tag == "label" else None
        if control is not None and not _unclickable(control):
            then = self._clicked(control, selector)  # the label's click on its control
            return steps if then is None else [*steps, *then]
        return steps if steps else None

    def _submitted(self, form: DomElement, submitter: DomElement | None, selector: str) -> _Step:
        """The submit a click or Enter makes, the form read now (before any answer)."""
        target = bound_element(form, "submit")
        if target is None:
            raise ViewError(
                f"{selector!r} submits a form without a submit binding: a browser would post "
                "it and leave the page; bind on_submit=... on the form"
            )
        return partial(self._send_to, target, "submit", {"form": form_values(form, submitter)})

    async def _run(self, steps: Sequence[_Step]) -> Reply:
        received = len(self.frames)
        for step in steps:
            await step()
        return Reply(tuple(self.frames[received:]))

    async def type(self, selector: str, text: str, *, event: str = "input") -> Reply:
        """Set a field's value to ``text`` and fire ``input`` (as if pasted: one event).

        As in a browser, any enabled text field takes typing: without an ``input`` binding on
        it or an ancestor nothing is sent, and the value travels with a later ``submit``.
        Debounce and throttle are client-side timing: the harness sends the event at once.
        With ``event="keydown"`` (or ``"keyup"``) the text is typed key by key, one event per
        character with its ``key`` and the field's value before (after, for keyup) it.
        """
        if event in ("keydown", "keyup"):
            return await self._keyed(selector, text, event)
        return await self._enter(selector, text, event)

    async def _keyed(self, selector: str, text: str, event: str) -> Reply:
        element = self.element(selector)
        _check_typeable(element, selector, select_ok=False)
        _typed(element, text, selector)  # text the field cannot hold is refused up front
        steps: list[_Step] = []
        for at, key in enumerate(text):
            before = _shown(element, text[:at], selector)
            element.props["value"] = _shown(element, text[: at + 1], selector)
            payload = {"key": key, "value": before if event == "keydown" else element.prop("value")}
            if (target := bound_element(element, event)) is not None:
                steps.append(partial(self._send_to, target, event, payload))
        return await self._run(steps)

    async def _enter(self, selector: str, text: str | Sequence[str], event: str) -> Reply:
        element = self.element(selector)
        _check_typeable(element, selector, select_ok=event == "change")
        if isinstance(text, str):
            if element.tag == "select":
                _choose_options(element, [text], strict=True)
            else:
                element.props["value"] = _typed(element, text, selector)
        elif element.tag == "select" and "multiple" in element.attrs:
            _choose_options(element, list(text), strict=True)
        else:
            raise ViewError(f"{selector!r} is not a <select multiple>: pass one value, a str")
        payload: dict[str, Any] = {"value": _control_value(element)}
        if element.tag == "select" and "multiple" in element.attrs:  # as the browser's client
            payload["values"] = [_option_value(o) for o in _chosen_options(element)]
        # a change is what a browser fires after the input (an option chosen, a field left)
        return await self._send_bound(
            element, ("input", event) if event == "change" else (event,), payload
        )

    async def change(self, selector: str, value: str | Sequence[str]) -> Reply:
        """Set a field's value (or choose a select's option by value; a list of values for a
        ``<select multiple>``) and fire ``input`` then ``change``, as a browser does when an
        option is chosen or a field is left, each if bound: like ``type``, an unbound field
        just keeps the value for a later submit."""
        return await self._enter(selector, value, "change")

    async def check(self, selector: str, checked: bool = True) -> Reply:
        """Tick (or untick) a checkbox or radio and fire ``input`` then ``change`` with
        ``checked``, each if bound, as a browser does.

        As in a browser: ticking a radio unticks the others of its group (same name, same
        form); a box already in that state fires nothing; without a binding on it or an
        ancestor nothing is sent, and the box travels with a later ``submit``.
        """
        element = self.element(selector)
        _check_tickable(element, selector, checked)
        if element.prop("checked") is checked:
            return Reply(())
        if checked and input_type(element.attrs) == "radio":
            for other in _radio_group(element):
                other.props["checked"] = False
        element.props["checked"] = checked
        return await self._send_bound(element, ("input", "change"), _box_payload(element))

    async def keydown(self, selector: str, key: str, *, event: str = "keydown") -> Reply:
        """Press ``key`` in the element: ``keydown`` (or ``event``) to the nearest bound
        element, then what a browser does for Enter: on a button or link it clicks it, in a
        field of a form it submits the form as its default button would (a click on it), or
        without one, when the form has no other text field."""
        element = self.element(selector)
        if _unclickable(element):  # it cannot take the focus
            raise ViewError(f"{selector!r} is disabled: a browser sends it no keys")
        payload: dict[str, Any] = {"key": key}
        if element.tag in CONTROLS:
            payload["value"] = _control_value(element)
        bound = bound_element(element, event)
        steps = [] if bound is None else [partial(self._send_to, bound, event, payload)]
        then = self._entered(element, selector) if (event, key) == ("keydown", "Enter") else None
        if bound is None and then is None:
            raise self._unbound(selector, event)
        return await self._run([*steps, *(then or [])])

    def _entered(self, element: DomElement, selector: str) -> list[_Step] | None:
        """What Enter does besides its keydown (read now, as the browser reads the form
        before the keydown is answered): activation or implicit submission; None if nothing."""
        if _activated(element) is element and not _is_box(element) and element.tag != "label":
            return self._clicked(element, selector)  # a focused button or link
        kind = input_type(element.attrs) if element.tag == "input" else ""
        form = _form_of(element)
        if not kind or kind in ("color", "file", "hidden") or form is None:
            return None  # a textarea takes the Enter, a select or a picker opens
        button = _default_button(form)
        if button is not None:
            return None if _disabled(button) else self._clicked(button, selector)
        owned = _form_elements(form)
        fields = [c for c in owned if c.tag == "input" and _blocks_implicit_submit(c)]
        return None if len(fields) > 1 else [self._submitted(form, None, selector)]

    async def submit(
        self,
        selector: str,
        values: Mapping[str, Any] | None = None,
        *,
        submitter: str | None = None,
    ) -> Reply:
        """Submit a form with ``submitter`` (a selector; default: the form's default button,
        its first submit button, as for Enter or a click on it): its fields' live values as
        the client sends them, plus the submitter's name and value.

        ``values`` ({name: str, list or bool}) is entered into the fields first, as a user
        would: typed, options chosen, boxes ticked; what no user could enter is a ViewError.
        """
        form = self.element(selector)
        if form.tag != "form":
            article = "an" if form.tag[:1] in tuple("aeiou") else "a"
            raise ViewError(
                f"{selector!r} is {article} <{form.tag}>, not a <form>: submit takes a form "
                "(or click its button)"
            )
        button = _default_button(form) if submitter is None else self.element(submitter)
        if button is not None:
            _check_submitter(form, button, submitter)
        for name, value in (values or {}).items():
            _write_field(form, name, value, selector)
        return await self.dispatch(selector, "submit", {"form": form_values(form, button)})

    async def dispatch(
        self, selector: str, type: str, payload: Mapping[str, Any] | None = None
    ) -> Reply:
        """Send an event of ``type`` to the element (or its nearest bound ancestor), then wait
        until it is acknowledged and the session is idle."""
        target = bound_element(self.element(selector), type)
        if target is None:
            raise self._unbound(selector, type)
        return await self._send_to(target, type, dict(payload or {}))

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

    # ------------------------------------------------------------------ navigating

    async def navigate(self, url: str, *, replace: bool = False) -> Reply:
        """Follow a live link to ``url`` (what vango.rich.js sends for ``data-vango-nav``): the
        same page gets ``handle_params`` (a patch), another live page is mounted in this
        session (URL, title and content change); anything else is loaded as a new page.
        ``url`` may be relative to the view's URL, as a link's ``href``."""
        url = urljoin(self.url, url)
        received = len(self.frames)
        if self.session_id is None or local_url(url) is None or _in_page(url, self.url):
            await self._load(url)  # no socket, or a #fragment here: the browser's, no event
        else:
            await self.send_event(0, "nav", {"url": url, "replace": replace, "pop": False})
        return Reply(tuple(self.frames[received:]))

    async def back(self) -> Reply:
        """The browser's back button: the previous URL of this tab. The page is told with a
        ``nav`` event (``pop``: the URL already shows), unless only the #fragment changes; an
        entry from before a full page load is loaded again."""
        history = self.document.history
        if not history:
            raise ViewError(f"no earlier page in this view's history (at {self.url})")
        url = history.pop()
        received = len(self.frames)
        if len(history) < self._loaded_at or self.session_id is None:
            await self._load(url, push=False)
        elif url.split("#")[0] == self.url.split("#")[0]:
            self.document.url = url  # another #fragment of the page shown: no event
        else:
            self.document.url = url
            await self.send_event(0, "nav", {"url": url, "replace": True, "pop": True})
        return Reply(tuple(self.frames[received:]))

    async def _follow(self, link: DomElement) -> None:
        """A click on ``<a href>``: a live link (``data-vango-nav``) navigates (replacing the
        entry when it leads to the URL shown, as vango.rich.js), others load; a link that opens
        another tab or downloads leaves this page as it is."""
        url = urljoin(self.url, link.attrs.get("href", ""))
        if link.attrs.get("target", "_self") not in ("", "_self") or "download" in link.attrs:
            return  # another tab or window, or a file saved: this page stays
        if "data-vango-nav" in link.attrs and self.session_id is not None:
            replace = link.attrs["data-vango-nav"] == "replace" or url == self.url
            await self.navigate(url, replace=replace)
        else:
            await self._load(url)

    async def _load(self, url: str, *, push: bool = True) -> None:
        """A full page load of ``url`` in this tab: the old page's socket closes (going
        away) and a path of the routes package is mounted, a new session; a URL outside the
        app or without a route leaves an empty page at that URL."""
        history = [*self.document.history, self.url] if push else list(self.document.history)
        if "#" in url and url.split("#")[0] == self.url.split("#")[0]:
            self.document.history, self.document.url = history, url  # a fragment: a scroll
            return
        if self._attachment is not None:
            self._attachment.detach(going_away=True)
        page = LiveView(None, None, "", url=url, harness=self.harness)
        if self.harness is not None and self.harness.route(url) is not None:
            page = await self.harness.open_page(url)
        for name in ("manager", "session_id", "document", "seq", "acked", "event_seq", "ended"):
            setattr(self, name, getattr(page, name))
        self._attachment = self._outbox = self._redirect = None
        self.document.history, self._loaded_at = history, len(history)
        if self.session_id is not None:
            await self.connect()

    # ------------------------------------------------------------------ waiting

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
        """Wait until every task is blocked, then apply whatever the session sent (and load
        the page a REDIRECT leads to)."""
        received = len(self.frames)
        await trio.testing.wait_all_tasks_blocked()
        while self._receive_nowait():
            await trio.testing.wait_all_tasks_blocked()
        if self._redirect is not None:
            url, self._redirect = self._redirect, None
            await self._load(urljoin(self.url, url))  # location.assign: relative to the page
        return Reply(tuple(self.frames[received:]))

    # ------------------------------------------------------------------ frames

    async def _send_to(self, target: DomElement, type: str, payload: dict[str, Any]) -> Reply:
        """Send to a bound element as the client does: not a key its ``data-keys`` omits."""
        keys = target.attrs.get("data-keys")
        if type in ("keydown", "keyup") and keys and payload.get("key") not in keys.split():
            return Reply(())
        hid = target.hid
        assert hid is not None
        return await self.send_event(hid, type, payload)

    async def _send_bound(
        self, control: DomElement, types: Sequence[str], payload: dict[str, Any]
    ) -> Reply:
        """Send each of ``types`` with ``payload`` to the control's nearest element binding
        it (those bound: an unbound one is only the page's)."""
        received = len(self.frames)
        for type in types:
            if (target := bound_element(control, type)) is not None:
                await self._send_to(target, type, dict(payload))
        return Reply(tuple(self.frames[received:]))

    def _unbound(self, selector: str, type: str) -> ViewError:
        return ViewError(
            f"{selector!r} has no {type!r} binding (data-on) on itself or an ancestor: "
            f"bind it with on_{type}=... in render()"
        )

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
            for op in frame.ops:
                if op[0] == Op.REDIRECT:
                    self._redirect = op[1]  # the browser leaves the page: see settle()
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


def _in_page(url: str, shown: str) -> bool:
    """``url`` is a #fragment of the page ``shown`` (same path and query): the browser
    scrolls to it, and vango.rich.js sends no ``nav`` (it does for a bare ``#``)."""
    page, _, fragment = url.partition("#")
    return bool(fragment) and page == shown.split("#")[0]


def _stream_click(element: DomElement) -> tuple[DomElement, dict[str, Any]] | None:
    """What ``vango.rich.js`` sends for a click in a stream item's ``data-stream-click``
    element: EVENT ``stream`` ``{event, key}`` on the stream's container (items have no hid)."""
    source = _closest(element, "data-stream-click")
    item = None if source is None else _closest(source, "data-stream-key")
    box = None if source is None else _closest(source, "data-vango-stream")
    if source is None or item is None or box is None or box.hid is None:
        return None
    return box, {"event": source.attrs["data-stream-click"], "key": item.attrs["data-stream-key"]}


def _closest(element: DomElement, attribute: str) -> DomElement | None:
    node: DomElement | None = element
    while node is not None and attribute not in node.attrs:
        node = node.parent
    return node


def bound_element(element: DomElement, type: str) -> DomElement | None:
    """Nearest ancestor-or-self with a hid whose ``data-on`` lists ``type`` (as the client)."""
    node: DomElement | None = element
    while node is not None:
        if node.hid is not None and type in node.attrs.get("data-on", "").split():
            return node
        node = node.parent
    return None


# ---------------------------------------------------------------------------- forms


def form_values(form: DomElement, submitter: DomElement | None = None) -> dict[str, Any]:
    """A form's values as the client sends them (``formValues`` in vango.js): the entries of
    ``FormData(form, submitter)``, a repeated name as a list, and the name of a ``<select
    multiple>`` or of several checkboxes always a list (``[]`` when nothing is chosen)."""
    out: dict[str, Any] = {}
    boxes: Counter[str] = Counter()
    for control in _form_elements(form):
        name = control.attrs.get("name")
        if not name or control.tag not in ("input", "select"):
            continue
        if control.tag == "select" and "multiple" in control.attrs:
            out[name] = []
        elif input_type(control.attrs) == "checkbox":
            boxes[name] += 1
    out.update({name: [] for name, count in boxes.items() if count > 1})
    for name, value in _form_data(form, submitter):
        if isinstance(out.get(name), list):
            out[name].append(value)
        elif name in out:
            out[name] = [out[name], value]
        else:
            out[name] = value
    return out


def _form_data(form: DomElement, submitter: DomElement | None = None) -> list[tuple[str, str]]:
    """The entries of ``FormData(form, submitter)`` (the HTML spec's entry list): enabled
    named controls, ticked boxes only, chosen enabled options, buttons only as submitter."""
    entries: list[tuple[str, str]] = []
    for control in _form_elements(form):
        if control.tag not in ("input", "button", "select", "textarea") or _disabled(control):
            continue
        name = control.attrs.get("name", "")
        kind = input_type(control.attrs) if control.tag == "input" else control.tag
        if control.tag == "button" or kind in ("submit", "image", "reset", "button"):
            if control is submitter:
                entries.extend(_submitter_entries(control, name, kind))
        elif not name:
            continue
        elif control.tag == "select":
            options = _chosen_options(control)
            entries.extend((name, _option_value(o)) for o in options if not _disabled(o))
        elif kind in ("checkbox", "radio"):
            if control.prop("checked"):
                entries.append((name, control.attrs.get("value", "on")))
        elif kind == "file":
            entries.append((name, ""))  # no file chosen: an empty File, whose name is ""
        else:
            entries.append((name, str(control.prop("value"))))
    return entries


def _submitter_entries(button: DomElement, name: str, kind: str) -> list[tuple[str, str]]:
    if kind == "image":  # the click's coordinates; the harness clicks at (0, 0)
        prefix = f"{name}." if name else ""
        return [(f"{prefix}x", "0"), (f"{prefix}y", "0")]
    return [(name, button.attrs.get("value", ""))] if name else []


def _is_submit_button(element: DomElement) -> bool:
    """A ``<button>`` of type submit (the default) or an ``<input type=submit|image>``."""
    if element.tag == "button":
        return element.attrs.get("type", "submit").lower() not in ("button", "reset")
    return element.tag == "input" and input_type(element.attrs) in ("submit", "image")


def _default_button(form: DomElement) -> DomElement | None:
    """The form's default button: its first submit button in tree order."""
    return next((c for c in _form_elements(form) if _is_submit_button(c)), None)


def _chosen_options(select: DomElement) -> list[DomElement]:
    """The options a browser has chosen: the selected ones of a ``<select multiple>``; for
    a single select the one its live ``value`` names, else the last selected, else (shown
    as a drop-down) the first enabled option."""
    options = [o for o in select.iter() if o.tag == "option"]
    if "multiple" in select.attrs:
        return [o for o in options if o.prop("selected")]
    if "value" in select.props:
        wanted = select.props["value"]
        return [o for o in options if _option_value(o) == wanted][:1]
    chosen = [o for o in options if o.prop("selected")]
    if chosen or _display_size(select) > 1:
        return chosen[-1:]
    return [o for o in options if not _disabled(o)][:1]


def _choose_options(select: DomElement, values: Sequence[str], *, strict: bool = False) -> None:
    """Choose the options whose value is in ``values`` (one, the first match, for a single
    select), as a user picking them; ``strict``: ViewError when a value has no option."""
    options = [o for o in select.iter() if o.tag == "option"]
    missing = set(values) - {_option_value(o) for o in options}
    if strict and missing:
        known = [_option_value(o) for o in options]
        raise ViewError(f"<select> has no option with value {sorted(missing)}; it has {known}")
    single = "multiple" not in select.attrs
    for option in options:
        option.props["selected"] = _option_value(option) in values
        if option.props["selected"] and single:
            values = ()
    select.props.pop("value", None)  # the options say what is chosen now


def _option_value(option: DomElement) -> str:
    """Its ``value`` attribute, else its text with whitespace stripped and collapsed."""
    if "value" in option.attrs:
        return option.attrs["value"]
    return option_label(option.text_content)


def _control_value(control: DomElement) -> str:
    """The live ``.value`` of an input, textarea or select (its first chosen option's)."""
    if control.tag == "select":
        options = _chosen_options(control)
        return _option_value(options[0]) if options else ""
    return str(control.prop("value"))


def _display_size(select: DomElement) -> int:
    size = select.attrs.get("size", "").strip()
    return int(size) if size.isdigit() and int(size) > 0 else 1


def _disabled(element: DomElement) -> bool:
    """Disabled itself, or by a disabled ``<fieldset>`` around it (not from inside that
    fieldset's first ``<legend>``) or ``<optgroup>`` (options); in a ``<datalist>`` too."""
    if "disabled" in element.attrs:
        return True
    child, node = element, element.parent
    while node is not None:
        if node.tag == "datalist" or (node.tag == "optgroup" and "disabled" in node.attrs):
            return True
        if node.tag == "fieldset" and "disabled" in node.attrs and child is not _legend(node):
            return True
        child, node = node, node.parent
    return False


def _legend(fieldset: DomElement) -> DomElement | None:
    kids = (c for c in fieldset.children if isinstance(c, DomElement) and c.tag == "legend")
    return next(kids, None)


def _form_of(element: DomElement) -> DomElement | None:
    """The element's form owner: the form its ``form="id"`` attribute names (none when that
    is no form), else its nearest ``<form>`` ancestor."""
    owner = element.attrs.get("form")
    if owner is None or element.tag not in _LISTED:
        node = element.parent
        while node is not None and node.tag != "form":
            node = node.parent
        return node
    named = next((n for n in _top(element).iter() if n.attrs.get("id") == owner), None)
    return named if named is not None and named.tag == "form" else None


def _form_elements(form: DomElement) -> list[DomElement]:
    """The controls and buttons whose form owner is ``form`` (``form.elements``), in tree
    order: those in it and those elsewhere naming it with ``form="id"``."""
    return [n for n in _top(form).iter() if n.tag in _LISTED and _form_of(n) is form]


def _top(element: DomElement) -> DomElement:
    while element.parent is not None:
        element = element.parent
    return element


def _unclickable(element: DomElement) -> bool:
    """On or in a disabled button or control: a browser fires no click."""
    node: DomElement | None = element
    while node is not None and node.tag not in (*CONTROLS, "button"):
        node = node.parent
    return node is not None and _disabled(node)


def _activated(element: DomElement) -> DomElement | None:
    """The element whose default action a click on ``element`` runs (the HTML spec's
    activation target): the nearest link, button, box or label; None when a control without
    one (a text field, a select) comes first."""
    node: DomElement | None = element
    while node is not None:
        if node.tag == "a" and "href" in node.attrs:
            return node
        if node.tag == "label" or node.tag == "button":
            return node
        if node.tag in ("select", "textarea"):
            return None
        if node.tag == "input":
            kind = input_type(node.attrs)
            acts = _is_box(node) or _is_submit_button(node) or _is_reset_button(node)
            return node if acts or kind == "button" else None
        node = node.parent
    return None


def _blocks_implicit_submit(field: DomElement) -> bool:
    """A field of the kinds of which two in a form without a submit button make Enter
    submit nothing (the HTML spec's implicit submission)."""
    return input_type(field.attrs) in _TEXTLIKE


def _is_button(element: DomElement) -> bool:
    kind = input_type(element.attrs)
    return element.tag == "button" or (element.tag == "input" and kind in _BUTTON_KINDS)


def _is_box(element: DomElement) -> bool:
    return element.tag == "input" and input_type(element.attrs) in ("checkbox", "radio")


def _box_payload(box: DomElement) -> dict[str, Any]:
    """What the client sends with a box's ``input`` and ``change``."""
    return {"value": str(box.prop("value")), "checked": box.prop("checked")}


def _is_reset_button(element: DomElement) -> bool:
    kind = element.attrs.get("type", "").lower()
    return element.tag in ("button", "input") and kind == "reset"


def _tick(box: DomElement) -> dict[DomElement, bool]:
    """A click's first step on a box: a checkbox flips, a radio is ticked (its group
    unticked). Returns the state before, of the box and of every radio it unticked."""
    before = {box: bool(box.prop("checked"))}
    if input_type(box.attrs) == "checkbox":
        box.props["checked"] = not before[box]
        return before
    for other in _radio_group(box):
        before[other] = bool(other.prop("checked"))
        other.props["checked"] = False
    box.props["checked"] = True
    return before


def _labeled_control(label: DomElement, root: DomElement) -> DomElement | None:
    """The control a label clicks: the one its ``for`` names, else its first in it."""
    labelable = ("button", "input", "meter", "output", "progress", "select", "textarea")
    wanted = label.attrs.get("for")
    scope = label if wanted is None else root
    for node in scope.iter():
        hidden = node.tag == "input" and input_type(node.attrs) == "hidden"
        fits = node.tag in labelable and not hidden
        if wanted is not None and node.attrs.get("id") == wanted:
            return node if fits else None
        if wanted is None and fits:
            return node
    return None


def _reset(form: DomElement) -> None:
    """A reset button's action: every control of ``form`` shows its default again (the
    ``value``, ``checked`` and ``selected`` of its markup)."""
    for control in (c for c in _form_elements(form) if c.tag in CONTROLS):
        for node in (control, *control.iter()):  # (a select's options)
            for name in ("value", "checked", "selected"):
                node.props.pop(name, None)


def _prevents_default(bound: DomElement) -> bool:
    """The client prevents a click's default when the bound element is a link or a submit
    button (``SUBMITS`` in vango.js): the click is the whole action."""
    kind = bound.attrs.get("type", "").lower()
    if bound.tag == "a":
        return "href" in bound.attrs
    if bound.tag == "button":
        return "type" not in bound.attrs or kind == "submit"
    return bound.tag == "input" and kind in ("submit", "image")


def _check_typeable(element: DomElement, selector: str, *, select_ok: bool) -> None:
    kind = input_type(element.attrs) if element.tag == "input" else element.tag
    if not (_takes_text(element) or (select_ok and kind == "select")):
        hint = "use check()" if kind in ("checkbox", "radio") else "only text fields take typing"
        hint = "use change() to choose an option" if kind == "select" else hint
        raise ViewError(f"cannot type into {selector!r}, a <{element.tag}> ({kind}): {hint}")
    if _disabled(element):
        raise ViewError(f"cannot type into {selector!r}: it is disabled")
    if "readonly" in element.attrs and kind != "select":
        raise ViewError(f"cannot type into {selector!r}: it is read-only")


def _check_tickable(element: DomElement, selector: str, checked: bool) -> None:
    kind = input_type(element.attrs) if element.tag == "input" else element.tag
    if kind not in ("checkbox", "radio"):
        raise ViewError(
            f"cannot tick {selector!r}, a <{element.tag}> ({kind}): only checkboxes and radios tick"
        )
    if _disabled(element):
        raise ViewError(f"cannot tick {selector!r}: it is disabled")
    if kind == "radio" and not checked:
        raise ViewError(f"cannot untick the radio {selector!r}: tick another of its group")


def _radio_group(radio: DomElement) -> list[DomElement]:
    """The other radios of ``radio``'s group: same non-empty name, same form (or none)."""
    name = radio.attrs.get("name", "")
    if not name:
        return []
    form = _form_of(radio)
    return [
        other
        for other in _top(radio).iter()
        if other is not radio
        and other.tag == "input"
        and input_type(other.attrs) == "radio"
        and other.attrs.get("name") == name
        and _form_of(other) is form
    ]


def _check_submitter(form: DomElement, button: DomElement, selector: str | None) -> None:
    """The button must be an enabled submit button of ``form`` (else nothing is submitted)."""
    what = "the form's default button" if selector is None else repr(selector)
    if not _is_submit_button(button) or _form_of(button) is not form:
        raise ViewError(f"{what} is not a submit button of this form")
    if _disabled(button):
        raise ViewError(f"{what} is disabled: a browser does not submit the form with it")


def _write_field(form: DomElement, name: str, value: Any, selector: str) -> None:
    """Put ``value`` into the form's enabled fields named ``name``, as a user would enter it
    first: typed into a text field (one value each, for several of that name), the options
    with those values chosen, the boxes with those values ticked (a lone checkbox also takes
    a bool). What no user could enter is a ViewError."""
    owned = _form_elements(form)
    named = [c for c in owned if c.attrs.get("name") == name and not _disabled(c)]
    fields = [c for c in named if c.tag in CONTROLS and not _is_button(c)]
    if not fields:
        names = {c.attrs.get("name") for c in owned if c.tag in CONTROLS}
        hint = "; a button's name and value go with submitter=" if named else ""
        raise ViewError(
            f"{selector!r} has no enabled field named {name!r} (it has "
            f"{sorted(n for n in names if n and not n.isspace())}){hint}"
        )
    many = list(value) if isinstance(value, list | tuple) else None
    boxes = [c for c in fields if _is_box(c)]
    if boxes:
        _tick_boxes(boxes, name, value)
    for field in (c for c in fields if c.tag == "select"):
        if many is not None and "multiple" not in field.attrs:
            raise ViewError(f"{name!r} is a single <select>: pass one value, a str")
        _choose_options(
            field, [str(v) for v in (many if many is not None else [value])], strict=True
        )
    texts = [c for c in fields if c.tag != "select" and not _is_box(c)]
    wanted = (many if many is not None else [value] * len(texts)) if texts else []
    if len(wanted) != len(texts):
        raise ViewError(f"{len(wanted)} values for the {len(texts)} fields named {name!r}")
    for field, text in zip(texts, wanted, strict=True):
        field_name = f"the field {name!r} of {selector!r}"
        if not (_takes_text(field) or input_type(field.attrs) == "hidden"):
            raise ViewError(f"{field_name} takes no typing")
        if "readonly" in field.attrs:
            raise ViewError(f"cannot type into {field_name}: it is read-only")
        field.props["value"] = _typed(field, str(text), field_name)


def _tick_boxes(boxes: list[DomElement], name: str, value: Any) -> None:
    """Tick the boxes named ``name`` whose value is in ``value`` (a str or a list; a bool for
    a lone checkbox) and untick the others, as a user would."""
    if isinstance(value, bool) and len(boxes) == 1 and input_type(boxes[0].attrs) == "checkbox":
        boxes[0].props["checked"] = value
        return
    chosen = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    have = [str(box.prop("value")) for box in boxes]
    radios = all(input_type(box.attrs) == "radio" for box in boxes)
    if set(chosen) - set(have) or (radios and len(chosen) != 1):
        kind, shown = ("radio", chosen[0]) if radios and len(chosen) == 1 else ("box", chosen)
        raise ViewError(f"no {kind} named {name!r} has the value {shown!r} (they have {have})")
    for box, own in zip(boxes, have, strict=True):
        box.props["checked"] = own in chosen


def _typed(field: DomElement, text: str, selector: str) -> str:
    """``text`` as the field takes it when pasted, as Chromium does: line breaks are a
    textarea's ``\\n`` and an input's spaces (a last one dropped), an e-mail address loses
    the spaces around it, ``maxlength`` cuts; a number or date field refuses other text."""
    kind = input_type(field.attrs) if field.tag == "input" else field.tag
    if kind == "textarea":
        text = _LINE_BREAK.sub("\n", text)
    else:
        text = _LINE_BREAK.sub(" ", _LAST_BREAKS.sub("", text))
    if kind == "email":
        text = text.strip(" \t\n\f\r")
    form = _VALID_TEXT.get(kind)
    if text and form is not None and not form[0].fullmatch(text):
        raise ViewError(
            f"cannot type {text!r} into {selector!r}, a {kind} field: it takes only {form[1]}"
        )
    limit = field.attrs.get("maxlength", "").strip()
    if limit.isdigit() and kind in _MAXLENGTH_KINDS:
        text = _utf16_prefix(text, int(limit))
    return text


def _shown(field: DomElement, text: str, selector: str) -> str:
    """The value a field shows while ``text`` is being typed: "" while it is no number or
    date yet (a browser's value for bad input)."""
    try:
        return _typed(field, text, selector)
    except ViewError:
        return ""


def _utf16_prefix(text: str, units: int) -> str:
    """The start of ``text`` that fits ``units`` UTF-16 code units (a browser's length)."""
    for at, char in enumerate(text):
        units -= 2 if ord(char) > 0xFFFF else 1
        if units < 0:
            return text[:at]
    return text


def _takes_text(control: DomElement) -> bool:
    """A textarea or an input whose value is typed (not a box, button, file or hidden)."""
    if control.tag == "input":
        return input_type(control.attrs) not in ATTR_VALUE_TYPES
    return control.tag == "textarea"


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
            self.open_page(target) if isinstance(target, str) else self._mount_class(target, props)
        )
        self.views.append(view)
        if connect and view.session_id is not None:
            await view.connect()
        return view

    async def _mount_class(self, cls: type[Component], props: Mapping[str, Any] | None) -> LiveView:
        created = await self.manager.create(cls, props)
        if created.redirect is not None:
            return await self._redirected(created.redirect, 1)
        return LiveView(
            self.manager, created.session_id, created.html, title=created.title, harness=self
        )

    async def open_page(self, url: str, _redirects: int = 0) -> LiveView:
        """The page at ``url`` (path?query) as the front serves it, not yet connected: a live
        route becomes a new session (its ``meta`` as the front's), a static one just HTML. A
        page whose ``mount`` navigates away answers with a redirect, which is followed (as a
        browser follows the front's 302)."""
        found = self.routes.match(url_path(url)) if local_url(url) else None
        if found is None:
            patterns = ", ".join(r.pattern for r in self.routes.routes) or "none"
            raise ViewError(f"no route matches {url!r} (routes: {patterns})")
        route, params = found
        title = route.spec.title_for(params)
        if not route.is_live:
            html = render(route.target(**params))
            return LiveView(None, None, html, title=title, url=url, harness=self)
        meta = route_meta(route, params, url)
        created = await self.manager.create(route.target, dict(params), meta=meta)
        if created.redirect is not None:
            return await self._redirected(urljoin(url, created.redirect), _redirects + 1)
        title = created.title or title
        return LiveView(
            self.manager, created.session_id, created.html, title=title, url=url, harness=self
        )

    async def _redirected(self, url: str, redirects: int) -> LiveView:
        """The page a mount-time navigation leads to: its route's page, or an empty page at
        a URL outside the app (a browser would leave for it)."""
        if redirects > _MAX_REDIRECTS:
            raise ViewError(f"more than {_MAX_REDIRECTS} redirects in a row, the last to {url}")
        if self.route(url) is None:
            return LiveView(None, None, "", url=url, harness=self)
        return await self.open_page(url, redirects)

    def route(self, url: str) -> tuple[Route, dict[str, Any]] | None:
        """The route of a local ``url`` and its params; None for other URLs, paths without a
        route, and when there is no routes package (component tests)."""
        if local_url(url) is None:
            return None
        try:
            return self.routes.match(url_path(url))
        except RouteError:
            return None

    def navigator(self, url: str, info: SessionInfo) -> Destination | None:
        """The runtime's :data:`Navigator`, from the route table as the front's (no tokens):
        a live page of the routes package, or None (the client loads the URL)."""
        if self.route(url) is None:
            return None
        return live_destination(self.routes, url)


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
    package's ``services`` list (none when the package does not exist: component tests).
    Live navigation resolves URLs with the routes package (``Harness.navigator``) unless a
    ``navigator`` is given."""
    runtime_config.setdefault("dev", True)
    if services is None:
        services = _routes_services(routes)
    harness: list[Harness] = []  # the runtime's navigator reads the harness's route table

    def navigator(url: str, info: SessionInfo) -> Destination | None:
        return harness[0].navigator(url, info)

    runtime_config.setdefault("navigator", navigator)
    async with open_services(services), open_runtime(**runtime_config) as manager:
        harness.append(Harness(manager, routes))
        yield harness[0]


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


def pytest_configure(config: pytest.Config) -> None:
    """A project that configures ``vango_routes`` needs pytest-trio; without it pytest only
    says ``INTERNALERROR ... Unknown config option: trio_mode``."""
    if str(config.getini("vango_routes")).strip() and not config.pluginmanager.hasplugin("trio"):
        raise pytest.UsageError(
            "vango_routes is set but pytest-trio is not installed: the `vango` fixture runs on "
            "trio (pip install pytest-trio, and set trio_mode = true in "
            "[tool.pytest.ini_options])"
        )


@pytest.hookimpl(trylast=True)  # after pytest-trio's trio_mode has marked the async tests
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that uses the ``vango`` fixture but cannot run on trio stops the run with what to
    do (pytest alone says it cannot run an async fixture)."""
    if not config.pluginmanager.hasplugin("trio"):
        return
    users = [item for item in items if "vango" in getattr(item, "fixturenames", ())]
    for item in users:
        if item.get_closest_marker("trio") is None:
            raise pytest.UsageError(
                f"{item.nodeid} uses the `vango` fixture but does not run on trio: make it an "
                "`async def` test and set trio_mode = true in [tool.pytest.ini_options] (or "
                "mark it @pytest.mark.trio)"
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
