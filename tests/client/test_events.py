"""Delegated listeners build the documented EVENT frames (docs/ARCHITECTURE.md, Event bindings).

Frames go out through the test transport and are decoded by msgpack-python.
"""

from __future__ import annotations

import pytest

from tests.client.conftest import ClientPage
from vango_actors.protocol import Patches

pytestmark = pytest.mark.browser


def test_click_on_bound_button(client: ClientPage) -> None:
    client.load('<div data-hid="h1"><button id="b" data-hid="h2" data-on="click">+</button></div>')
    client.connect()
    client.page.click("#b")
    assert client.take_sent() == [[3, 1, 2, "click", {}]]


def test_click_on_child_goes_to_nearest_bound_ancestor(client: ClientPage) -> None:
    client.load(
        '<div data-hid="h1" data-on="click"><p data-hid="h2" data-on="input">'
        '<span id="s" data-hid="h3">x</span></p></div>'
    )
    client.connect()
    client.page.click("#s")
    assert client.take_sent() == [[3, 1, 1, "click", {}]]


def test_unbound_click_sends_nothing(client: ClientPage) -> None:
    client.load('<div data-hid="h1"><button id="b" data-hid="h2" data-on="input">x</button></div>')
    client.connect()
    client.page.click("#b")
    client.page.evaluate("vango._whenIdle()")
    assert client.take_sent() == []


def _default_prevented_on_click(client: ClientPage, selector: str) -> bool:
    client.page.evaluate(
        "document.addEventListener('click', (e) => { window.__dp = e.defaultPrevented;"
        " e.preventDefault() })"  # keep the test page: no navigation either way
    )
    client.page.click(selector)
    return bool(client.page.evaluate("window.__dp"))


def test_bound_link_and_submit_button_do_not_navigate(client: ClientPage) -> None:
    client.load(
        '<a id="a" href="/elsewhere" data-hid="h1" data-on="click">go</a>'
        '<form data-hid="h2"><button id="b" data-hid="h3" data-on="click">ok</button></form>'
    )
    client.connect()
    assert _default_prevented_on_click(client, "#a")
    assert _default_prevented_on_click(client, "#b")
    assert [f[2] for f in client.take_sent()] == [1, 3]


def test_link_inside_bound_element_keeps_its_default(client: ClientPage) -> None:
    client.load('<div data-hid="h1" data-on="click"><a id="a" href="/x" data-hid="h2">go</a></div>')
    client.connect()
    assert not _default_prevented_on_click(client, "#a")
    assert client.take_sent() == [[3, 1, 1, "click", {}]]


def test_input_sends_value_per_keystroke(client: ClientPage) -> None:
    client.load('<input id="i" data-hid="h4" data-on="input">')
    client.connect()
    client.page.click("#i")
    client.page.keyboard.type("hé✓")
    assert client.take_sent() == [
        [3, 1, 4, "input", {"value": "h"}],
        [3, 2, 4, "input", {"value": "hé"}],
        [3, 3, 4, "input", {"value": "hé✓"}],
    ]


def test_checkbox_change_carries_checked(client: ClientPage) -> None:
    client.load('<input type="checkbox" id="c" data-hid="h5" data-on="change">')
    client.connect()
    client.page.click("#c")
    client.page.click("#c")
    assert client.take_sent() == [
        [3, 1, 5, "change", {"value": "on", "checked": True}],
        [3, 2, 5, "change", {"value": "on", "checked": False}],
    ]


def test_a_multi_select_change_carries_every_chosen_value(client: ClientPage) -> None:
    # ``value`` is the browser's (the first chosen); ``values`` all of them, in option order
    client.load(
        '<select id="s" multiple data-hid="h5" data-on="change"><option>x</option>'
        '<option value="2">y</option><option>z</option></select>'
    )
    client.connect()
    client.page.select_option("#s", ["z", "2"])
    assert client.take_sent() == [[3, 1, 5, "change", {"value": "2", "values": ["2", "z"]}]]


FORM = (
    '<form id="f" data-hid="h1" data-on="submit">'
    '<input name="title" value="Buy milk" data-hid="h2">'
    '<input type="checkbox" name="tags" value="a" checked data-hid="h3">'
    '<input type="checkbox" name="tags" value="b" data-hid="h4">'
    '<select name="pick" multiple data-hid="h5"><option selected>x</option><option>y</option>'
    "</select>"
    '<input type="checkbox" name="agree" value="yes" checked data-hid="h6">'
    '<input name="dup" value="1" data-hid="h7"><input name="dup" value="2" data-hid="h8">'
    '<button id="go" name="action" value="save" data-hid="h9">save</button></form>'
)


FORM_SENT = {
    "tags": ["a"],  # a checkbox group is always a list
    "pick": ["x"],  # so is a multi-select
    "title": "Buy milk",
    "agree": "yes",
    "dup": ["1", "2"],  # repeated names become a list
    "action": "save",  # the submitter
}  # (the harness sends the same: tests/harness/test_forms.py)


def test_submit_collects_form_values_and_stays_on_page(client: ClientPage) -> None:
    client.load(FORM)
    client.connect()
    client.page.click("#go")
    assert client.take_sent() == [[3, 1, 1, "submit", {"form": FORM_SENT}]]
    assert client.page.url.endswith("/page")


def test_a_form_in_flight_is_read_only_and_takes_no_second_submit(client: ClientPage) -> None:
    client.load(
        '<form id="f" data-hid="h1" data-on="submit"><input id="t" name="t" data-hid="h2">'
        '<input id="r" name="r" readonly value="kept" data-hid="h3">'
        '<input id="c" type="checkbox" name="c" data-hid="h4">'
        '<button data-hid="h7">add</button></form>'
        '<form id="g" data-hid="h5" data-on="submit"><input id="u" name="u" data-hid="h6"></form>'
    )
    client.connect()
    client.page.fill("#t", "milk")
    client.page.press("#t", "Enter")
    client.page.press("#t", "Enter")  # a double Enter: one submit
    client.page.press("#u", "Enter")  # another form is not locked
    sent = client.take_sent()
    assert [(f[1], f[2], f[3]) for f in sent] == [(1, 1, "submit"), (2, 5, "submit")]
    read_only = "() => ['t', 'r', 'c', 'u'].map((i) => document.getElementById(i).readOnly)"
    assert client.page.evaluate(read_only) == [True, True, True, True]
    client.page.keyboard.type("x")  # refused while in flight
    assert client.page.input_value("#t") == "milk"
    client.receive(Patches(1, 1, []))
    assert client.page.evaluate(read_only) == [False, True, False, True]  # readonly stays
    client.page.press("#t", "Enter")
    assert [(f[1], f[2], f[3]) for f in client.take_sent()] == [(3, 1, "submit")]


def test_form_field_named_proto_is_an_ordinary_field(client: ClientPage) -> None:
    client.load(
        '<form id="f" data-hid="h1" data-on="submit"><input name="__proto__" value="x">'
        '<input name="b" value="y"><button id="go">go</button></form>'
    )
    client.connect()
    client.page.click("#go")
    assert client.take_sent() == [[3, 1, 1, "submit", {"form": {"__proto__": "x", "b": "y"}}]]


def test_keydown_respects_data_keys(client: ClientPage) -> None:
    client.load('<input id="i" data-hid="h3" data-on="keydown" data-keys="Enter Escape">')
    client.connect()
    client.page.click("#i")
    client.page.keyboard.type("ab")
    client.page.keyboard.press("Enter")
    client.page.keyboard.press("Escape")
    assert client.take_sent() == [
        [3, 1, 3, "keydown", {"key": "Enter", "value": "ab"}],
        [3, 2, 3, "keydown", {"key": "Escape", "value": "ab"}],
    ]


def test_keyup_without_filter_and_on_non_control(client: ClientPage) -> None:
    client.load('<div id="d" tabindex="0" data-hid="h3" data-on="keyup">x</div>')
    client.connect()
    client.page.focus("#d")
    client.page.keyboard.press("a")
    assert client.take_sent() == [[3, 1, 3, "keyup", {"key": "a"}]]


def test_focus_and_blur_map_from_focusin_focusout(client: ClientPage) -> None:
    client.load(
        '<input id="i" value="v" data-hid="h2" data-on="focus blur"><input id="j" data-hid="h3">'
    )
    client.connect()
    client.page.focus("#i")
    client.page.focus("#j")
    assert client.take_sent() == [
        [3, 1, 2, "focus", {"value": "v"}],
        [3, 2, 2, "blur", {"value": "v"}],
    ]


def test_no_blur_is_sent_when_a_patch_removes_the_focused_element(client: ClientPage) -> None:
    # The server's own patch took the element away (an edit box closed on Enter): that is no
    # user's blur, and its hid is unbound by then (the server would answer UNKNOWN_TARGET).
    client.load('<p data-hid="h1"><input id="i" data-hid="h2" data-on="blur keydown"></p>')
    client.connect()
    client.page.focus("#i")
    client.page.keyboard.press("Enter")
    assert [f[3] for f in client.take_sent()] == ["keydown"]
    client.receive(Patches(1, 1, [[5, 1, 0]]))  # REMOVE the input
    assert client.page.query_selector("#i") is None
    assert client.take_sent() == []  # (Chromium fires that blur within the removal itself)
    assert client.state()["pending"] == 0


def test_loading_classes_until_acknowledged(client: ClientPage) -> None:
    from vango_actors.protocol import Patches

    client.load('<button id="b" data-hid="h2" data-on="click">+</button>')
    client.connect()
    client.page.click("#b")
    client.page.click("#b")
    assert client.page.get_attribute("#b", "class") == "vango-loading vango-click-loading"
    assert client.state()["pending"] == 2
    client.receive(Patches(1, 1, []))
    assert client.page.get_attribute("#b", "class") == "vango-loading vango-click-loading"
    client.receive(Patches(2, 2, []))
    assert client.page.get_attribute("#b", "class") == ""
    assert client.state() == {"connected": True, "lastSeq": 2, "eventSeq": 2, "pending": 0}


def test_debounce_sends_latest_value_after_quiet(page_client_paused: ClientPage) -> None:
    c = page_client_paused
    c.load('<input id="i" data-hid="h2" data-on="input" data-debounce="300">', paused_clock=True)
    c.connect()
    c.page.click("#i")
    c.page.keyboard.type("abc")
    c.page.clock.run_for(299)
    assert c.take_sent() == []
    assert c.state()["pending"] == 1
    c.page.clock.run_for(2)
    assert c.take_sent() == [[3, 1, 2, "input", {"value": "abc"}]]


def test_debounced_input_flushes_on_enter_and_blur(page_client_paused: ClientPage) -> None:
    c = page_client_paused
    c.load(
        '<input id="i" data-hid="h2" data-on="input keydown" data-debounce="300" data-keys="Enter">'
        '<input id="j" data-hid="h3">',
        paused_clock=True,
    )
    c.connect()
    c.page.click("#i")
    c.page.keyboard.type("ab")
    c.page.keyboard.press("Enter")  # flushes the input; the keydown itself is debounced too
    c.page.keyboard.type("c")
    c.page.focus("#j")  # blur flushes
    assert c.take_sent() == [
        [3, 1, 2, "input", {"value": "ab"}],
        [3, 2, 2, "keydown", {"key": "Enter", "value": "ab"}],
        [3, 3, 2, "input", {"value": "abc"}],
    ]


def test_debounced_input_flushes_before_submit(page_client_paused: ClientPage) -> None:
    c = page_client_paused
    c.load(
        '<form id="f" data-hid="h1" data-on="submit">'
        '<input id="i" name="q" data-hid="h2" data-on="input" data-debounce="300">'
        '<button id="go" data-hid="h3">go</button></form>',
        paused_clock=True,
    )
    c.connect()
    c.page.click("#i")
    c.page.keyboard.type("xy")
    c.page.click("#go")
    assert c.take_sent() == [
        [3, 1, 2, "input", {"value": "xy"}],
        [3, 2, 1, "submit", {"form": {"q": "xy"}}],
    ]


def test_throttle_sends_first_then_latest_per_interval(page_client_paused: ClientPage) -> None:
    c = page_client_paused
    c.load('<input id="i" data-hid="h2" data-on="input" data-throttle="100">', paused_clock=True)
    c.connect()
    c.page.click("#i")
    c.page.keyboard.type("abcd")
    assert c.take_sent() == [[3, 1, 2, "input", {"value": "a"}]]
    c.page.clock.run_for(100)
    assert c.take_sent() == [[3, 2, 2, "input", {"value": "abcd"}]]
    c.page.clock.run_for(500)
    assert c.take_sent() == []


def test_enter_flushes_a_debounced_container_binding(page_client_paused: ClientPage) -> None:
    c = page_client_paused
    c.load(
        '<div data-hid="h1" data-on="input" data-debounce="300"><input id="i" data-hid="h2"></div>',
        paused_clock=True,
    )
    c.connect()
    c.page.click("#i")
    c.page.keyboard.type("ok")
    c.page.keyboard.press("Enter")
    assert c.take_sent() == [[3, 1, 1, "input", {"value": "ok"}]]
