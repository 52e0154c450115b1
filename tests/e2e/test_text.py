"""Text from user data end to end, through hypercorn and Chromium: lone surrogates, control
characters, emoji and other non-BMP text in first renders, patches and events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trio
from playwright.sync_api import Page

from tests.browser import console_errors
from tests.e2e.test_browser import assert_not_reloaded, open_live, wait_synced
from tests.servers import Server, fetch, hypercorn_server
from vango_actors.testing import open_harness

pytestmark = pytest.mark.browser

SHOWN = "caf\ufffd \U0001f600 \ufffd"  # what the browser holds for text_pages.surrogates.BAD


@pytest.fixture(scope="module")
def pages() -> Iterator[Server]:
    env = {"VANGO_ROUTES": "tests.e2e.text_pages", "VANGO_SECRET_KEY": "text", "VANGO_DEV": "0"}
    with hypercorn_server(env=env) as running:
        yield running


def test_a_page_whose_text_holds_lone_surrogates_is_served(pages: Server) -> None:
    fetched = fetch(pages.url + "/surrogates")
    assert fetched.status == 200, fetched.text
    assert f'id="first">{SHOWN}</p>' in fetched.text
    assert "<title>Bad \ufffd title</title>" in fetched.text


def test_lone_surrogates_in_a_patch_show_as_replacement_characters(
    page: Page, pages: Server
) -> None:
    errors = console_errors(page)
    open_live(page, pages.url + "/surrogates")
    assert page.text_content("#first") == SHOWN
    assert page.title() == "Bad \ufffd title"
    page.click("#show")
    wait_synced(page)
    assert page.text_content("#later") == SHOWN
    assert page.get_attribute("#later", "title") == SHOWN
    assert page.input_value("#field") == SHOWN
    page.click("#bump")  # the session lives on
    wait_synced(page)
    assert page.text_content("#count") == "1"
    page.fill("#field", "e\U0001f600\u0301\u05d0z")  # emoji, combining mark, RTL
    wait_synced(page)
    assert page.text_content("#typed") == "65 1f600 301 5d0 7a"
    assert_not_reloaded(page)
    assert errors == []


def test_pasting_text_above_the_str_limit_loses_that_event_only(page: Page, pages: Server) -> None:
    # 40,000 chars fit the 64 KiB frame but not the 32 KiB str limit: the server refuses the
    # event as too big (close 1009), the client drops it and goes on; it used to resend it
    # on every reconnect (a PROTOCOL close), so no later event ever arrived
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    open_live(page, pages.url + "/long")
    page.fill("#notes", "x" * 40_000)
    page.click("#bump")
    page.wait_for_function("() => document.querySelector('#count').textContent === '1'")
    assert page.text_content("#length") == "0"
    page.fill("#notes", "short")
    wait_synced(page)
    assert page.text_content("#length") == "5"
    assert page.input_value("#notes") == "short"
    assert any("server error 2 " in w and "max_str_len" in w for w in warnings), warnings
    assert_not_reloaded(page)


def test_line_breaks_and_nul_show_the_same_in_the_first_render_patches_and_the_harness(
    page: Page, pages: Server
) -> None:
    # A raw \r in markup became \n in the browser while SET_TEXT / SET_ATTR keep it, so the
    # same text differed between the first render and a patch; a NUL was dropped from text
    # (U+FFFD in the attribute). Now \r is written as &#13; and NUL as U+FFFD.
    async def reference() -> tuple[str, str | None]:
        async with open_harness("tests.e2e.text_pages") as vango:
            view = await vango.mount("/controls")
            first = view.document.select("#first")[0]
            return first.text_content, first.attrs.get("title")

    open_live(page, pages.url + "/controls")
    first = (page.text_content("#first"), page.get_attribute("#first", "title"))
    assert first == ("a\r\nb\rc\ufffdd",) * 2
    assert trio.run(reference) == first
    page.click("#show")
    wait_synced(page)
    later = (page.text_content("#later"), page.get_attribute("#later", "title"))
    assert later == ("a\r\nb\rc\0d",) * 2  # patches carry the text as is
