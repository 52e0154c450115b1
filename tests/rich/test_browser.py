"""Rich interaction in real Chromium against real hypercorn: typing vs. slow echoes, loading
states, live navigation (patch, navigate, back/forward, title), flash, commands, hooks."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.test_browser import assert_not_reloaded, open_live, wait_synced
from tests.servers import Server

pytestmark = pytest.mark.browser

TYPED = ("the quick brown fox jumps over the lazy dog " * 5)[:200]


def test_typing_200_chars_against_a_slow_server_keeps_every_keystroke(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/nav_search")
    page.click("#search")
    page.keyboard.type(TYPED)  # no delay: ~200 input events while each takes 50 ms on the server
    wait_synced(page, 30_000)
    assert page.input_value("#search") == TYPED
    assert page.text_content("#server-query") == TYPED
    assert page.evaluate("() => new URL(location.href).searchParams.get('q')") == TYPED
    assert_not_reloaded(page)


def test_loading_classes_disable_with_and_read_only_form(page: Page, server: Server) -> None:
    open_live(page, server.url + "/hooks")
    page.click("#slow")
    assert page.evaluate(
        "() => { const b = document.querySelector('#slow'); return [b.disabled, b.textContent,"
        " b.classList.contains('vango-click-loading')]; }"
    ) == [True, "Saving…", True]
    wait_synced(page)
    assert page.evaluate(
        "() => { const b = document.querySelector('#slow'); return [b.disabled, b.textContent,"
        " b.className]; }"
    ) == [False, "Save (slow)", ""]
    assert page.text_content("#saved") == "1"
    page.fill("#slow-name", "ada")
    page.click("#slow-submit")
    assert page.evaluate(
        "() => [document.querySelector('#slow-name').readOnly,"
        " document.querySelector('#slow-submit').textContent,"
        " document.querySelector('#slow-form').classList.contains('vango-submit-loading')]"
    ) == [True, "Sending…", True]
    wait_synced(page)
    assert page.evaluate("() => document.querySelector('#slow-name').readOnly") is False
    assert page.text_content("#submitted") == "ada"
    root = page.get_attribute("[data-vango-root]", "class") or ""
    assert "vango-connected" in root.split()


def test_live_navigation_patch_navigate_back_forward_title_and_flash(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/nav")
    assert page.text_content("#tab-content") == "First tab"
    assert page.text_content("#params-calls") == "1"
    page.evaluate("() => { window.__tab = document.querySelector('#tab-content'); }")
    page.click("#tab-b")  # a data-vango-nav link to the same page: push_patch semantics
    wait_synced(page)
    assert page.text_content("#tab-content") == "Second tab"
    assert page.url.endswith("/nav?tab=b")
    assert page.title() == "Navigation: Second tab"
    # the same instance (handle_params again, no new mount) and the same DOM nodes
    assert page.text_content("#params-calls") == "2"
    assert page.evaluate("() => window.__tab === document.querySelector('#tab-content')")
    page.click("#next-tab")  # server-side push_patch
    wait_synced(page)
    assert page.url.endswith("/nav?tab=c")
    assert page.text_content("#tab-content") == "Third tab"
    page.click("#leave")  # put_flash + navigate to another live page, same socket
    wait_synced(page)
    assert page.url.endswith("/nav_other")
    assert page.title() == "Other page"
    assert page.text_content("#flash-info") == "You came from the tabs page."
    page.click("#other-click")
    wait_synced(page)
    assert page.text_content("#other-clicks") == "1"
    page.go_back()  # popstate: the server renders /nav?tab=c again, no new history entry
    page.wait_for_selector("#tab-content")
    wait_synced(page)
    assert page.text_content("#tab-content") == "Third tab"
    assert page.title() == "Navigation: Third tab"
    assert page.query_selector("#flash-info") is None  # shown on one page, then dropped
    page.go_back()
    page.wait_for_function(
        "() => document.querySelector('#tab-content')?.textContent === 'Second tab'"
    )
    wait_synced(page)
    assert page.url.endswith("/nav?tab=b")
    page.go_forward()
    page.wait_for_function(
        "() => document.querySelector('#tab-content')?.textContent === 'Third tab'"
    )
    wait_synced(page)
    page.click("#nav-other")
    page.wait_for_selector("#other-title")
    wait_synced(page)
    assert page.query_selector("#flash-info") is None
    page.click("#back")  # put_flash + navigate: the flash travels with the navigation
    page.wait_for_selector("#flash-info")
    wait_synced(page)
    assert page.text_content("#flash-info") == "Back from the other page."
    page.click("#flash-info")  # dismissed on click
    wait_synced(page)
    assert page.query_selector("#flash-info") is None
    assert_not_reloaded(page)


def test_client_commands_run_without_a_round_trip_and_from_the_server(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/hooks")
    assert page.is_hidden("#panel")
    sent = page.evaluate("() => vango.state.eventSeq")
    page.click("#toggle-panel")
    assert page.is_visible("#panel")
    assert "pressed" in (page.get_attribute("#toggle-panel", "class") or "")
    assert page.evaluate("() => vango.state.eventSeq") == sent  # nothing went to the server
    page.click("#toggle-panel")
    assert page.is_hidden("#panel")
    page.click("#exec")
    wait_synced(page)
    assert page.is_visible("#panel")
    assert "highlight" in (page.get_attribute("#panel", "class") or "")


def test_hooks_mounted_updated_destroyed_push_event_both_ways(page: Page, server: Server) -> None:
    open_live(page, server.url + "/hooks")
    assert page.get_attribute("#ticker", "data-mounted") == "1"
    # updated() is for server patches inside the element: not mounted()'s own writes, nor
    # the client's loading classes while the hook's event is in flight
    assert page.get_attribute("#ticker", "data-updated") is None
    for n in (1, 2):
        page.click("#hook-ping")
        wait_synced(page)
        assert page.text_content("#pings") == str(n)
        page.wait_for_function(
            "(n) => document.querySelector('#hook-log').textContent === 'pong ' + n", arg=n
        )
        assert page.get_attribute("#ticker", "data-updated") == str(n)  # the #pings text
    page.click("#toggle-ticker")
    wait_synced(page)
    page.wait_for_function("() => window.__tickerDestroyed === 1")
    page.click("#toggle-ticker")
    wait_synced(page)
    page.wait_for_function("() => document.querySelector('#ticker')?.dataset.mounted === '1'")
    page.click("#hook-ping")
    wait_synced(page)
    page.wait_for_function("() => document.querySelector('#hook-log').textContent === 'pong 3'")


def test_live_navigation_into_a_hook_page_runs_its_script(page: Page, server: Server) -> None:
    open_live(page, server.url + "/nav")
    page.click("#nav-hooks")
    page.wait_for_selector("#ticker")
    wait_synced(page)
    assert page.url.endswith("/hooks")
    page.wait_for_function("() => document.querySelector('#ticker').dataset.mounted === '1'")
    page.click("#hook-ping")
    wait_synced(page)
    page.wait_for_function("() => document.querySelector('#hook-log').textContent === 'pong 1'")
    assert_not_reloaded(page)


TALL = (
    "() => { const d = document.createElement('div'); d.style.height = '5000px';"
    " document.body.append(d); }"  # outside the live root: every page of the tab is tall
)


def test_live_navigation_scrolls_like_page_loads_and_back_restores_the_place(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/nav")
    page.evaluate(TALL)
    page.evaluate("() => scrollTo(0, 1200)")
    page.wait_for_function("() => scrollY === 1200")
    click = "(sel) => document.querySelector(sel).click()"  # (Playwright's would scroll to it)
    page.evaluate(click, "#nav-search")  # a live link to another page: at its top
    page.wait_for_selector("#search")
    wait_synced(page)
    assert page.evaluate("() => scrollY") == 0
    page.go_back()
    page.wait_for_selector("#tab-content")
    wait_synced(page)
    page.wait_for_function("() => scrollY === 1200", timeout=5_000)  # where the user was
    page.evaluate("() => scrollTo(0, 700)")
    page.wait_for_function("() => scrollY === 700")
    page.evaluate(click, "#tab-b")  # the same page, another query: the place stays
    wait_synced(page)
    assert page.text_content("#tab-content") == "Second tab"
    assert page.evaluate("() => scrollY") == 700
    assert_not_reloaded(page)


def test_a_fragment_change_asks_nothing_and_a_link_to_the_url_shown_adds_no_entry(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/nav?tab=b")
    sent, entries = page.evaluate("() => [vango.state.eventSeq, history.length]")
    page.evaluate("() => { location.hash = '#tab-content'; }")  # an in-page anchor
    page.go_back()
    page.wait_for_function("() => location.hash === ''")
    assert page.evaluate("() => vango.state.eventSeq") == sent  # no round trip, no remount
    assert page.text_content("#params-calls") == "1"
    for _ in range(3):
        page.click("#tab-b")  # the URL shown: replaced, as a browser does
        wait_synced(page)
    assert page.evaluate("() => history.length") == entries + 1  # (the fragment's entry)
    assert page.url.endswith("/nav?tab=b")


def test_back_while_answers_to_a_push_patch_are_in_flight_keeps_the_right_url(
    page: Page, server: Server
) -> None:
    # each keystroke on /nav_search is answered by a push_patch (replace): answers that
    # arrive after Back wrote the search URL into the entry Back went to
    open_live(page, server.url + "/nav")
    page.click("#nav-search")
    page.wait_for_selector("#search")
    wait_synced(page)
    page.evaluate("vango.enableLatencySim(150)")
    page.click("#search")
    page.keyboard.type("trio", delay=20)
    page.go_back()
    page.wait_for_selector("#tab-content", timeout=10_000)
    wait_synced(page)
    page.evaluate("vango.enableLatencySim(0)")
    assert page.evaluate("() => location.pathname + location.search") == "/nav"
    page.reload()  # what the address bar says is the page shown
    page.wait_for_selector("#tab-content")
    assert page.title().startswith("Navigation")


def _go(page: Page, selector: str) -> None:
    """A click without Playwright's scroll into view (the test is about scroll positions)."""
    page.evaluate("(sel) => document.querySelector(sel).click()", selector)


def _at(page: Page, y: int) -> None:
    """Scroll to ``y`` as a user does: done once the scroll event went out (the client
    learns the place from it)."""
    page.evaluate(
        "(y) => new Promise((done) => { if (scrollY === y) return done();"
        " addEventListener('scroll', () => done(), {once: true}); scrollTo(0, y); })",
        y,
    )
    assert page.evaluate("() => scrollY") == y


def test_a_fragment_link_and_the_pages_own_history_entries_are_the_browsers(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/nav")
    page.evaluate(
        "() => { const d = document.createElement('div'); d.style.height = '5000px';"
        " document.body.prepend(d); const a = document.createElement('a'); a.id = 'frag';"
        " a.href = '/nav#tab-content'; a.setAttribute('data-vango-nav', '');"
        " document.body.append(a); }"
    )
    sent = page.evaluate("() => vango.state.eventSeq")
    _go(page, "#frag")  # a live link to a #fragment of this page: scrolled to, no round trip
    page.wait_for_function("() => scrollY > 4000")
    assert page.evaluate("() => vango.state.eventSeq") == sent
    _at(page, 300)
    page.evaluate("() => history.pushState('app-state', '', '/nav/photo/3')")  # the page's own
    assert page.evaluate("() => scrollY") == 300  # (a native pushState does not scroll)
    page.go_back()
    page.wait_for_function("() => location.pathname === '/nav' && location.hash !== ''")
    page.go_forward()
    page.wait_for_function("() => location.pathname === '/nav/photo/3'")
    assert page.evaluate("() => history.state") == "app-state"  # untouched
    # (popstate runs as the URL changes: a nav event would have its seq already)
    assert page.evaluate("() => vango.state.eventSeq") == sent  # none of it asked the server
    assert_not_reloaded(page)


def test_each_entry_keeps_the_place_it_was_left_at_and_a_late_restore_gives_way(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/nav")
    page.evaluate(TALL)
    _at(page, 1200)
    _go(page, "#nav-other")  # B
    page.wait_for_selector("#other-title")
    wait_synced(page)
    _at(page, 500)
    _go(page, "#nav-search")  # C
    page.wait_for_selector("#search")
    wait_synced(page)
    page.go_back()  # B, as it was left
    page.wait_for_selector("#other-title")
    page.wait_for_function("() => scrollY === 500")
    _at(page, 2000)  # B moved on, then left by Forward: the place kept is 2000
    page.go_forward()
    page.wait_for_selector("#search")
    wait_synced(page)
    page.go_back()
    page.wait_for_selector("#other-title")
    page.wait_for_function("() => scrollY === 2000")  # (it was restored to a stale 500)
    # Back, and a live link before its answer: the new page starts at its top
    page.evaluate("vango.enableLatencySim(150)")
    page.go_back()  # to /nav, left at 1200, restored only once answered
    _go(page, "#nav-search")
    page.wait_for_selector("#search", timeout=10_000)
    wait_synced(page)
    page.evaluate("vango.enableLatencySim(0)")  # (synced: every answer and restore applied)
    assert page.url.endswith("/nav_search") and page.evaluate("() => scrollY") == 0


def test_back_while_a_push_patch_answer_is_in_flight_keeps_the_forward_entry(
    page: Page, server: Server
) -> None:
    # the late pushState of the push_patch landed on the entry Back reached and cut off the
    # entries after it: Forward led nowhere
    open_live(page, server.url + "/nav_other")
    _go(page, "#nav-tabs")
    page.wait_for_selector("#tab-content")
    wait_synced(page)
    entries = page.evaluate("() => history.length")
    page.evaluate("vango.enableLatencySim(150)")
    page.click("#next-tab")  # answered by a push of /nav?tab=b
    page.wait_for_timeout(50)
    page.go_back()
    page.wait_for_selector("#other-title", timeout=10_000)
    wait_synced(page)
    page.evaluate("vango.enableLatencySim(0)")  # (synced: every answer and restore applied)
    assert page.evaluate("() => [location.pathname, history.length]") == ["/nav_other", entries]
    page.go_forward()
    page.wait_for_selector("#tab-content")
    wait_synced(page)
    assert page.evaluate("() => location.pathname") == "/nav"


def test_back_twice_over_a_fragment_entry_ends_on_the_url_reached(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/nav")
    page.evaluate("() => { location.hash = '#tab-content'; }")  # the browser's own entry
    _go(page, "#nav-other")
    page.wait_for_selector("#other-title")
    wait_synced(page)
    page.evaluate("vango.enableLatencySim(150)")
    page.go_back()  # to /nav#tab-content: asks for /nav
    page.wait_for_timeout(40)
    page.go_back()  # to /nav before its answer: the answer must not write the fragment back
    page.wait_for_selector("#tab-content", timeout=10_000)
    wait_synced(page)
    page.evaluate("vango.enableLatencySim(0)")  # (synced: every answer and restore applied)
    assert page.evaluate("() => location.pathname + location.hash") == "/nav"


def test_a_live_link_with_download_is_left_to_the_browser(page: Page, server: Server) -> None:
    # it was followed live: no download, the page changed under the user instead
    open_live(page, server.url + "/nav")
    sent = page.evaluate("() => vango.state.eventSeq")
    page.evaluate("() => document.querySelector('#tab-b').setAttribute('download', 'tab.html')")
    with page.expect_download() as download:
        page.click("#tab-b")
    assert download.value.suggested_filename == "tab.html"
    assert page.evaluate("() => vango.state.eventSeq") == sent
    assert page.text_content("#tab-content") == "First tab" and page.url.endswith("/nav")
    assert_not_reloaded(page)
