"""Forms whose fields and buttons are tied to them by ``form="id"``, once in Chromium (the
real client, hypercorn, the fast door) and once in the harness: the same submits go out."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser import open_live, wait_synced
from tests.harness.test_parity import ROUTES, browser_log, harness_log, server
from tests.servers import Server
from vango_actors.testing import Harness

__all__ = ["server"]


@pytest.fixture
def vango_routes() -> str:
    return ROUTES


MAIN = {"inside": "in", "outside": "typed", "box": "on", "size": "l", "do": "go"}
OWNERS_SENT = [
    ["submit", {"form": MAIN}],  # the button outside the form submits it, with its fields
    ["submit", {"form": {"inside": "in", "outside": "", "size": "s", "do": "go"}}],  # reset
    ["submit", {"form": {"away": "far"}}],  # a field inside #main that belongs to #other
    ["submit", {"form": {**MAIN, "outside": "last"}}],
]


@pytest.mark.browser
def test_fields_and_buttons_with_a_form_attribute_in_chromium(page: Page, server: Server) -> None:
    open_live(page, server.url + "/owners")
    page.fill("#outside", "typed")
    page.fill("#away", "far")
    for selector in ("#out-box", "#large", "#out-go", "#out-reset"):
        page.click(selector)
        wait_synced(page)
    assert page.is_checked("#small") and not page.is_checked("#large")
    page.press("#outside", "Enter")  # the default button of #main is outside it
    wait_synced(page)
    page.press("#away", "Enter")
    wait_synced(page)
    page.fill("#outside", "last")
    page.click("#out-box")
    page.click("#large")
    page.click("#out-go")
    assert browser_log(page) == OWNERS_SENT


async def test_fields_and_buttons_with_a_form_attribute_in_the_harness(vango: Harness) -> None:
    view = await vango.mount("/owners")
    await view.type("#outside", "typed")
    await view.type("#away", "far")
    for selector in ("#out-box", "#large", "#out-go", "#out-reset"):
        await view.click(selector)
    assert view.value("#small") is True and view.value("#large") is False
    await view.keydown("#outside", "Enter")
    await view.keydown("#away", "Enter")
    await view.submit("#main", {"outside": "last", "box": True, "size": "l"}, submitter="#out-go")
    assert harness_log(view) == OWNERS_SENT
