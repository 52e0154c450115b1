"""`/enter`: the Enter key in fields, with and without a default button, and on buttons."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.routing import live_page

from ._log import Logging


@live_page(title="Enter")
class Enter(Logging):
    def render(self) -> Element:
        n = self.note
        return h.main(
            h.form(
                h.input(name="first", id="first", on_keydown=n),
                h.input(name="second", id="second", on_keydown=h.on_keys(["Escape"], n)),
                h.textarea(name="notes", id="notes", on_keydown=n),
                h.input(type="checkbox", name="box", id="box"),
                h.button("Default", name="do", value="default", id="default"),
                h.button("Other", name="do", value="other", id="other"),
                id="entry",
                on_submit=n,
            ),
            h.form(h.input(name="lone", id="lone"), id="lone-form", on_submit=n),
            h.form(
                h.input(name="p1", id="p1", on_keydown=n),
                h.input(name="p2", id="p2"),
                id="pair",
                on_submit=n,
            ),
            h.form(
                h.input(name="c1", id="c1"),
                h.button("Go", id="go", on_click=n),  # the client prevents its submit
                id="clicked",
                on_submit=n,
            ),
            self.shown(),
        )
