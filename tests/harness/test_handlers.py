"""Which handlers get the Event: a required first parameter takes it, a default keeps its own."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from vango_actors import Component, Element, Event, h
from vango_actors.testing import Harness


class Names(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.names = ["ada", "grace", "alan"]

    def delete(self, name: str) -> None:
        self.names = [n for n in self.names if n != name]

    def render(self) -> Element:
        return h.ul(
            [
                h.li(name, h.button("x", id=f"del-{name}", on_click=lambda n=name: self.delete(n)))
                for name in self.names
            ]
        )


async def test_a_lambda_with_a_default_keeps_it_the_loop_capture_idiom(vango: Harness) -> None:
    view = await vango.mount(Names)
    await view.click("#del-grace")
    assert view.errors == []
    assert [li.text_content for li in view.select("li")] == ["adax", "alanx"]


def got(log: list[str], what: object) -> None:
    log.append(type(what).__name__)


def logged(fn: Any) -> Any:
    """A decorator: each wrapper shares one code object, its signature is the wrapped one's."""

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        return fn(*args)

    return wrapper


class Shapes(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.log: list[str] = []

    def method(self, event: Event) -> None:
        got(self.log, event)

    def bare(self) -> None:
        got(self.log, None)

    def labelled(self, label: str, event: Event) -> None:
        got(self.log, event)

    async def later(self, event: Event) -> None:
        got(self.log, event)

    @logged
    def wrapped(self, event: Event) -> None:
        got(self.log, event)

    @logged
    def wrapped_bare(self) -> None:
        got(self.log, None)

    def render(self) -> Element:
        log = self.log
        handlers = {
            "method": self.method,
            "bare": self.bare,
            "function": functools.partial(got, log),
            "default": lambda what="kept": got(log, what),
            "partial": functools.partial(self.labelled, "x"),
            "partial-default": functools.partial(got, log, what=1),
            "args": lambda *args: got(log, args[0]),
            "async": self.later,
            "wrapped": self.wrapped,
            "wrapped-bare": self.wrapped_bare,
        }
        buttons = [h.button(name, id=name, on_click=fn) for name, fn in handlers.items()]
        return h.div(*buttons, h.p(" ".join(self.log), id="log"))


async def test_each_handler_shape_gets_the_event_or_not_as_documented(vango: Harness) -> None:
    view = await vango.mount(Shapes)
    expected = {  # the button (its handler's shape): what the handler got
        "method": "Event",
        "bare": "NoneType",
        "function": "Event",
        "default": "str",
        "partial": "Event",
        "partial-default": "int",
        "args": "Event",
        "async": "Event",
        "wrapped": "Event",
        "wrapped-bare": "NoneType",
    }
    for name in expected:
        await view.click(f"#{name}")
    assert view.errors == []
    assert dict(zip(expected, view.text("#log").split(), strict=True)) == expected


class Photos(Component):
    """The upload list of docs/guides/interaction.md, its Cancel buttons as written there."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.allow_upload("photos", accept=("image/*", ".txt"), max_entries=3)

    def render(self) -> Element:
        return h.form(
            self.upload_input("photos", id="photo-input"),
            h.ul(
                *[
                    h.li(
                        e.name,
                        h.button(
                            "Cancel",
                            id=f"cancel-{e.ref}",
                            on_click=lambda r=e.ref: self.cancel_upload("photos", r),
                        ),
                    )
                    for e in self.uploads("photos")
                ]
            ),
        )


async def test_the_upload_cancel_button_of_the_guide_cancels_its_own_entry(
    vango: Harness,
) -> None:
    view = await vango.mount(Photos)
    entries = [{"ref": r, "name": f"{r}.txt", "type": "text/plain", "size": 5} for r in "ab"]
    await view.dispatch("#photo-input", "upload", {"op": "start", "entries": entries})
    await view.click("#cancel-a")
    assert view.errors == []
    assert [li.text_content for li in view.select("li")] == ["b.txtCancel"]
