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


def field(page: Page, selector: str) -> list[object]:
    """Value, caret and whether the field has the focus."""
    found: list[object] = page.eval_on_selector(
        selector,
        "e => [e.value, e.selectionStart, e.selectionEnd, e === document.activeElement]",
    )
    return found


def test_a_field_appearing_or_leaving_above_the_one_typed_in_leaves_it_alone(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/signup")
    page.click("#email")
    for key in "ab":  # each answer inserts (then keeps) the error message above the field
        page.keyboard.type(key)
        wait_synced(page)
    assert page.is_visible("#email-error")
    assert field(page, "#email") == ["ab", 2, 2, True]
    page.keyboard.type("@x")
    wait_synced(page)  # the message goes: the field does not slide onto #phone
    assert page.query_selector("#email-error") is None
    assert field(page, "#email") == ["ab@x", 4, 4, True]
    assert field(page, "#phone") == ["", 0, 0, False]
    assert page.text_content("#server-email") == "ab@x"
    page.click("#business")
    wait_synced(page)
    page.fill("#company", "ACME")
    page.click("#personal")
    wait_synced(page)  # the company field goes: its text does not move into #email
    assert page.query_selector("#company") is None
    assert [page.input_value(s) for s in ("#email", "#phone")] == ["ab@x", ""]


def test_a_late_answer_does_not_undo_a_later_click_on_a_checkbox_or_radio(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/signup")
    page.evaluate("() => vango.enableLatencySim(100)")
    answered_first = "() => vango.state.pending === 1"
    # the answer to the first click lands between the second and the third: it is older
    # than the second click and must not tick the box (or the group's radio) back
    page.click("#news")
    page.click("#news")
    page.wait_for_function(answered_first)
    page.click("#news")
    page.click("#business")
    page.click("#personal")
    page.wait_for_function(answered_first)
    page.click("#business")  # still unticked: a change event goes out
    wait_synced(page)
    assert page.text_content("#server-choices") == "business True"
    assert [page.is_checked(s) for s in ("#news", "#business", "#personal")] == [
        True,
        True,
        False,
    ]


@pytest.mark.parametrize("selector", ["#loud", "#plain"])
def test_an_ime_composition_is_left_alone_by_the_answers_to_its_keystrokes(
    page: Page, server: Server, selector: str
) -> None:
    # Chinese typed with an IME in a field the server upper-cases: each answer set the value
    # mid-composition, which ended the composition and started it again on the new text
    # ("NNINIHNIHANIHAO你好")
    open_live(page, server.url + "/shout")
    cdp = page.context.new_cdp_session(page)
    page.click(selector)
    seen = selector + "-seen"
    for text in ("n", "ni", "nih", "niha", "nihao"):
        cdp.send(
            "Input.imeSetComposition",
            {"text": text, "selectionStart": len(text), "selectionEnd": len(text)},
        )
        # the answer to this keystroke (its value echo with it) arrives mid-composition
        shown = text.upper() if selector == "#loud" else text
        page.wait_for_function(
            "([s, t]) => document.querySelector(s).textContent === t",
            arg=[seen, shown],
            timeout=10_000,
        )
    cdp.send("Input.insertText", {"text": "你好"})
    wait_synced(page)
    assert page.input_value(selector) == "你好"
    assert page.text_content(seen) == "你好"
