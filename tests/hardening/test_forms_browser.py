"""A field the page renders with ``value=""`` is cleared by a submit, in Chromium (LiveView's
behaviour); a field without a value of the page's keeps what the user typed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.browser import open_live, wait_synced
from tests.servers import Server

from .server import pages_under_hypercorn

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with pages_under_hypercorn("forms") as running:
        yield running


def test_a_submit_clears_the_fields_the_page_renders_empty(page: Page, server: Server) -> None:
    open_live(page, server.url + "/notes")
    page.fill("#body", "two litres")
    page.fill("#free", "kept")
    page.click("#title")
    page.keyboard.type("milk")
    page.keyboard.press("Enter")  # submitted from the focused field
    wait_synced(page)
    assert page.text_content("#notes") == "milk: two litres"
    assert [page.input_value(s) for s in ("#title", "#body", "#free")] == ["", "", "kept"]
    page.keyboard.type("eggs")  # the field is usable again, focus kept
    page.click("#add")
    wait_synced(page)
    assert page.eval_on_selector_all("#notes li", "els => els.map(e => e.textContent)") == [
        "milk: two litres",
        "eggs: ",
    ]
    assert page.input_value("#title") == ""
