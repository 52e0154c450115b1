"""Links and live navigation, once in Chromium (the real clients, hypercorn, the fast door)
and once in the harness: the same events reach the page, the same URLs show (the pages of
``tests.harness.pages`` log what their handlers receive, ``handle_params`` too)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser import assert_not_reloaded, open_live, wait_synced
from tests.harness.test_parity import ROUTES, browser_log, harness_log, server
from tests.servers import Server
from vango_actors.testing import Harness

__all__ = ["server"]


@pytest.fixture
def vango_routes() -> str:
    return ROUTES


def _shown(page: Page) -> str:
    found: str = page.evaluate("() => location.pathname + location.search + location.hash")
    return found


# ---------------------------------------------------------------- links and back

LINKS = ["#to-b", "#to-here", "#to-section", "#to-blank", "#to-here"]
LINKS_SHOWN = [  # after each link, then after each of three back steps
    "/links?tab=b",
    "/links?tab=b",  # a link to the URL shown replaces its entry
    "/links?tab=b#section",  # a #fragment of this page: the browser's, no event
    "/links?tab=b#section",  # target=_blank: another tab opens, this one stays
    "/links?tab=b",
    "/links?tab=b#section",  # back across a #fragment: no event either
    "/links?tab=b",
    "/links",
]
LINKS_SENT = [
    ["params", {}],
    ["params", {"tab": "b"}],
    ["params", {"tab": "b"}],  # the URL shown: a patch all the same
    ["params", {"tab": "b"}],  # the link without the #fragment: a patch
    ["params", {}],  # back to the first entry
]


@pytest.mark.browser
def test_live_links_fragments_and_back_in_chromium(page: Page, server: Server) -> None:
    open_live(page, server.url + "/links")
    shown = []
    for selector in LINKS:
        page.click(selector)
        wait_synced(page)
        shown.append(_shown(page))
    for _ in range(3):
        page.go_back()
        wait_synced(page)
        shown.append(_shown(page))
    assert shown == LINKS_SHOWN
    assert browser_log(page) == LINKS_SENT


async def test_live_links_fragments_and_back_in_the_harness(vango: Harness) -> None:
    view = await vango.mount("/links")
    shown = []
    for selector in LINKS:
        await view.click(selector)
        shown.append(view.url)
    for _ in range(3):
        await view.back()
        shown.append(view.url)
    assert shown == LINKS_SHOWN
    assert harness_log(view) == LINKS_SENT


# ---------------------------------------------------------------- a server's relative URL

# resolved against the page, as an href: a patch of this page, the session stays
PATCHED_SENT = [["params", {}], ["params", {"tab": "p"}]]


@pytest.mark.browser
def test_a_push_patch_to_a_relative_url_in_chromium(page: Page, server: Server) -> None:
    open_live(page, server.url + "/links")
    page.click("#patch")  # push_patch("?tab=p")
    page.wait_for_function("() => location.search === '?tab=p'")
    wait_synced(page)
    assert _shown(page) == "/links?tab=p"
    assert_not_reloaded(page)
    assert browser_log(page) == PATCHED_SENT


async def test_a_push_patch_to_a_relative_url_in_the_harness(vango: Harness) -> None:
    view = await vango.mount("/links")
    session = view.session_id
    await view.click("#patch")
    assert (view.url, view.session_id) == ("/links?tab=p", session)
    assert harness_log(view) == PATCHED_SENT


# ---------------------------------------------------------------- downloads


@pytest.mark.browser
def test_links_that_download_in_chromium(page: Page, server: Server) -> None:
    open_live(page, server.url + "/links")
    for selector in ("#download", "#plain-download"):
        with page.expect_download():
            page.click(selector)  # the file is saved; the page stays
        wait_synced(page)
    assert _shown(page) == "/links"
    assert_not_reloaded(page)
    assert browser_log(page) == [["params", {}]]


async def test_links_that_download_in_the_harness(vango: Harness) -> None:
    view = await vango.mount("/links")
    session = view.session_id
    for selector in ("#download", "#plain-download"):
        await view.click(selector)
    assert (view.url, view.session_id) == ("/links", session)
    assert harness_log(view) == [["params", {}]]
