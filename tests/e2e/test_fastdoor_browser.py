"""Chromium through the fast door: the page on the HTTP port, its live socket on the door's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.servers import Server, hypercorn_server

from .conftest import E2E_ENV
from .test_browser import (
    assert_not_reloaded,
    check_oversize_message_dropped,
    open_live,
    wait_synced,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fast_server() -> Iterator[Server]:
    """The demo app with ``VANGO_LIVE_PORT=0``: the fast door on a free port of its own."""
    with hypercorn_server(env={**E2E_ENV, "VANGO_LIVE_PORT": "0"}) as running:
        yield running


def test_counter_over_the_fast_door(page: Page, fast_server: Server) -> None:
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    open_live(page, fast_server.url + "/counter")
    for _ in range(3):
        page.click("#inc")
    wait_synced(page)
    assert page.text_content("#count") == "3"
    assert_not_reloaded(page)
    [url] = sockets
    assert url.startswith("ws://127.0.0.1:") and f":{fast_server.port}/" not in url


def test_a_message_over_the_frame_limit_over_the_fast_door(page: Page, fast_server: Server) -> None:
    check_oversize_message_dropped(page, fast_server.url)
