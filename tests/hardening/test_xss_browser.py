"""Rendering safety in real Chromium: hostile strings never execute, first render or patches.

``/xss`` renders payloads that would set ``window.pwned`` as text, attribute values, ``href``,
``src`` and textarea values; the test then types each payload (TEXT and SET_ATTR patches) and
adds it to the list (INSERT with HTML), clicks and hovers every link, focuses everything, and
checks ``window.pwned`` is still undefined and the text arrived verbatim.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.browser import wait_synced
from tests.servers import Server

from .pages.xss import PAYLOADS
from .server import pages_under_hypercorn

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with pages_under_hypercorn("xss") as running:
        yield running


def poke_everything(page: Page) -> None:
    """Hover and focus every element; every URL, as Chromium parses it, is not script."""
    schemes = page.evaluate(
        """() => [...document.querySelectorAll('a[href], img[src]')].map(
            (e) => new URL(e.href || e.src).protocol)"""
    )
    assert not {"javascript:", "vbscript:", "data:"} & set(schemes), schemes
    page.evaluate(
        """() => {
            for (const e of document.querySelectorAll('*')) {
                e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
                if (e.focus) e.focus();
            }
        }"""
    )


def assert_not_pwned(page: Page) -> None:
    assert page.evaluate("() => typeof window.pwned") == "undefined", page.evaluate(
        "() => String(window.pwned)"
    )


def test_payloads_never_execute_first_render_or_patched(page: Page, server: Server) -> None:
    page.goto(server.url + "/xss")
    wait_synced(page)
    page.evaluate("() => { window.__notReloaded = true; }")
    poke_everything(page)
    texts = page.locator("#list .text").all_text_contents()
    assert texts == list(PAYLOADS)
    for payload in PAYLOADS:
        page.fill("#in", payload)  # input events: TEXT + SET_ATTR patches
        wait_synced(page)
        page.click("#add")  # INSERT of a list item built from the payload
        wait_synced(page)
        assert page.text_content("#echo-text") == payload
        assert page.get_attribute("#echo-attr", "title") == payload
        poke_everything(page)
        page.wait_for_timeout(0)  # let queued tasks (onerror, onload) run before checking
        assert_not_pwned(page)
    assert page.locator("#list .text").all_text_contents() == [*PAYLOADS, *PAYLOADS]
    hrefs = page.eval_on_selector_all("a", "(els) => els.map((a) => a.getAttribute('href'))")
    assert not any(
        h and h.lower().lstrip().startswith(("javascript", "vbscript", "data")) for h in hrefs
    )
    assert page.evaluate("() => window.__notReloaded === true"), "the page reloaded"
    assert page.locator("script").count() == 1  # only the client script; no injected ones
