"""`/owners`: fields and buttons tied to a form by its ``form="id"`` attribute, outside it
(and one inside a form that belongs to another)."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.routing import live_page

from ._log import Logging


@live_page(title="Owners")
class Owners(Logging):
    def render(self) -> Element:
        n = self.note
        return h.main(
            h.form(
                h.input(name="inside", id="inside", value="in"),
                h.input(name="away", id="away", form="other"),  # the other form's
                h.input(type="radio", name="size", value="s", id="small", checked=True),
                id="main",
                on_submit=n,
            ),
            h.input(name="outside", id="outside", form="main"),
            h.input(type="checkbox", name="box", id="out-box", form="main"),
            h.input(type="radio", name="size", value="l", id="large", form="main"),
            h.button("Reset", type="reset", id="out-reset", form="main"),
            h.button("Go", name="do", value="go", id="out-go", form="main"),
            h.form(h.button("Other", id="other-go"), id="other", on_submit=n),
            self.shown(),
        )
