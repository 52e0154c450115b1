"""Child components and streams, once in Chromium (the real clients, hypercorn, the fast
door) and once in the harness: the same events go out and the page shows the same."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser import open_live, wait_synced
from tests.harness.test_parity import ROUTES, browser_log, harness_log, server
from tests.servers import Server
from vango_actors.testing import Harness, LiveView

__all__ = ["server"]


@pytest.fixture
def vango_routes() -> str:
    return ROUTES


CLICKS = ["#kid-a", "#reverse", "#kid-a", "#kid-c", "#bold-1", "#open-2", "#change", "#bold-3"]
CLICKS = [*CLICKS, "#reset", "#bold-9"]
KIDS_SENT = [
    ["click", {}],  # #around's click, then the stream's event
    ["stream", {"event": "pick", "key": "1"}],
    ["click", {}],
    ["stream", {"event": "open", "key": "2"}],  # a link in an item: not followed
    ["click", {}],
    ["stream", {"event": "pick", "key": "3"}],
    ["click", {}],
    ["stream", {"event": "pick", "key": "9"}],
]
SHOWN = {"kids": "c1b0a2", "items": ["item-9"], "texts": "nine"}
SHOWN_BEFORE_RESET = {"kids": "c1b0a2", "items": ["item-1", "item-3"], "texts": "unothree"}


def _browser_shown(page: Page) -> dict[str, object]:
    return {
        "kids": page.text_content("#kids"),
        "items": page.eval_on_selector_all("#around li", "(all) => all.map((e) => e.id)"),
        "texts": page.eval_on_selector_all(
            "#around b", "(a) => a.map((e) => e.textContent).join('')"
        ),
    }


def _harness_shown(view: LiveView) -> dict[str, object]:
    return {
        "kids": view.text("#kids"),
        "items": [e.attrs["id"] for e in view.select("#around li")],
        "texts": "".join(e.text_content for e in view.select("#around b")),
    }


@pytest.mark.browser
def test_children_and_streams_in_chromium(page: Page, server: Server) -> None:
    open_live(page, server.url + "/kids")
    shown = []
    for selector in CLICKS:
        page.click(selector)
        wait_synced(page)
        if selector == "#bold-3":
            shown.append(_browser_shown(page))
    assert page.url.endswith("/kids")
    assert [*shown, _browser_shown(page)] == [SHOWN_BEFORE_RESET, SHOWN]
    assert browser_log(page) == KIDS_SENT


async def test_children_and_streams_in_the_harness(vango: Harness) -> None:
    view = await vango.mount("/kids")
    shown = []
    for selector in CLICKS:
        await view.click(selector)
        if selector == "#bold-3":
            shown.append(_harness_shown(view))
    assert view.url == "/kids"
    assert [*shown, _harness_shown(view)] == [SHOWN_BEFORE_RESET, SHOWN]
    assert harness_log(view) == KIDS_SENT
