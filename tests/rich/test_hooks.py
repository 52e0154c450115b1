"""JS hooks, client commands and loading helpers of vango.rich.js in real Chromium against
real hypercorn serving ``tests.rich.pages`` (one test per regression)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser import assert_not_reloaded, console_errors, open_live, wait_synced
from tests.servers import Server

pytestmark = pytest.mark.browser


def _log(page: Page) -> list[list[Any]]:
    """The hook callbacks run since the last call (``hook_probe``'s ``window.hookLog``)."""
    found: list[list[Any]] = page.evaluate("() => hookLog.splice(0)")
    return found


def _click(page: Page, selector: str) -> None:
    page.click(selector)
    wait_synced(page)


def test_push_event_from_a_hook_in_a_stream_item_reaches_the_stream_handler(
    page: Page, pages: Server
) -> None:
    # stream items have no data-hid: this.pushEvent threw in the hook's mounted()
    errors = console_errors(page)
    open_live(page, pages.url + "/hook_probe")
    _log(page)
    _click(page, "#add-item")
    page.wait_for_function(
        "() => document.querySelector('#seen').textContent !== ''", timeout=5_000
    )
    wait_synced(page)
    assert page.text_content("#seen") == "seen:1 {'id': 'item-1'}"
    assert errors == []
    assert_not_reloaded(page)


def test_a_hook_name_the_server_changes_mounts_the_new_hook(page: Page, pages: Server) -> None:
    # the old hook stayed (it got updated()), the new one never mounted, and push_event
    # went on reaching the old hook's handleEvent
    open_live(page, pages.url + "/hook_probe")
    _log(page)
    _click(page, "#rename")  # data-vango-hook A -> B on #swap
    assert _log(page) == [["destroyed", "A", "swap", 1], ["mounted", "B", "swap", 5]]
    _click(page, "#ping")
    page.wait_for_function("() => hookLog.length === 4", timeout=5_000)
    assert [r for r in _log(page) if r[2] == "swap"] == [["ping", "B", "swap", 5, 1]]
    _click(page, "#rename")  # and back
    assert _log(page) == [["destroyed", "B", "swap", 5], ["mounted", "A", "swap", 6]]
    assert_not_reloaded(page)


_LABELS = (
    "() => ['#send', '#plain-send'].map((s) => { const b = document.querySelector(s);"
    " return [b.disabled, b.value, b.getAttribute('value')]; })"
)


def test_disable_with_relabels_an_input_submit(page: Page, pages: Server) -> None:
    # the label was set as the input's text, which an <input> does not show
    errors = console_errors(page)
    open_live(page, pages.url + "/disable")
    page.click("#send")
    assert page.evaluate(_LABELS) == [
        [True, "Sending…", "Sending…"],
        [True, "Sending…", "Sending…"],
    ]
    wait_synced(page)
    assert page.text_content("#sent") == "sent 1"
    # back as rendered: the input without a value attribute shows the browser's "Submit"
    assert page.evaluate(_LABELS) == [[False, "Send", "Send"], [False, "", None]]
    assert errors == []
    assert_not_reloaded(page)


def test_a_bad_selector_in_a_command_chain_skips_that_command_only(
    page: Page, pages: Server
) -> None:
    # querySelectorAll('#1x') threw: the rest of the chain did not run; from the server the
    # frame failed to apply, the client resynced, and a second one reloaded the page
    errors = console_errors(page)
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    open_live(page, pages.url + "/bad_selector")
    page.click("#client")
    assert page.is_visible("#panel")
    assert page.get_attribute("#panel", "class") == "lit"
    page.evaluate(
        "() => { const p = document.querySelector('#panel'); p.hidden = true; p.className = ''; }"
    )
    for n in (1, 2):
        _click(page, "#server")
        assert page.text_content("#clicks") == str(n)
        assert page.is_visible("#panel")
        assert page.get_attribute("#panel", "class") == "lit"
    assert errors == []
    assert sum("#1x" in w for w in warnings) == 3
    assert_not_reloaded(page)


def test_updated_runs_for_server_patches_only_not_the_clients_own_changes(
    page: Page, pages: Server
) -> None:
    # a client command, the submit's read-only lock and data-disable-with's label (and their
    # release) changed the hooked form on the client only, and each ran its hook's updated()
    open_live(page, pages.url + "/hook_form")
    assert _log(page) == [["mounted", "A", "form", 1]]
    page.click("#toggle")  # data-js-click: toggle_class on the button
    assert page.get_attribute("#toggle", "class") == "on"
    page.fill("#q", "x")
    _click(page, "#send")
    assert page.text_content("#sent") == "1"  # a patch outside the form only
    assert _log(page) == []
    _click(page, "#send")
    assert page.text_content("#half") == "1"  # a patch inside the form
    assert _log(page) == [["updated", "A", "form", 1]]
    assert_not_reloaded(page)


def test_push_event_and_exec_js_run_after_the_patches_of_their_frame(
    page: Page, pages: Server
) -> None:
    # they ran before the frame's patches: the new row was not there yet, its hook not
    # mounted (no ping for it) and the command found no #row-4 (as LiveView: events after)
    open_live(page, pages.url + "/hook_probe")
    _log(page)
    _click(page, "#grow")
    page.wait_for_function("() => hookLog.length === 6", timeout=5_000)
    assert _log(page) == [
        ["mounted", "A", "row-4", 5],
        ["ping", "A", "swap", 1, 0],
        ["ping", "A", "row-1", 2, 0],
        ["ping", "A", "row-2", 3, 0],
        ["ping", "A", "row-3", 4, 0],
        ["ping", "A", "row-4", 5, 0],
    ]
    assert page.get_attribute("#row-4", "class") == "lit"
    assert_not_reloaded(page)


def test_hooks_survive_keyed_reorders_and_remount_after_their_component_restarts(
    page: Page, pages: Server
) -> None:
    # (a guard: both were right) a keyed move keeps the element and its hook instance, a
    # patch beside a hook is no update of it; a restarted child renders a new element
    open_live(page, pages.url + "/hook_probe")
    _log(page)
    _click(page, "#reverse")
    _click(page, "#bump-outside")
    assert page.evaluate("() => [...document.querySelectorAll('#rows li')].map((e) => e.id)") == [
        "row-3",
        "row-2",
        "row-1",
    ]
    assert _log(page) == []
    open_live(page, pages.url + "/hook_crash")
    _log(page)
    _click(page, "#boom")
    assert _log(page) == [["destroyed", "A", "fragile", 1], ["mounted", "A", "fragile", 2]]
    _click(page, "#ping")
    page.wait_for_function("() => hookLog.length === 1", timeout=5_000)
    assert _log(page) == [["ping", "A", "fragile", 2, 1]]  # the new instance only
