"""`/chat` with the memory backend: two sessions in one process see each other."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trio
from playwright.sync_api import Browser, Page

from tests.browser import assert_not_reloaded, open_live, wait_synced
from tests.liveclient import open_page
from tests.servers import Server, hypercorn_server

from .chatclient import me, messages, online, say, wait_message

GRACE = 1.0  # VANGO_DISCONNECT_GRACE of this server (default 60 s)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    env = {
        "VANGO_SECRET_KEY": "chat-memory",
        "VANGO_PUBSUB": "memory",
        "VANGO_DISCONNECT_GRACE": str(GRACE),
    }
    with hypercorn_server(env=env) as s:
        yield s


async def test_chat_message_and_presence_within_one_process(server: Server) -> None:
    with trio.fail_after(20):
        async with open_page(server.url, "/chat") as a, open_page(server.url, "/chat") as b:
            await a.wait_for(lambda: online(a) == {me(a), me(b)})
            await b.wait_for(lambda: online(b) == {me(a), me(b)})
            await say(a, "hello from a")
            await wait_message(b, "hello from a")
            await wait_message(a, "hello from a")
            assert a.text("#chat-error") == ""
            await say(b, "  ")
            assert b.text("#chat-error") == "a chat message cannot be empty"
            async with open_page(server.url, "/chat") as c:  # history for a newcomer
                assert messages(c)[-1] == f"{me(a)}: hello from a"


async def test_a_closed_tab_leaves_online_when_its_disconnect_grace_is_over(server: Server) -> None:
    with trio.fail_after(20):
        async with open_page(server.url, "/chat") as a:
            async with open_page(server.url, "/chat") as b:
                gone = me(b)
                await a.wait_for(lambda: gone in online(a))
            closed_at = trio.current_time()  # b's socket is closed: the tab is gone
            await a.wait_for(lambda: gone not in online(a))
            waited = trio.current_time() - closed_at
            assert GRACE <= waited < GRACE + 2.0, waited  # the grace, then the session ends
            assert me(a) in online(a)


def _rows(page: Page) -> list[str]:
    return page.eval_on_selector_all("#messages li", "els => els.map(e => e.textContent)")


@pytest.mark.browser
def test_chat_in_chromium_rows_reach_the_other_tab(
    page: Page, browser: Browser, server: Server
) -> None:
    context = browser.new_context()
    try:
        other = context.new_page()
        open_live(page, server.url + "/chat")
        open_live(other, server.url + "/chat")
        before = len(_rows(other))
        page.fill("#chat-input", "<b>from chromium</b>")
        page.press("#chat-input", "Enter")
        wait_synced(page)
        other.wait_for_function(
            "n => document.querySelectorAll('#messages li').length > n", arg=before
        )
        assert _rows(other)[-1].endswith(": <b>from chromium</b>")  # escaped: text, not markup
        assert other.locator("#messages li b").count() == 0
        page.wait_for_function("() => document.querySelectorAll('#online li').length >= 2")
        assert page.input_value("#chat-input") == ""
        assert_not_reloaded(page)
        assert_not_reloaded(other)
    finally:
        context.close()


@pytest.fixture(scope="module")
def fast_door_server() -> Iterator[Server]:
    """The fast door (it sees the client's close code), the default 60 s disconnect grace."""
    env = {
        "VANGO_SECRET_KEY": "chat-memory-fast",
        "VANGO_PUBSUB": "memory",
        "VANGO_LIVE_PORT": "0",
        "VANGO_GOING_AWAY_GRACE": "0.5",
    }
    with hypercorn_server(env=env) as s:
        yield s


@pytest.mark.browser
def test_a_closed_chromium_tab_leaves_online_within_seconds(
    browser: Browser, fast_door_server: Server
) -> None:
    """Chromium closes a closed tab's socket with 1001: its session ends after the short
    going-away grace, not the 60 s kept for a connection that only broke."""
    context = browser.new_context()
    try:
        stays, leaves = context.new_page(), context.new_page()
        open_live(stays, fast_door_server.url + "/chat")
        open_live(leaves, fast_door_server.url + "/chat")
        stays.wait_for_function("() => document.querySelectorAll('#online li').length >= 2")
        gone = leaves.text_content("#me")
        assert gone
        leaves.close()
        stays.wait_for_function(
            "name => ![...document.querySelectorAll('#online li')]"
            ".some(li => li.dataset.name === name)",
            arg=gone,
            timeout=15_000,
        )
        assert_not_reloaded(stays)
    finally:
        context.close()
