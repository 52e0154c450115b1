"""After a submit the page's rendered values win again, as in LiveView: ``value=""`` clears."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vango_actors import Component, Element, Event, h
from vango_actors.protocol import Op
from vango_actors.testing import Harness


class Tags(Component):
    def render(self) -> Element:
        return h.input(name="tags", id="tags", value="")  # a child component in the form


class Notes(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.notes: list[str] = []
        self.title = ""
        self.error = ""

    def add(self, event: Event) -> None:
        form = event.payload["form"]
        if len(form["title"]) > 5:
            self.error, self.title = "too long", form["title"]  # keep what was typed
            return
        self.notes.append(f"{form['title']}: {form['text']}")
        self.error = self.title = ""

    def render(self) -> Element:
        return h.div(
            h.form(
                h.input(name="title", id="title", value=self.title),
                h.input(name="text", id="text", value=""),  # the same render every time
                h.textarea(name="body", id="body", value=""),  # (text children: the same)
                h.input(name="free", id="free"),  # no value of the page's: the browser's
                h(Tags),
                id="f",
                on_submit=self.add,
            ),
            h.p(self.error, id="error"),
            h.ul([h.li(n, key=i) for i, n in enumerate(self.notes)], id="notes"),
        )


async def test_fields_rendered_with_a_value_are_reset_to_it_after_a_submit(
    vango: Harness,
) -> None:
    view = await vango.mount(Notes)
    for field, text in [("#title", "milk"), ("#text", "2 l"), ("#body", "b"), ("#free", "x")]:
        await view.type(field, text)
    await view.type("#tags", "shop")
    reply = await view.submit("#f")
    assert view.text("#notes") == "milk: 2 l"
    values = [view.value(s) for s in ("#title", "#text", "#body", "#free", "#tags")]
    assert values == ["", "", "", "x", ""]
    resent = {(op[1], op[3]) for op in reply.ops if op[0] == Op.SET_PROP}
    hid = {s: view.element(s).hid for s in ("#title", "#text", "#body", "#tags")}
    assert resent == {(hid[s], "") for s in hid}


async def test_a_value_the_page_keeps_equal_to_the_submitted_one_sends_nothing(
    vango: Harness,
) -> None:
    view = await vango.mount(Notes)
    await view.type("#title", "much too long")
    reply = await view.submit("#f")
    assert view.text("#error") == "too long" and view.value("#title") == "much too long"
    title = view.element("#title").hid
    assert [op for op in reply.ops if op[0] == Op.SET_PROP and op[1] == title] == [
        [Op.SET_PROP, title, "value", "much too long"]
    ]  # the render changed "" -> the text: the diff's op, not a second one


class Search(Component):
    """A form whose fields sit elsewhere on the page, tied to it by ``form="search"``."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.found: list[str] = []

    def find(self, event: Event) -> None:
        self.found.append(str(event.payload["form"]["q"]))

    def render(self) -> Element:
        return h.div(
            h.form(
                h.button("Find", id="find"),
                h.input(name="q", id="elsewhere", value="", form="other"),  # not this form's
                id="search",
                on_submit=self.find,
            ),
            h.input(name="q", id="q", value="", form="search"),  # after it, outside
            h.form(h.input(name="q", id="note", value=""), id="other"),
            h.p(", ".join(self.found), id="found"),
        )


async def test_fields_tied_to_the_form_by_a_form_attribute_are_reset_too(vango: Harness) -> None:
    view = await vango.mount(Search)
    await view.type("#q", "milk")
    await view.type("#elsewhere", "kept")
    await view.type("#note", "kept")
    await view.submit("#search")
    assert view.text("#found") == "milk"
    assert [view.value(s) for s in ("#q", "#elsewhere", "#note")] == ["", "kept", "kept"]
