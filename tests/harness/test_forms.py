"""Forms in the harness send what the browser client sends (``formValues`` in vango.js)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from tests.client.test_events import FORM, FORM_SENT
from vango_actors import Component, Element, Event, h
from vango_actors.dom import Document
from vango_actors.testing import Harness, ViewError, form_values

# The form of tests/client/test_events.py::test_submit_collects_form_values_and_stays_on_page,
# and what Chromium running vango.js sent for a click on #go there.
CLIENT_FORM, CLIENT_SENT = FORM, FORM_SENT


def test_form_values_equal_what_the_browser_client_sent() -> None:
    form = Document.from_html(CLIENT_FORM).select("#f")[0]
    assert form_values(form, form.select("#go")[0]) == CLIENT_SENT
    assert form_values(form) == {k: v for k, v in CLIENT_SENT.items() if k != "action"}


def test_lists_stay_lists_when_nothing_is_chosen() -> None:
    html = (
        '<form id="f">'
        '<select name="many" multiple><option value="1">one</option></select>'
        '<select name="one"><option disabled>-</option><option>  first\n choice </option></select>'
        '<input type="checkbox" name="group" value="a"><input type="checkbox" name="group">'
        '<input type="checkbox" name="alone">'
        '<input type="radio" name="r" value="x">'
        '<fieldset disabled><legend><input name="in-legend" value="kept"></legend>'
        '<input name="in-fieldset" value="dropped"></fieldset>'
        '<input type="file" name="upload"><input type="reset" name="reset">'
        '<input type="submit" name="s" value="S"></form>'
    )
    form = Document.from_html(html).select("#f")[0]
    assert form_values(form) == {
        "many": [],  # a multi-select with nothing selected (not its first option)
        "one": "first choice",  # a drop-down shows its first enabled option, text collapsed
        "group": [],
        "in-legend": "kept",
        "upload": "",  # no file chosen: FormData holds an empty File, named ""
    }
    assert form_values(form, form.select("input[type=submit]")[0])["s"] == "S"


class _Receiving(Component):
    """A form page that shows what its last submit sent."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.received: dict[str, Any] = {}

    def save(self, event: Event) -> None:
        self.received = dict(event.payload["form"])


class Order(_Receiving):
    def render(self) -> Element:
        return h.div(
            h.form(
                h.input(name="item", id="item"),  # no input binding: typed text waits
                h.select(h.option("small", value="s"), h.option("large", value="l"), name="size"),
                h.select(
                    h.option("red", value="r"),
                    h.option("blue", value="b"),
                    name="colours",
                    multiple=True,
                ),
                h.button(h.span("Save", id="save-label"), name="action", value="save", id="save"),
                h.button("Delete", name="action", value="delete", id="delete"),
                h.button("Reset", type="reset", id="reset"),
                id="order",
                on_submit=self.save,
            ),
            h.button("outside", type="submit", id="outside"),
            h.pre(repr(sorted(self.received.items())), id="got"),
        )


async def test_typed_text_in_an_unbound_input_travels_with_the_submit(vango: Harness) -> None:
    view = await vango.mount(Order)
    reply = await view.type("#item", "coffee")  # a browser types anywhere: nothing is sent
    assert reply.frames == () and view.value("#item") == "coffee"
    await view.change("select[name=size]", "l")  # unbound too: only the page changes
    assert view.value("select[name=size]") == "l"
    await view.submit("#order")
    assert view.text("#got") == repr(
        sorted({"item": "coffee", "size": "l", "colours": [], "action": "save"}.items())
    )


async def test_the_submitter_is_the_default_button_or_the_one_named(vango: Harness) -> None:
    view = await vango.mount(Order)
    await view.submit("#order", submitter="#delete")
    assert "('action', 'delete')" in view.text("#got")
    await view.click("#save-label")  # a click on an unbound submit button submits with it
    assert "('action', 'save')" in view.text("#got")
    with pytest.raises(ViewError, match="'#reset' is not a submit button of this form"):
        await view.submit("#order", submitter="#reset")
    with pytest.raises(ViewError, match="'#outside' is not a submit button of this form"):
        await view.submit("#order", submitter="#outside")


async def test_typing_follows_what_a_browser_allows(vango: Harness) -> None:
    view = await vango.mount(Order)
    message = "cannot type into '#save', a <button> (button): only text fields take typing"
    with pytest.raises(ViewError, match=re.escape(message)):
        await view.type("#save", "x")
    message = "<select> has no option with value ['xl']; it has ['s', 'l']"
    with pytest.raises(ViewError, match=re.escape(message)):
        await view.change("select[name=size]", "xl")


class Task(_Receiving):
    """Boxes without a change binding: their state goes with the submit, as in a browser."""

    def render(self) -> Element:
        return h.div(
            h.form(
                h.input(type="checkbox", name="done", id="done"),
                h.input(type="checkbox", name="late", id="late", disabled=True),
                h.input(type="radio", name="size", value="s", id="small", checked=True),
                h.input(type="radio", name="size", value="l", id="large"),
                h.button("Save"),
                id="task",
                on_submit=self.save,
            ),
            h.form(h.input(type="radio", name="size", value="m", id="other", checked=True)),
            h.pre(repr(sorted(self.received.items())), id="got"),
        )


async def test_an_unbound_box_ticked_travels_with_the_submit(vango: Harness) -> None:
    view = await vango.mount(Task)
    reply = await view.check("#done")  # no change binding: nothing is sent, the box is ticked
    assert reply.frames == () and view.value("#done") is True
    await view.check("#large")  # a radio unticks the others of its group, in its form only
    assert [view.value(s) for s in ("#small", "#large", "#other")] == [False, True, True]
    await view.submit("#task")
    assert view.text("#got") == repr([("done", "on"), ("size", "l")])


async def test_ticking_follows_what_a_browser_allows(vango: Harness) -> None:
    view = await vango.mount(Task)
    with pytest.raises(ViewError, match="cannot tick '#late': it is disabled"):
        await view.check("#late")
    assert view.value("#late") is False
    with pytest.raises(ViewError, match="cannot untick the radio '#small'"):
        await view.check("#small", False)
    message = "cannot tick '#got', a <pre> (pre): only checkboxes and radios tick"
    with pytest.raises(ViewError, match=re.escape(message)):
        await view.check("#got")


class Clicks(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.log: list[str] = []

    def note(self, event: Event) -> None:
        self.log = [*self.log, event.type]

    def render(self) -> Element:
        return h.div(
            h.form(
                h.button("bound", id="bound", on_click=self.note),
                id="one",
                on_submit=self.note,
            ),
            h.div(
                h.form(h.button("plain", id="plain"), on_submit=self.note),
                h.button("off", id="off", disabled=True),
                on_click=self.note,
            ),
            h.p(" ".join(self.log), id="log"),
        )


async def test_a_click_runs_the_default_action_the_client_does_not_prevent(
    vango: Harness,
) -> None:
    view = await vango.mount(Clicks)
    await view.click("#bound")  # the client prevents a bound submit button's default
    assert view.text("#log") == "click"
    await view.click("#plain")  # bound on an ancestor: the click, then the form's submit
    assert view.text("#log") == "click click submit"
    with pytest.raises(ViewError, match=r"^'#off' is disabled: a browser sends no click$"):
        await view.click("#off")


class Tags(Component):
    """A controlled multi-select: the server's list says what is chosen."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.tags: list[str] = ["b"]

    def pick(self, event: Event) -> None:
        self.tags = list(event.payload["values"])

    def clear(self) -> None:
        self.tags = []

    def render(self) -> Element:
        return h.div(
            h.select(
                h.option("A", value="a"),
                h.optgroup(h.option("B", value="b"), h.option("C", value="c")),
                id="tags",
                multiple=True,
                value=self.tags,
                on_change=self.pick,
            ),
            h.button("clear", id="clear", on_click=self.clear),
            h.select(h.option("x"), h.option("y"), id="one"),
            h.p(" ".join(self.tags), id="got"),
        )


def _chosen(view: Any) -> list[str]:
    return [o.attrs["value"] for o in view.select("#tags option") if o.prop("selected")]


async def test_a_multi_select_sends_every_value_and_follows_the_server(vango: Harness) -> None:
    view = await vango.mount(Tags)
    assert _chosen(view) == ["b"]  # value=[...] marks its options on the first render
    await view.change("#tags", ["a", "c"])
    assert view.text("#got") == "a c"
    assert _chosen(view) == ["a", "c"]
    reply = await view.click("#clear")  # the server deselects: live properties, not markup
    props = [op[2:] for patch in reply.patches for op in patch.ops if op[0] == 3]  # SET_PROP
    assert props == [["selected", False], ["selected", False]]
    assert _chosen(view) == [] and view.text("#got") == ""
    with pytest.raises(ViewError, match=re.escape("'#one' is not a <select multiple>")):
        await view.change("#one", ["x", "y"])


class Posting(Component):
    """A form without on_submit: Enter in it (or its button) would post it natively."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.keys = 0

    def key(self) -> None:
        self.keys += 1

    def render(self) -> Element:
        return h.div(
            h.form(h.input(name="q", id="q", on_keydown=self.key), h.button("Find", id="find")),
            on_click=self.key,
        )


async def test_enter_or_a_click_that_would_post_a_form_is_a_view_error(vango: Harness) -> None:
    view = await vango.mount(Posting)
    message = "'#q' submits a form without a submit binding: a browser would post it"
    with pytest.raises(ViewError, match=re.escape(message)):
        await view.keydown("#q", "Enter")
    with pytest.raises(ViewError, match="'#find' submits a form without a submit binding"):
        await view.click("#find")
    await view.keydown("#q", "a")  # no Enter: the keydown alone


async def test_submit_takes_a_form(vango: Harness) -> None:
    view = await vango.mount(Order)
    message = "'#item' is an <input>, not a <form>: submit takes a form (or click its button)"
    with pytest.raises(ViewError, match=re.escape(message)):
        await view.submit("#item")  # it sent {"form": {}} to the form around it
    with pytest.raises(ViewError, match=re.escape("'div' is a <div>, not a <form>")):
        await view.submit("div")
    assert view.text("#got") == "[]"


async def test_submit_values_are_what_a_user_could_enter_in_the_form(vango: Harness) -> None:
    view = await vango.mount(Order)
    with pytest.raises(ViewError, match=r"'#order' has no enabled field named 'nope'"):
        await view.submit("#order", {"nope": "x"})  # it was sent as if the form had one
    with pytest.raises(ViewError, match=re.escape("has no option with value ['xl']")):
        await view.submit("#order", {"size": "xl"})  # it was sent, no option has it
    await view.submit("#order", {"item": "tea\n", "colours": ["b"]})
    assert view.text("#got") == repr(
        sorted({"item": "tea", "size": "s", "colours": ["b"], "action": "save"}.items())
    )
    view = await vango.mount(Task)
    await view.submit("#task", {"done": True, "size": "l"})  # ticks them, as a user would
    assert view.text("#got") == repr([("done", "on"), ("size", "l")])
    assert view.value("#done") is True and view.value("#large") is True
    with pytest.raises(ViewError, match=r"'#task' has no enabled field named 'late'"):
        await view.submit("#task", {"late": True})  # disabled: it was sent all the same
    with pytest.raises(ViewError, match=r"no radio named 'size' has the value 'xl'"):
        await view.submit("#task", {"size": "xl"})
    view = await vango.mount(Order)
    await view.submit("#order", {"colours": []})
    assert "('colours', [])" in view.text("#got")
    message = "'#order' has no enabled field named 'action' (it has ['colours', 'item', 'size']); "
    with pytest.raises(ViewError, match=re.escape(message + "a button's name and value go with")):
        await view.submit("#order", {"action": "delete"})  # use submitter="#delete"


class Locked(_Receiving):
    def render(self) -> Element:
        return h.fieldset(
            h.input(id="code", on_keydown=self.save), disabled=True, on_click=self.save
        )


async def test_keys_and_clicks_on_a_disabled_field_are_a_view_error(vango: Harness) -> None:
    view = await vango.mount(Locked)
    with pytest.raises(ViewError, match=r"^'#code' is disabled: a browser sends it no keys$"):
        await view.keydown("#code", "a")  # it was sent: a disabled field cannot be focused
    with pytest.raises(ViewError, match=r"^'#code' is disabled: a browser sends no click$"):
        await view.click("#code")
