"""`/todos` (TodoMVC) in real Chromium, and its reorder on the wire (MOVE, not REPLACE)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trio
from playwright.sync_api import Page

from tests.browser import wait_synced
from tests.liveclient import open_page
from tests.servers import Server, hypercorn_server
from vango_actors.protocol import Patches


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with hypercorn_server(env={"VANGO_SECRET_KEY": "todos-secret"}) as running:
        yield running


def synced(page: Page) -> None:
    wait_synced(page)


def titles(page: Page) -> list[str]:
    return page.eval_on_selector_all("#todo-list li label", "els => els.map(e => e.textContent)")


def add(page: Page, title: str) -> None:
    page.fill("#new-todo", title)
    page.press("#new-todo", "Enter")
    synced(page)


@pytest.mark.browser
def test_while_an_add_is_in_flight_keys_are_refused_and_enter_adds_nothing_more(
    page: Page, server: Server
) -> None:
    # The answer to Enter replaces the box with a fresh one. Until it comes the box is
    # read-only, so nothing typed meanwhile shows up only to vanish with the old box.
    page.goto(server.url + "/todos")
    synced(page)
    page.evaluate("() => vango.enableLatencySim(60)")
    try:
        page.fill("#new-todo", "first")
        page.press("#new-todo", "Enter")
        assert page.evaluate("() => document.querySelector('#new-todo').readOnly") is True
        page.keyboard.type("xyz")  # before the answer (a 120 ms round trip)
        assert page.input_value("#new-todo") == "first"
        synced(page)
        assert titles(page) == ["first"]
        assert page.input_value("#new-todo") == ""
        assert page.evaluate("() => document.querySelector('#new-todo').readOnly") is False
        assert page.evaluate("() => document.activeElement.id") == "new-todo"
        page.keyboard.type("second")
        page.press("#new-todo", "Enter")
        page.press("#new-todo", "Enter")  # again before the answer: the form is busy
        synced(page)
        assert titles(page) == ["first", "second"]
    finally:
        page.evaluate("() => vango.enableLatencySim(0)")


@pytest.mark.browser
def test_todomvc_behaviours(page: Page, server: Server) -> None:
    page.goto(server.url + "/todos")
    synced(page)
    for title in ("milk", "eggs", "bread"):
        add(page, title)
    assert titles(page) == ["milk", "eggs", "bread"]
    assert page.input_value("#new-todo") == ""  # a fresh box after each add...
    assert page.evaluate("() => document.activeElement.id") == "new-todo"  # ...with focus
    assert page.text_content("#todo-count") == "3 items left"

    page.locator("#todo-list li .toggle").nth(1).click()
    synced(page)
    assert page.text_content("#todo-count") == "2 items left"
    assert page.locator("#todo-list li").nth(1).get_attribute("class") == "completed"

    # reorder: the rows are keyed, so the DOM nodes move (expandos survive)
    page.evaluate(
        "() => document.querySelectorAll('#todo-list li').forEach(li => "
        "{ li.__mark = li.querySelector('label').textContent; })"
    )
    page.locator("#todo-list li .up").nth(2).click()
    synced(page)
    assert titles(page) == ["milk", "bread", "eggs"]
    marks = page.eval_on_selector_all("#todo-list li", "els => els.map(e => e.__mark)")
    assert marks == ["milk", "bread", "eggs"]

    page.locator("#todo-list li label").nth(0).dblclick()
    synced(page)
    assert page.evaluate("() => document.activeElement.className") == "edit"
    page.keyboard.type(" (2)")  # the edit box opens with the caret after the title
    page.press("#todo-list li .edit", "Enter")
    synced(page)
    assert titles(page) == ["milk (2)", "bread", "eggs"]
    page.locator("#todo-list li label").nth(0).dblclick()
    synced(page)
    page.fill("#todo-list li .edit", "oat milk")
    page.press("#todo-list li .edit", "Enter")
    synced(page)
    assert titles(page) == ["oat milk", "bread", "eggs"]
    page.locator("#todo-list li label").nth(1).dblclick()
    synced(page)
    page.fill("#todo-list li .edit", "changed my mind")
    page.press("#todo-list li .edit", "Escape")
    synced(page)
    assert titles(page) == ["oat milk", "bread", "eggs"]

    page.click("#filter-completed")
    synced(page)
    assert titles(page) == ["eggs"]
    page.click("#filter-active")
    synced(page)
    assert titles(page) == ["oat milk", "bread"]
    page.click("#filter-all")
    synced(page)

    page.locator("#todo-list li .destroy").nth(0).click()
    synced(page)
    assert titles(page) == ["bread", "eggs"]
    page.click("#clear-completed")
    synced(page)
    assert titles(page) == ["bread"]
    page.click("#toggle-all")
    synced(page)
    assert page.text_content("#todo-count") == "0 items left"


async def test_a_reorder_is_sent_as_move_ops(server: Server) -> None:
    with trio.fail_after(15):
        async with open_page(server.url, "/todos") as client:
            for title in ("a", "b", "c"):
                form = client.hid("#todo-form")
                await client.send_event(form, "submit", {"form": {"title": title}})
                await client.synced()
            before = len(client.frames)
            third_up = client.document.select("#todo-list li .up")[2].hid
            assert third_up is not None
            await client.send_event(third_up, "click")
            await client.synced()
            ops = [op[0] for f in client.frames[before:] if isinstance(f, Patches) for op in f.ops]
            assert 6 in ops and 7 not in ops and 4 not in ops, ops
            labels = [e.text_content for e in client.document.select("#todo-list li label")]
            assert labels == ["a", "c", "b"]
