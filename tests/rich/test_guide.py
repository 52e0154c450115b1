"""docs/guides/interaction.md's examples as written, in real Chromium against real hypercorn
serving the pages of ``tests.rich.pages``."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page

from tests.browser import assert_not_reloaded, console_errors, open_live, wait_synced
from tests.servers import Server

pytestmark = pytest.mark.browser


def test_disable_with_keeps_the_elements_of_the_label(page: Page, pages: Server) -> None:
    # the label was replaced by its text: the <span> inside was gone, the answer's patch to
    # it failed, and the page reloaded (its state lost)
    errors = console_errors(page)
    open_live(page, pages.url + "/disable")
    page.click("#save")
    assert page.evaluate(
        "() => { const b = document.querySelector('#save'); return [b.disabled, b.textContent]; }"
    ) == [True, "Saving…"]
    wait_synced(page)
    assert page.text_content("#count") == "saved 1"
    page.click("#save")
    wait_synced(page)
    assert page.inner_html("#save").endswith(">saved 2</span> Save")
    assert page.evaluate("() => document.querySelector('#save').disabled") is False
    assert errors == []
    assert_not_reloaded(page)


def test_the_guide_s_hook_script_mounts_its_hook_after_a_live_navigation(
    page: Page, pages: Server
) -> None:
    # window.vangoHooks = {...} run after a live navigation made a new object the client
    # never looked at: the hook was not mounted and its ping never sent
    open_live(page, pages.url + "/start")
    for n in (1, 2):
        page.click("#to-ticker")
        page.wait_for_selector("#ticker")
        wait_synced(page)
        page.wait_for_function(
            "() => document.querySelector('#log').textContent === 'pong 1'", timeout=5_000
        )
        assert page.text_content("#pings") == "1"
        assert page.evaluate("() => [window.mountedN, window.destroyedN]") == [n, n - 1 or None]
        page.click("#to-start")
        page.wait_for_selector("#start")
        wait_synced(page)
    assert page.evaluate("() => window.destroyedN") == 2
    assert_not_reloaded(page)


def test_the_guide_s_hook_script_mounts_its_hook_on_a_page_load(page: Page, pages: Server) -> None:
    open_live(page, pages.url + "/ticker")
    page.wait_for_function(
        "() => document.querySelector('#log').textContent === 'pong 1'", timeout=5_000
    )
    assert page.evaluate("() => window.mountedN") == 1


def test_an_upload_input_shown_after_the_first_render_uploads(page: Page, pages: Server) -> None:
    # the first render had no data-vango-upload, so the page had no vango.rich.js: the
    # input shown later took a file and nothing happened at all
    open_live(page, pages.url + "/later_upload")
    page.click("#pick")
    wait_synced(page)
    page.set_input_files(
        "#photos", files=[{"name": "a.txt", "mimeType": "text/plain", "buffer": b"x" * 70_000}]
    )
    page.wait_for_function(
        "() => document.querySelector('#entries').textContent === 'a.txt 100'", timeout=5_000
    )
    assert_not_reloaded(page)


def test_exec_js_on_a_page_without_the_rich_script_is_logged(page: Page, pages: Server) -> None:
    # it was dropped without a word: the panel never showed and nothing said why
    open_live(page, pages.url + "/plain")
    page.click("#show")
    wait_synced(page)
    assert page.is_hidden("#panel")  # (the page has no vango.rich.js: as documented)
    wanted = "CALL 'exec' needs vango.rich.js, which page Plain does not load"
    deadline = time.monotonic() + 5
    while wanted not in pages.output() and time.monotonic() < deadline:
        time.sleep(0.05)  # (the server's log is another process's output)
    assert "set rich_client = True on its class" in pages.output()
    assert pages.output().count(wanted) == 1
    page.click("#show")  # once
    wait_synced(page)
    time.sleep(0.3)
    assert pages.output().count(wanted) == 1
