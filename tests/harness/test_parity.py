"""The same interactions in Chromium (the real client, hypercorn and the fast door) and in the
harness: the handlers receive the same events with the same payloads (the pages of
``tests.harness.pages`` log them in ``#log``). Each ``*_SENT`` is what Chromium sent."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from tests.browser import open_live, wait_synced
from tests.servers import Server, hypercorn_server
from vango_actors.testing import Harness, LiveView, ViewError

ROUTES = "tests.harness.pages"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """The parity pages under ``hypercorn -k trio``, live sockets on the fast door."""
    env = {"VANGO_ROUTES": ROUTES, "VANGO_SECRET_KEY": "parity", "VANGO_LIVE_PORT": "0"}
    with hypercorn_server(env=env) as running:
        yield running


@pytest.fixture
def vango_routes() -> str:
    return ROUTES


def browser_log(page: Page) -> list[Any]:
    wait_synced(page)
    found: list[Any] = json.loads(page.text_content("#log") or "")
    return found


def harness_log(view: LiveView) -> list[Any]:
    found: list[Any] = json.loads(view.text("#log"))
    return found


# ---------------------------------------------------------------- clicks on boxes and labels

CLICKS_SENT = [
    ["click", {"value": "on"}],  # #clicked: ticked as it is clicked
    ["change", {"value": "on", "checked": True}],  # the label's box
    ["change", {"value": "l", "checked": True}],  # the radio
    [
        "submit",
        {
            "form": {
                "clicked": "on",
                "wrapped": "on",
                "size": "l",
                "pick": "a",
                "text": "start",
                "do": "save",
            }
        },
    ],
    ["submit", {"form": {"size": "s", "pick": "a", "text": "start", "do": "save"}}],  # reset
]
CLICKS = ["#plain", "#clicked", "#wrap-text", "#for-plain", "#large", "#save"]


@pytest.mark.browser
def test_clicks_on_boxes_labels_and_reset_in_chromium(page: Page, server: Server) -> None:
    open_live(page, server.url + "/boxes")
    for selector in CLICKS:
        page.click(selector)
        wait_synced(page)
    page.fill("#text", "typed")
    for selector in ("#reset", "#save"):
        page.click(selector)
        wait_synced(page)
    assert browser_log(page) == CLICKS_SENT


async def test_clicks_on_boxes_labels_and_reset_in_the_harness(vango: Harness) -> None:
    view = await vango.mount("/boxes")
    for selector in CLICKS:
        await view.click(selector)
    await view.type("#text", "typed")
    for selector in ("#reset", "#save"):
        await view.click(selector)
    assert harness_log(view) == CLICKS_SENT


# ---------------------------------------------------------------- check, choose, change

CHANGES_SENT = [
    ["input", {"value": "on", "checked": True}],
    ["change", {"value": "on", "checked": True}],
    ["input", {"value": "b"}],
    ["change", {"value": "b"}],
    ["input", {"value": "hello"}],
    ["change", {"value": "hello"}],
]


@pytest.mark.browser
def test_a_box_ticked_an_option_chosen_a_field_changed_in_chromium(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/boxes")
    page.check("#both")
    page.select_option("#pick", "b")
    page.fill("#note", "hello")
    page.press("#note", "Tab")  # leaving the field: its change
    assert browser_log(page) == CHANGES_SENT


async def test_a_box_ticked_an_option_chosen_a_field_changed_in_the_harness(
    vango: Harness,
) -> None:
    view = await vango.mount("/boxes")
    await view.check("#both")
    await view.change("#pick", "b")
    await view.change("#note", "hello")
    assert harness_log(view) == CHANGES_SENT


# ---------------------------------------------------------------- the Enter key

ENTRY = {"first": "", "second": "two", "notes": ""}
ENTER_SENT = [
    ["keydown", {"key": "Enter", "value": ""}],
    ["submit", {"form": {**ENTRY, "do": "default"}}],  # the default button's submit
    ["submit", {"form": {**ENTRY, "do": "default"}}],  # (#second's keys: Escape only)
    ["submit", {"form": {**ENTRY, "do": "default"}}],  # from a checkbox too
    ["submit", {"form": {**ENTRY, "do": "other"}}],  # a focused button: its click
    ["submit", {"form": {"lone": ""}}],  # one field, no button: no submitter
    ["keydown", {"key": "Enter", "value": ""}],  # two fields, no button: nothing else
    ["click", {}],  # the default button's click, whose submit the client prevents
    ["keydown", {"key": "Enter", "value": ""}],  # a textarea takes the Enter: no submit
]
ENTERED = ["#first", "#second", "#box", "#other", "#lone", "#p1", "#c1", "#notes"]


@pytest.mark.browser
def test_enter_in_fields_and_on_buttons_in_chromium(page: Page, server: Server) -> None:
    open_live(page, server.url + "/enter")
    page.fill("#second", "two")
    for selector in ENTERED:
        page.press(selector, "Enter")
        wait_synced(page)
    assert page.input_value("#notes") == "\n"  # (the harness types nothing)
    assert browser_log(page) == ENTER_SENT


async def test_enter_in_fields_and_on_buttons_in_the_harness(vango: Harness) -> None:
    view = await vango.mount("/enter")
    await view.type("#second", "two")
    for selector in ENTERED:
        await view.keydown(selector, "Enter")
    assert harness_log(view) == ENTER_SENT


# ---------------------------------------------------------------- typed (pasted) text

TYPED = [
    ("#line", "two\r\nlines\nhere\n"),  # line breaks become spaces, a last one goes
    ("#email", " ada@example.org\n"),  # an address loses the spaces around it
    ("#short", "abcdefgh"),  # maxlength=5
    ("#notes", "a\r\nb\rcdefghij"),  # a textarea's breaks are \n; maxlength=8
    ("#count", "-1.5e3"),
]
TYPED_VALUES = {
    "line": "two lines here",
    "email": "ada@example.org",
    "short": "abcde",
    "notes": "a\nb\ncdef",
    "count": "-1.5e3",
}
TYPED_SENT = [
    *[["input", {"value": value}] for name, value in TYPED_VALUES.items() if name != "notes"],
    ["submit", {"form": TYPED_VALUES}],
]


@pytest.mark.browser
def test_typed_text_is_what_the_field_takes_in_chromium(page: Page, server: Server) -> None:
    open_live(page, server.url + "/typing")
    for selector, text in TYPED:
        page.fill(selector, text)
        wait_synced(page)
    with pytest.raises(PlaywrightError, match="Cannot type text into input\\[type=number\\]"):
        page.fill("#count", "twelve")
    page.press("#line", "Enter")
    assert browser_log(page) == TYPED_SENT


async def test_typed_text_is_what_the_field_takes_in_the_harness(vango: Harness) -> None:
    view = await vango.mount("/typing")
    for selector, text in TYPED:
        await view.type(selector, text)
    message = "cannot type 'twelve' into '#count', a number field: it takes only a number"
    with pytest.raises(ViewError, match=re.escape(message)):
        await view.type("#count", "twelve")
    await view.keydown("#line", "Enter")
    assert harness_log(view) == TYPED_SENT


KEYS_SENT = [
    ["keydown", {"key": "a", "value": ""}],  # the value before the key
    ["keydown", {"key": "b", "value": "a"}],
    ["keydown", {"key": "c", "value": "ab"}],
    ["keydown", {"key": "d", "value": "abc"}],  # maxlength=3: "d" is not taken
]


@pytest.mark.browser
def test_keys_typed_one_by_one_in_chromium(page: Page, server: Server) -> None:
    open_live(page, server.url + "/typing")
    page.locator("#keys").press_sequentially("abcd")
    assert browser_log(page) == KEYS_SENT
    assert page.input_value("#keys") == "abc"


async def test_keys_typed_one_by_one_in_the_harness(vango: Harness) -> None:
    view = await vango.mount("/typing")
    await view.type("#keys", "abcd", event="keydown")  # it sent one keydown without a key
    assert harness_log(view) == KEYS_SENT
    assert view.value("#keys") == "abc"


# ---------------------------------------------------------------- values the browser corrects

SLIDERS = {"volume": "50", "odd": "16", "over": "100", "colour": "#000000", "upper": "#abcdef"}
SLIDERS_SENT = [["submit", {"form": {**SLIDERS, "count": ""}}]]


@pytest.mark.browser
def test_range_colour_and_number_values_in_chromium(page: Page, server: Server) -> None:
    open_live(page, server.url + "/sliders")
    page.click("#save")
    assert browser_log(page) == SLIDERS_SENT


async def test_range_colour_and_number_values_in_the_harness(vango: Harness) -> None:
    view = await vango.mount("/sliders")
    await view.click("#save")  # it sent "" for a range and a colour without a value
    assert harness_log(view) == SLIDERS_SENT
