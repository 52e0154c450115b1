"""Patch ops the property test does not reach, and the typing user's focus, caret, selection."""

from __future__ import annotations

from typing import Any

import pytest

from tests.client.conftest import ORIGIN, ClientPage
from vango_actors.protocol import Patches

pytestmark = pytest.mark.browser

INPUT = '<div data-hid="h1"><input id="i" data-hid="h2" data-on="input" value="hello"></div>'


def caret(client: ClientPage) -> list[Any]:
    """[id, selectionStart, selectionEnd] of the focused element."""
    found: list[Any] = client.page.evaluate(
        "[document.activeElement.id, document.activeElement.selectionStart,"
        " document.activeElement.selectionEnd]"
    )
    return found


def test_stale_value_echo_is_skipped_while_input_is_unacked(client: ClientPage) -> None:
    client.load(INPUT)
    client.connect()
    client.page.click("#i")
    client.page.keyboard.press("End")
    client.page.keyboard.type("ab")  # events 1 and 2
    client.receive(Patches(1, 1, [[3, 2, "value", "helloa"]]))  # answers event 1 only
    assert client.page.input_value("#i") == "helloab"
    client.receive(Patches(2, 2, [[3, 2, "value", "HELLOAB"]]))  # answers the last one
    assert client.page.input_value("#i") == "HELLOAB"
    assert caret(client) == ["i", 7, 7]


def test_server_value_on_focused_input_keeps_selection_clamped(client: ClientPage) -> None:
    client.load(INPUT)
    client.connect()
    client.page.focus("#i")
    client.page.evaluate("document.getElementById('i').setSelectionRange(1, 4)")
    client.apply([[3, 2, "value", "hey"]])
    assert client.page.input_value("#i") == "hey"
    assert caret(client) == ["i", 1, 3]


def test_replace_of_focused_input_moves_focus_and_caret_to_its_successor(
    client: ClientPage,
) -> None:
    client.load(INPUT)
    client.page.focus("#i")
    client.page.evaluate("document.getElementById('i').setSelectionRange(2, 2)")
    client.apply([[7, 1, '<div data-hid="h1"><input id="i" data-hid="h2" value="hello"></div>']])
    assert caret(client) == ["i", 2, 2]
    assert client.page.evaluate("document.activeElement.isConnected") is True


def test_a_replace_that_moves_focus_sends_no_focus_or_blur(client: ClientPage) -> None:
    # the patch took the focused input away and the client focused its successor: the user
    # neither left nor entered it, so bound focus/blur handlers hear nothing
    bound = '<input id="i" data-hid="h2" data-on="focus blur" value="hello">'
    client.load(f'<div data-hid="h1">{bound}</div>')
    client.connect()
    client.page.focus("#i")
    assert [f[3] for f in client.take_sent()] == ["focus"]
    client.apply([[7, 1, f'<div data-hid="h1">{bound}</div>']])
    assert caret(client)[0] == "i"
    client.page.evaluate("document.activeElement.blur()")  # a real blur still goes out
    assert [f[3] for f in client.take_sent()] == ["blur"]


def test_move_of_focused_element_keeps_focus(client: ClientPage) -> None:
    client.load(
        '<ul data-hid="h1"><li data-hid="h2">a</li>'
        '<li data-hid="h3"><input id="i" data-hid="h4"></li></ul>'
    )
    client.page.focus("#i")
    client.apply([[6, 1, 3, 0]])
    assert caret(client)[0] == "i"
    assert client.page.evaluate("document.querySelector('ul').firstChild.dataset.hid") == "h3"


def test_replace_of_hid_0_replaces_the_container_contents(client: ClientPage) -> None:
    client.load(INPUT)
    client.apply([[7, 0, '<main data-hid="h7"><b data-hid="h8">x</b></main>']])
    assert client.root_html() == '<main data-hid="h7"><b data-hid="h8">x</b></main>'
    client.apply([[0, 8, 0, "y"]])  # the new hids are addressable at once
    assert client.page.inner_text("b") == "y"


def test_insert_into_svg_creates_svg_elements(client: ClientPage) -> None:
    client.load('<svg data-hid="h1" width="10" height="10"></svg>')
    client.apply([[4, 1, 0, '<circle data-hid="h2" r="4"></circle>']])
    assert client.page.evaluate("document.querySelector('circle').namespaceURI") == (
        "http://www.w3.org/2000/svg"
    )
    client.apply([[1, 2, "r", "5"]])
    assert client.page.evaluate("document.querySelector('circle').r.baseVal.value") == 5


def test_insert_of_table_rows_parses_in_context(client: ClientPage) -> None:
    client.load('<table><tbody data-hid="h1"></tbody></table>')
    client.apply([[4, 1, 0, '<tr data-hid="h2"><td data-hid="h3">1</td></tr>']])
    assert client.page.inner_html("tbody") == '<tr data-hid="h2"><td data-hid="h3">1</td></tr>'


def test_page_level_ops(client: ClientPage) -> None:
    client.load('<input id="i" data-hid="h2"><input id="j" data-hid="h3">')
    client.apply([[8, "/users/7?tab=a", False], [9, "Todos (2)"], [10, 3]])
    assert client.page.url == f"{ORIGIN}/users/7?tab=a"
    assert client.page.title() == "Todos (2)"
    assert caret(client)[0] == "j"
    pushed = client.page.evaluate("history.length")
    client.apply([[8, "/users/8", True]])
    assert client.page.evaluate("history.length") == pushed  # replaced, not pushed
    assert client.page.url == f"{ORIGIN}/users/8"


def test_focus_puts_the_caret_at_the_end_of_the_value(client: ClientPage) -> None:
    # the edit box a patch just opened: typing goes after its text, not before it
    client.load(
        '<input id="i" data-hid="h2" value="buy milk"><textarea id="t" data-hid="h3">ab\ncd'
        '</textarea><input type="email" id="e" data-hid="h4" value="a@b.c">'
        '<button id="b" data-hid="h5">ok</button>'
    )
    client.apply([[10, 2]])
    assert caret(client) == ["i", 8, 8]
    client.page.keyboard.type("!")
    assert client.page.input_value("#i") == "buy milk!"
    client.apply([[10, 3]])
    assert caret(client) == ["t", 5, 5]
    client.apply([[10, 4]])  # no selection API on an e-mail input: focused all the same
    assert caret(client)[0] == "e"
    client.apply([[10, 5]])
    assert caret(client)[0] == "b"


def test_set_prop_checked_and_selected(client: ClientPage) -> None:
    client.load(
        '<input type="checkbox" id="c" data-hid="h2">'
        '<select id="s" data-hid="h3"><option data-hid="h4">a</option>'
        '<option data-hid="h5">b</option></select>'
    )
    client.apply([[3, 2, "checked", True], [3, 5, "selected", True]])
    assert client.page.is_checked("#c")
    assert client.page.input_value("#s") == "b"


@pytest.mark.parametrize(
    "ops, message",
    [
        ([[3, 2, "innerHTML", "<b>"]], "SET_PROP innerHTML"),
        ([[0, 1, 0]], "malformed op"),
        ([[99, 1]], "malformed op"),
        ([[5, 1, 9]], "index 9 out of range"),
        ([[6, 1, 77, 0]], "no element with hid 77"),
        ([[0, 1, 0, "x"]], "TEXT: node 0 is not text"),
    ],
)
def test_bad_ops_are_refused_with_a_clear_error(
    client: ClientPage, ops: list[list[object]], message: str
) -> None:
    client.load('<div data-hid="h1"><i data-hid="h2"></i></div>')
    with pytest.raises(Exception, match=message):
        client.apply(ops)
