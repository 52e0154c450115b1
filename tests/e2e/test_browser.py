"""The demo in real Chromium against real hypercorn: no sleeps, wait for the client to be idle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.browser import assert_not_reloaded, open_live, wait_synced
from tests.servers import Server

from .proxy import CuttableProxy

pytestmark = pytest.mark.browser


def test_counter_counts_five_clicks_without_reload(page: Page, server: Server) -> None:
    open_live(page, server.url + "/counter")
    for _ in range(5):
        page.click("#inc")
    wait_synced(page)
    assert page.text_content("#count") == "5"
    page.click("#dec")
    wait_synced(page)
    assert page.text_content("#count") == "4"
    assert_not_reloaded(page)


def test_clock_ticks_by_itself(page: Page, server: Server) -> None:
    open_live(page, server.url + "/clock")
    ticks = int(page.text_content("#ticks") or "0")
    page.wait_for_function(
        "(n) => +document.querySelector('#ticks').textContent >= n + 2", arg=ticks, timeout=5000
    )
    assert page.text_content("#clock") != ""
    assert_not_reloaded(page)


def caret(page: Page) -> list[int]:
    return page.evaluate(
        "() => { const e = document.querySelector('#email'); "
        "return [e.selectionStart, e.selectionEnd]; }"
    )


def test_typing_in_the_middle_keeps_the_caret_while_patches_arrive(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/form")
    page.click("#email")
    page.keyboard.type("alice@example.org")
    wait_synced(page)
    assert page.text_content("#email-error") == ""
    page.evaluate("() => document.querySelector('#email').setSelectionRange(5, 5)")
    # wait_synced also waits out the 150 ms debounce, so a validation patch lands between
    # keys ('@' makes the address invalid, and it stays invalid).
    for n, key in enumerate("@x", start=1):
        page.keyboard.type(key)
        wait_synced(page)
        assert caret(page) == [5 + n, 5 + n]
        assert page.evaluate("() => document.activeElement.id") == "email"
    assert page.input_value("#email") == "alice@x@example.org"
    assert page.text_content("#email-error") == (
        "'alice@x@example.org' is not an e-mail address (expected name@example.org)."
    )
    page.click("#submit")
    wait_synced(page)
    assert page.text_content("#form-result") == ""
    page.fill("#email", "bob@example.org")
    page.click("#submit")
    wait_synced(page)
    assert page.text_content("#form-result") == "Thanks, bob@example.org is signed up."
    assert_not_reloaded(page)


def test_a_message_over_the_frame_limit_is_dropped_and_the_page_goes_on(
    page: Page, server: Server
) -> None:
    check_oversize_message_dropped(page, server.url)


def check_oversize_message_dropped(page: Page, base_url: str) -> None:
    """70 KB typed (and submitted) is above max_frame_bytes (64 KiB): the server refuses each
    such event (close 1009), the client drops it and reconnects once; before, it re-sent it
    on every reconnect and the page never recovered."""
    page.add_init_script(
        "window.__sockets = 0; const W = window.WebSocket;"
        "window.WebSocket = function (...a) { window.__sockets++; return new W(...a); };"
        "window.WebSocket.prototype = W.prototype;"
    )
    open_live(page, base_url + "/form")
    page.fill("#email", "x" * 70_000)
    page.click("#submit")
    wait_synced(page)
    page.fill("#email", "bob@example.org")
    page.click("#submit")
    wait_synced(page)
    assert page.text_content("#form-result") == "Thanks, bob@example.org is signed up."
    assert page.evaluate("window.__sockets") <= 4  # the first, one per refused message
    assert_not_reloaded(page)


def test_crash_restarts_the_component_and_the_page_stays_live(page: Page, server: Server) -> None:
    open_live(page, server.url + "/crash")
    assert page.text_content("#restarts") == "0"
    page.click("#alive")
    wait_synced(page)
    page.click("#boom")
    wait_synced(page)
    assert page.text_content("#restarts") == "1"
    page.click("#alive")
    wait_synced(page)
    assert page.text_content("#clicks") == "2"  # the sibling kept its state
    page.click("#boom")
    wait_synced(page)
    assert page.text_content("#restarts") == "2"
    assert_not_reloaded(page)


def test_boom_clicked_a_dozen_times_restarts_a_dozen_times_without_reload(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/crash")
    page.click("#alive")
    for _ in range(12):  # fast, as a checker clicks: not one waits for the previous answer
        page.click("#boom")
    wait_synced(page)
    assert page.text_content("#restarts") == "12"
    assert page.text_content("#clicks") == "1"
    assert_not_reloaded(page)


def test_user_page_shows_the_path_param(page: Page, server: Server) -> None:
    open_live(page, server.url + "/users/42")
    assert page.text_content("#user-id") == "42"
    assert page.title() == "User 42"
    page.click("#greet")
    wait_synced(page)
    assert page.text_content("#greeting") == "Hello, user 42!"


def test_index_links_every_demo(page: Page, server: Server) -> None:
    page.goto(server.url + "/")
    links = page.eval_on_selector_all("#demos a", "(as) => as.map((a) => a.getAttribute('href'))")
    for href in ["/counter", "/clock", "/form", "/crash", "/users/42"]:
        assert href in links


@pytest.fixture
def proxy(server: Server) -> Iterator[CuttableProxy]:
    assert server.port is not None
    with CuttableProxy(server.port) as running:
        yield running


def test_live_socket_cut_for_a_moment_reconnects_without_losing_events(
    page: Page, proxy: CuttableProxy
) -> None:
    open_live(page, proxy.url + "/counter")
    page.click("#inc")
    wait_synced(page)
    proxy.cut()
    page.wait_for_function("() => !window.vango.state.connected", timeout=10_000)
    page.wait_for_selector("[data-vango-root].vango-disconnected", timeout=10_000)
    page.click("#inc")  # queued while the socket is down
    page.click("#inc")
    proxy.restore()
    wait_synced(page, timeout_ms=30_000)
    assert page.text_content("#count") == "3"
    assert proxy.accepted >= 3  # page, first socket, at least one reconnect
    assert_not_reloaded(page)
