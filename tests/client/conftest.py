"""Fixtures for the client runtime tests: a page with the minified vango.js and no server.

The page has a root container but no session, so the client does not connect by itself;
``ClientPage.connect`` attaches the test transport (``vango._attach``): frames the client
sends are collected and decoded with msgpack-python, frames for it are fed with ``receive``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import msgpack  # type: ignore[import-untyped]
import pytest
from playwright.sync_api import Browser, Page

from vango_actors import protocol
from vango_actors.clientjs import client_source

ROOT = '<div data-hid="h0" data-vango-root>{}</div>'
#: Pages are served by interception at this loopback URL; no socket is ever opened to it.
ORIGIN = "http://127.0.0.1:9"


@attrs.define
class ClientPage:
    """A Chromium page running the production build of the client against a test transport."""

    page: Page

    def load(
        self, body: str, *, root_attrs: str = "", paused_clock: bool = False, tail: str = ""
    ) -> None:
        """Open a page with ``body`` inside the root container and the client script.

        The page is served by request interception at ORIGIN (nothing touches the network),
        so it has a real origin and sessionStorage. ``paused_clock`` installs Playwright's
        fake clock, paused: timers only run through ``self.page.clock.run_for(ms)``. ``tail``
        follows the client script (the dev overlay, say).
        """
        root = ROOT.format(body).replace("data-vango-root", "data-vango-root " + root_attrs, 1)
        document = (
            f"<!doctype html><html><head><title>t</title></head><body>{root}"
            f"<script>{client_source(dev=False).decode()}</script>{tail}</body></html>"
        )
        self.page.unroute(f"{ORIGIN}/**")
        self.page.route(
            f"{ORIGIN}/**", lambda route: route.fulfill(body=document, content_type="text/html")
        )
        if paused_clock:
            self.page.clock.install(time=0)
            self.page.clock.pause_at(1000)
        self.page.goto(f"{ORIGIN}/page")

    def connect(
        self, *, seq: int = 0, ack: int = 0, resumed: bool = True, heartbeat_ms: int = 0
    ) -> list[Any]:
        """Attach the test transport, answer HELLO with WELCOME; returns the HELLO frame."""
        self.page.evaluate(
            "window.__sent = []; window.__conn = vango._attach((b) => __sent.push(Array.from(b)))"
        )
        hello = self.take_sent()
        assert len(hello) == 1, f"expected one HELLO on open, got {hello}"
        self.receive(protocol.Welcome(1, seq, ack, heartbeat_ms, resumed))
        frame: list[Any] = hello[0]
        return frame

    def disconnect(self, code: int = 1000) -> None:
        """The test transport closes (as a WebSocket would when the network drops), with
        ``code`` as the close code the client sees."""
        self.page.evaluate("(c) => window.__conn.close(c)", code)

    def classes(self, selector: str = "[data-vango-root]") -> set[str]:
        return set((self.page.get_attribute(selector, "class") or "").split())

    def receive(self, frame: protocol.Frame) -> None:
        self.receive_bytes(protocol.encode(frame))

    def receive_bytes(self, data: bytes) -> None:
        self.page.evaluate("(b) => vango._recv(new Uint8Array(b))", list(data))

    def take_sent(self) -> list[Any]:
        """Frames sent since the last call, decoded by msgpack-python."""
        raw: list[list[int]] = self.page.evaluate("window.__sent.splice(0)")
        return [msgpack.unpackb(bytes(b), raw=False) for b in raw]

    def apply(self, ops: list[list[Any]]) -> None:
        self.page.evaluate("(ops) => vango._apply(ops)", ops)

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.page.evaluate("vango.state")
        return state

    def root_html(self) -> str:
        html: str = self.page.inner_html("[data-vango-root]")
        return html


@pytest.fixture
def client(page: Page) -> ClientPage:
    """A fresh page with the client loaded into an empty root."""
    cp = ClientPage(page)
    cp.load("")
    return cp


@pytest.fixture(scope="module")
def shared_client(browser: Browser) -> Iterator[ClientPage]:
    """One page for many cheap checks (hypothesis examples, vector lists) in one module."""
    context = browser.new_context()
    cp = ClientPage(context.new_page())
    cp.load("")
    yield cp
    context.close()


@pytest.fixture
def page_client_paused(page: Page) -> ClientPage:
    """A ClientPage not yet loaded: the test calls ``load(..., paused_clock=True)``."""
    return ClientPage(page)
