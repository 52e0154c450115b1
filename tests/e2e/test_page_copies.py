"""Several tabs, history and copies of one live page in real Chromium (PROTOCOL.md 3, 4.3).

A copy of a page is the same HTML, so the same session id, in a second tab: what a cache that
keeps the page, a service worker or a browser that restores tabs from memory hand out. Chromium
refetches a ``no-store`` page on Back, duplicate and restore (a new session each time); the
copy is made here by answering the second tab's request with the first one's HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgpack
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, WebSocketRoute

from tests.browser import CHROMIUM, CHROMIUM_ARGS, open_live, wait_synced
from tests.servers import Server, hypercorn_server

from .conftest import E2E_ENV

pytestmark = pytest.mark.browser

LIVE = re.compile(r"/vango/live/")
BFCACHE_OFF = "--disable-back-forward-cache"  # one of Playwright's default Chromium flags


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A context whose pages may reach loopback from a document a route fulfilled (Chromium's
    local network access check blocks that otherwise)."""
    context = browser.new_context(permissions=["local-network-access"])
    yield context
    context.close()


def open_copy(context: BrowserContext, url: str, html: str) -> Page:
    """A new tab showing ``html`` as the answer to ``url`` (a copy of a page shown before)."""
    copy = context.new_page()
    copy.route(
        url,
        lambda route: route.fulfill(
            status=200, body=html, headers={"content-type": "text/html; charset=utf-8"}
        ),
    )
    return copy


def count(page: Page) -> str:
    return page.text_content("#count") or ""


def shown_live(context: BrowserContext, url: str) -> tuple[Page, str]:
    """A tab showing the live page at ``url``, connected, and the HTML it was given."""
    first = context.new_page()
    response = first.goto(url)
    assert response is not None
    assert response.headers["cache-control"] == "no-store"
    html = response.text()
    wait_synced(first)
    return first, html


def test_a_copy_of_a_page_takes_its_session_and_its_first_click_counts(
    context: BrowserContext, server: Server
) -> None:
    url = server.url + "/counter"
    first, html = shown_live(context, url)
    for _ in range(3):
        first.click("#inc")
    wait_synced(first)
    copy = open_copy(context, url, html)
    open_live(copy, url)
    assert count(copy) == "3"  # the session's state, caught up from the replay buffer
    copy.click("#inc")  # its seq 1 is below the session's ack (3): it used to be dropped
    wait_synced(copy)
    assert count(copy) == "4"
    # The first page was told (4002) and stays off: no fight over the session.
    first.wait_for_selector("[data-vango-root].vango-error", timeout=5000)
    assert first.evaluate("() => window.vango.state.connected") is False
    copy.click("#inc")
    wait_synced(copy)
    assert count(copy) == "5"
    assert copy.evaluate("() => window.vango.state.connected") is True


def test_clicks_a_copy_queued_before_its_first_connection_count(
    context: BrowserContext, server: Server
) -> None:
    url = server.url + "/counter"
    first, html = shown_live(context, url)
    for _ in range(2):
        first.click("#inc")
    wait_synced(first)
    copy = open_copy(context, url, html)
    let_through = False

    def socket(ws: WebSocketRoute) -> None:
        if let_through:
            ws.connect_to_server()
        else:
            ws.close(code=1011, reason="not yet")

    copy.route_web_socket(LIVE, socket)
    copy.goto(url)
    copy.wait_for_selector("[data-vango-root].vango-disconnected", timeout=5000)
    copy.click("#inc")  # queued with seqs 1 and 2: at or below the session's ack (2)
    copy.click("#inc")
    assert copy.evaluate("() => window.vango.state.pending") == 2
    let_through = True
    wait_synced(copy, timeout_ms=20_000)
    assert count(copy) == "4"


BANNER = "(s) => getComputedStyle(document.querySelector(s), '::before').content"


def test_the_page_a_copy_took_the_session_from_says_so(
    context: BrowserContext, server: Server
) -> None:
    url = server.url + "/counter"
    first, html = shown_live(context, url)
    assert first.evaluate(BANNER, "[data-vango-root]") == "none"
    copy = open_copy(context, url, html)
    open_live(copy, url)
    first.wait_for_selector("[data-vango-root].vango-error", timeout=5000)
    # It looked live before, and its clicks went nowhere: now it says what to do.
    assert "reload" in first.evaluate(BANNER, "[data-vango-root]").lower()
    assert copy.evaluate(BANNER, "[data-vango-root]") == "none"


@pytest.fixture(scope="module")
def forgetful_server() -> Iterator[Server]:
    """A server whose replay buffer keeps no frame: every resume is a resync."""
    with hypercorn_server(env={**E2E_ENV, "VANGO_REPLAY_BYTES": "1"}) as running:
        yield running


def test_a_copy_resynced_after_a_live_navigation_shows_the_url_of_what_it_shows(
    context: BrowserContext, forgetful_server: Server
) -> None:
    url = forgetful_server.url + "/nav"
    first, html = shown_live(context, url)
    first.click("#leave")  # navigate("/nav_other"): same session, another route
    first.wait_for_url("**/nav_other")
    wait_synced(first)
    copy = open_copy(context, url, html)
    received: list[Any] = []
    copy.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda data: received.append(msgpack.unpackb(data)) if isinstance(data, bytes) else 0,
        ),
    )
    open_live(copy, url)
    assert copy.text_content("h1") == "Other page"
    # The resync showed /nav_other: the address bar says so (it said /nav), and the page
    # holds that route's token (a later remount would have mounted /nav again).
    assert copy.evaluate("() => location.pathname") == "/nav_other"
    resyncs = [f for f in received if f[0] == 4 and f[3] and f[3][0][:2] == [7, 0]]
    assert resyncs, received
    assert [op[0] for op in resyncs[0][3]][-2:] == [8, 12]


SESSION = "() => document.querySelector('[data-vango-root]').dataset.vangoSession"


def test_two_tabs_on_one_url_are_two_sessions_that_do_not_interfere(
    context: BrowserContext, server: Server
) -> None:
    one, two = context.new_page(), context.new_page()
    open_live(one, server.url + "/counter")
    open_live(two, server.url + "/counter")
    assert one.evaluate(SESSION) != two.evaluate(SESSION)
    for _ in range(2):
        one.click("#inc")
    two.click("#dec")
    wait_synced(one)
    wait_synced(two)
    assert (count(one), count(two)) == ("2", "-1")
    assert "vango-connected" in (one.get_attribute("[data-vango-root]", "class") or "")


def test_back_to_a_live_page_loads_it_anew_even_with_the_back_forward_cache(
    playwright: Playwright, server: Server
) -> None:
    # Playwright turns Chromium's back-forward cache off; a user's browser has it on. A live
    # page is not kept in it (no-store, and a WebSocket on a no-store page): Back loads the
    # page again, with a session of its own, and the live socket of the page left is closed.
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, ignore_default_args=[BFCACHE_OFF]
    )
    try:
        page = browser.new_page()
        open_live(page, server.url + "/counter")
        first = page.evaluate(SESSION)
        page.click("#inc")
        wait_synced(page)
        open_live(page, server.url + "/clock")
        page.go_back()
        wait_synced(page)
        reasons = page.evaluate(
            "() => JSON.stringify(performance.getEntriesByType('navigation')[0].notRestoredReasons)"
        )
        assert "response-cache-control-no-store" in reasons
        assert page.evaluate(SESSION) != first
        assert count(page) == "0"  # a fresh mount, as after a full navigation in LiveView
        page.click("#inc")
        wait_synced(page)
        assert count(page) == "1"
    finally:
        browser.close()
